-- +goose Up
-- Every audit row names the OpenTelemetry trace of the request that made the attempt, so an
-- auditor can open the whole chat turn (HTTP request, workflow, activities, upstream call) from
-- one row. Rows written before tracing have none.
ALTER TABLE audit_log ADD COLUMN trace_id text NOT NULL DEFAULT '';
CREATE INDEX audit_log_trace_id_idx ON audit_log (trace_id) WHERE trace_id <> '';

-- +goose Down
DROP INDEX audit_log_trace_id_idx;
ALTER TABLE audit_log DROP COLUMN trace_id;
