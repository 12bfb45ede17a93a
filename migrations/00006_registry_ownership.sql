-- +goose Up
-- A domain's registration is bound to what registered it: the fingerprint of its definition
-- (tools, permissions, kind, queue) and, when its workers hold one, the hash of its
-- registration key. Task queues are unique, so no domain can claim another's.
ALTER TABLE domains ADD COLUMN definition_hash text NOT NULL DEFAULT '';
ALTER TABLE domains ADD COLUMN key_hash text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX domains_task_queue_idx ON domains (task_queue);

-- +goose Down
DROP INDEX domains_task_queue_idx;
ALTER TABLE domains DROP COLUMN key_hash;
ALTER TABLE domains DROP COLUMN definition_hash;
