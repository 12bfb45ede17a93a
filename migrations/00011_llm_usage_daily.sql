-- +goose Up
-- Each user's tokens per UTC day, kept with every llm_usage row in the same statement, so that
-- the daily budget check before each LLM call reads one row instead of summing all of the
-- user's calls of the day (a heavy user, or a program on the API, makes thousands).
CREATE TABLE llm_usage_daily (
    user_id text   NOT NULL,
    day     date   NOT NULL,
    tokens  bigint NOT NULL CHECK (tokens >= 0),
    PRIMARY KEY (user_id, day)
);
INSERT INTO llm_usage_daily (user_id, day, tokens)
SELECT user_id, (created_at AT TIME ZONE 'UTC')::date, sum(prompt_tokens + completion_tokens)
FROM llm_usage GROUP BY 1, 2;

-- +goose Down
DROP TABLE llm_usage_daily;
