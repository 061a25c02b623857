-- Mart "daily activity": one row per (workspace_id, space_id, activity_date) with at least one question.
-- Every measure is additive across spaces and days except askers and conversations (distinct per row).
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_daily_activity (
  workspace_id STRING NOT NULL,
  space_id STRING NOT NULL,
  activity_date DATE NOT NULL,
  workspace_name STRING,
  space_title STRING,
  questions BIGINT NOT NULL,          -- messages asked that day
  conversations BIGINT NOT NULL,      -- distinct conversations with a question that day
  new_conversations BIGINT NOT NULL,  -- conversations whose first question was that day (additive over days)
  askers BIGINT NOT NULL,             -- distinct askers that day in the space
  completed BIGINT NOT NULL,
  failed BIGINT NOT NULL,
  cancelled BIGINT NOT NULL,
  in_progress BIGINT NOT NULL,        -- fetched while Genie was still working; fetched again later
  not_fetched BIGINT NOT NULL,        -- listed from the audit log, no details (yet)
  success_rate DOUBLE,                -- completed / (completed + failed + cancelled); NULL when none finished
  positive_feedback BIGINT NOT NULL,
  negative_feedback BIGINT NOT NULL,
  review_requests BIGINT NOT NULL,
  sql_statements BIGINT NOT NULL,     -- messages that ran SQL (statement_id known)
  failed_statements BIGINT NOT NULL,  -- of those, query history says FAILED
  sql_total_duration_ms BIGINT NOT NULL  -- sum of total_duration_ms (average = this / statements with history)
) COMMENT 'Mart: daily activity per workspace and space';
