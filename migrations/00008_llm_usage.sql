-- +goose Up
-- One row per LLM call: the tokens it used (as the provider reported them), whose turn it was
-- and which model answered. Rows stay when a conversation is deleted: they are the accounting
-- that the daily token budget and the usage reports read. A retried activity calls the LLM
-- again and spends again, so each attempt is its own row; re-recording one attempt is a no-op.
CREATE TABLE llm_usage (
    id                bigserial PRIMARY KEY,
    user_id           text        NOT NULL,
    conversation_id   uuid        NOT NULL,
    turn              integer     NOT NULL,
    step              integer     NOT NULL,
    attempt           integer     NOT NULL DEFAULT 1,
    provider          text        NOT NULL DEFAULT '',
    model             text        NOT NULL,
    prompt_tokens     integer     NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens integer     NOT NULL CHECK (completion_tokens >= 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, turn, step, attempt)
);
-- The budget check (a user's tokens since midnight UTC) and a user's report.
CREATE INDEX llm_usage_user_idx ON llm_usage (user_id, created_at);
-- The admins' report over every user.
CREATE INDEX llm_usage_created_idx ON llm_usage (created_at);

-- +goose Down
DROP TABLE llm_usage;
