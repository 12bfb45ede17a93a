-- +goose Up
-- The tool registry: each domain worker registers its domain and tools here and heartbeats, so
-- the API and MCP server see domains come and go without a restart.
CREATE TABLE domains (
    name          text PRIMARY KEY,
    description   text        NOT NULL DEFAULT '',
    version       text        NOT NULL DEFAULT '',
    kind          text        NOT NULL,
    task_queue    text        NOT NULL,
    enabled       boolean     NOT NULL DEFAULT true,
    config        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    registered_at timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE domain_workers (
    domain       text        NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
    identity     text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, identity)
);

CREATE TABLE tools (
    name          text PRIMARY KEY,
    domain        text        NOT NULL REFERENCES domains (name) ON DELETE CASCADE,
    description   text        NOT NULL DEFAULT '',
    input_schema  jsonb       NOT NULL,
    output_schema jsonb,
    annotations   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (name LIKE domain || '.%')
);
CREATE INDEX tools_domain_idx ON tools (domain);

-- One row per tool execution attempt: allowed, denied, invalid or failed. Parameters and
-- results are redacted before they are written.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      text        NOT NULL,
    roles        text[]      NOT NULL DEFAULT '{}',
    tool         text        NOT NULL,
    domain       text        NOT NULL DEFAULT '',
    params       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    outcome      text        NOT NULL,
    error        text        NOT NULL DEFAULT '',
    result       jsonb,
    duration_ms  bigint      NOT NULL DEFAULT 0,
    workflow_id  text        NOT NULL DEFAULT '',
    run_id       text        NOT NULL DEFAULT '',
    tool_call_id text        NOT NULL DEFAULT '',
    approver     text        NOT NULL DEFAULT '',
    CHECK (outcome IN ('started', 'succeeded', 'denied', 'invalid', 'failed', 'rejected', 'expired'))
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, at DESC);
CREATE INDEX audit_log_tool_idx ON audit_log (tool, at DESC);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE tools;
DROP TABLE domain_workers;
DROP TABLE domains;
