-- +goose Up
-- Conversations belong to one user; each chat turn is a Temporal workflow (chat-<id>-<turn>).
CREATE TABLE conversations (
    id         uuid PRIMARY KEY,
    user_id    text        NOT NULL,
    title      text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_turn  integer     NOT NULL DEFAULT 0
);
CREATE INDEX conversations_user_idx ON conversations (user_id, updated_at DESC, id DESC);

CREATE TABLE turns (
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    turn            integer     NOT NULL,
    workflow_id     text        NOT NULL UNIQUE,
    status          text        NOT NULL DEFAULT 'running',
    error           text        NOT NULL DEFAULT '',
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    PRIMARY KEY (conversation_id, turn),
    CHECK (status IN ('running', 'awaiting_approval', 'completed', 'failed', 'cancelled'))
);

-- Messages are keyed by (conversation, turn, seq): the workflow assigns seq deterministically,
-- so a retried activity rewrites its message instead of adding a duplicate.
CREATE TABLE messages (
    id              bigserial PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    turn            integer     NOT NULL,
    seq             integer     NOT NULL,
    role            text        NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content         text        NOT NULL DEFAULT '',
    tool_calls      jsonb,
    tool_call_id    text        NOT NULL DEFAULT '',
    tool_name       text        NOT NULL DEFAULT '',
    tool_status     text        NOT NULL DEFAULT '',
    data            jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, turn, seq)
);

-- Per-conversation events with increasing IDs for the SSE stream (Last-Event-ID resumes).
CREATE TABLE events (
    id              bigserial PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    turn            integer     NOT NULL DEFAULT 0,
    type            text        NOT NULL,
    data            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_conversation_idx ON events (conversation_id, id);

-- +goose Down
DROP TABLE events;
DROP TABLE messages;
DROP TABLE turns;
DROP TABLE conversations;
