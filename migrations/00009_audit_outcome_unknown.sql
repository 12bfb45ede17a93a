-- +goose Up
-- A call of a third-party tool that must not be repeated, which may have reached the upstream
-- without an answer coming back, ends as "unknown": it may or may not have taken effect.
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_outcome_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_outcome_check
    CHECK (outcome IN ('started', 'succeeded', 'denied', 'invalid', 'failed', 'rejected', 'expired', 'unknown'));

-- +goose Down
UPDATE audit_log SET outcome = 'failed' WHERE outcome = 'unknown';
ALTER TABLE audit_log DROP CONSTRAINT IF EXISTS audit_log_outcome_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_outcome_check
    CHECK (outcome IN ('started', 'succeeded', 'denied', 'invalid', 'failed', 'rejected', 'expired'));
