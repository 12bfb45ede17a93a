// Reserved for the audit view. The audit log is served by the MCP server (GET /audit on its own
// port); the gateway, the only API this UI talks to, does not expose it yet.
export function AuditPlaceholder() {
  return (
    <section className="page" aria-labelledby="audit-h">
      <header className="page-head">
        <div>
          <h1 id="audit-h">Audit log</h1>
          <p className="muted">Every tool call — allowed, denied or failed — with who, when, outcome and approver.</p>
        </div>
      </header>
      <div className="empty placeholder" data-testid="audit-placeholder">
        <p className="empty-title">Coming soon</p>
        <p className="muted">
          The audit log is kept by the MCP server (<code>GET /audit</code> on port 8001). This page will show it once the
          gateway API exposes it.
        </p>
      </div>
    </section>
  )
}
