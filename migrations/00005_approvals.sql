-- +goose Up
-- Requests for human approval of consequential tool calls. The waiting itself is a Temporal
-- workflow; this table lets people find what they may decide, across conversations.
CREATE TABLE approvals (
    id              text PRIMARY KEY,
    workflow_id     text        NOT NULL,
    conversation_id uuid REFERENCES conversations (id) ON DELETE CASCADE,
    turn            integer     NOT NULL DEFAULT 0,
    tool_call_id    text        NOT NULL,
    tool            text        NOT NULL,
    domain          text        NOT NULL,
    arguments       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    args_hash       text        NOT NULL,
    requester       text        NOT NULL,
    approver_roles  text[]      NOT NULL,
    allow_self      boolean     NOT NULL DEFAULT false,
    reason          text        NOT NULL DEFAULT '',
    status          text        NOT NULL DEFAULT 'pending',
    requested_at    timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    decided_by      text        NOT NULL DEFAULT '',
    comment         text        NOT NULL DEFAULT '',
    decided_at      timestamptz,
    CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled'))
);
CREATE INDEX approvals_pending_idx ON approvals (status, requested_at DESC);
CREATE INDEX approvals_conversation_idx ON approvals (conversation_id);

-- +goose Down
DROP TABLE approvals;
