-- +goose Up
-- The latest progress of each running tool call that reports it (MCP notifications/progress),
-- keyed by the call (its workflow ID and tool call ID). The worker that runs the call writes it
-- and announces it with NOTIFY; the front end that waits for the call forwards it to the caller
-- and reads the row for the last progress a lost notification did not bring. Progress only
-- increases: a lower value (a retried attempt starting over) does not replace a higher one.
CREATE TABLE tool_progress (
    call_key   text             PRIMARY KEY,
    progress   double precision NOT NULL,
    total      double precision,
    message    text             NOT NULL DEFAULT '',
    updated_at timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX tool_progress_updated_idx ON tool_progress (updated_at);

-- +goose Down
DROP TABLE tool_progress;
