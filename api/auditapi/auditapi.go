// Package auditapi serves the audit log to auditors, on both servers.
package auditapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"mcp-platform/api/httpapi"
	"mcp-platform/authz"
	"mcp-platform/internal/audit"
)

// Tag is the OpenAPI tag of the audit route.
var Tag = &huma.Tag{Name: "Audit", Description: "Every tool execution attempt, for auditors."}

type auditInput struct {
	User    string    `query:"user" maxLength:"128" doc:"Only this user's calls"`
	Tool    string    `query:"tool" maxLength:"100" doc:"Only this tool; a trailing * matches a prefix (hr.*)"`
	Outcome string    `query:"outcome" enum:"started,succeeded,denied,invalid,failed,rejected,expired,unknown" doc:"Only this outcome"`
	Since   time.Time `query:"since" doc:"Only calls at or after this time (RFC 3339)"`
	Until   time.Time `query:"until" doc:"Only calls before this time (RFC 3339)"`
	Limit   int       `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"Page size"`
	Cursor  string    `query:"cursor" maxLength:"512" doc:"next_cursor of the previous page"`
	TraceID string    `query:"trace_id" pattern:"^[0-9a-f]{32}$" doc:"Only the calls of this OpenTelemetry trace (32 hex digits)"`
}

type auditOutput struct {
	Body struct {
		Records    []audit.Record `json:"records" doc:"Newest first"`
		NextCursor string         `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last"`
	}
}

// Register adds GET /audit to api: every tool execution attempt, for auditors and admins.
func Register(api huma.API, log *audit.Log, enf *authz.Enforcer, logger *slog.Logger) {
	huma.Register(api, huma.Operation{
		OperationID: "list-audit-records",
		Method:      http.MethodGet,
		Path:        "/audit",
		Summary:     "Read the audit log",
		Description: "Every tool execution attempt (allowed, denied, invalid, failed), newest first, with " +
			"sensitive values redacted. For auditors and admins.",
		Tags:   []string{"Audit"},
		Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden},
	}, func(ctx context.Context, in *auditInput) (*auditOutput, error) {
		p, err := httpapi.Principal(ctx)
		if err != nil {
			return nil, err
		}
		if !enf.CanReadAudit(p) {
			return nil, huma.Error403Forbidden("only auditors and admins may read the audit log")
		}
		page, err := log.Query(ctx, audit.Filter{UserID: in.User, Tool: in.Tool, Outcome: in.Outcome, TraceID: in.TraceID,
			Since: in.Since, Until: in.Until, Limit: in.Limit, Cursor: in.Cursor})
		if errors.Is(err, audit.ErrBadCursor) {
			return nil, huma.Error400BadRequest("the cursor is not valid; start again without it")
		}
		if errors.Is(err, audit.ErrBadFilter) {
			return nil, huma.Error400BadRequest("the filter is not valid: until must be after since")
		}
		if err != nil {
			logger.ErrorContext(ctx, "audit query failed", "error", err)
			return nil, huma.Error500InternalServerError("could not read the audit log")
		}
		out := &auditOutput{}
		out.Body.Records, out.Body.NextCursor = page.Records, page.NextCursor
		if out.Body.Records == nil {
			out.Body.Records = []audit.Record{}
		}
		return out, nil
	})
}
