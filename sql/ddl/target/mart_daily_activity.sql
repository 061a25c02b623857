-- Mart "daily activity": one row per (workspace_id, space_id, activity_date) with at least one question.
-- Every measure is additive across spaces and days except askers and conversations (distinct per row).
-- Clustered by (workspace_id, activity_date): dashboards filter by workspace and day.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_daily_activity (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id',
  activity_date DATE NOT NULL COMMENT 'UTC day the questions were asked',
  workspace_name STRING COMMENT 'Workspace name',
  space_title STRING COMMENT 'Space title, NULL while the space was never fetched',
  questions BIGINT NOT NULL COMMENT 'Messages asked that day',
  conversations BIGINT NOT NULL COMMENT 'Distinct conversations with a question that day',
  new_conversations BIGINT NOT NULL COMMENT 'Conversations whose first question was that day (additive over days)',
  askers BIGINT NOT NULL COMMENT 'Distinct askers that day in the space',
  completed BIGINT NOT NULL COMMENT 'Questions Genie answered (COMPLETED or QUERY_RESULT_EXPIRED)',
  failed BIGINT NOT NULL COMMENT 'Questions Genie failed to answer (FAILED)',
  cancelled BIGINT NOT NULL COMMENT 'Questions cancelled (CANCELLED)',
  in_progress BIGINT NOT NULL COMMENT 'Fetched while Genie was still working, fetched again later',
  not_fetched BIGINT NOT NULL COMMENT 'Listed from the audit log without details (yet)',
  success_rate DOUBLE COMMENT 'completed / (completed + failed + cancelled), NULL when none finished',
  positive_feedback BIGINT NOT NULL COMMENT 'Questions rated POSITIVE',
  negative_feedback BIGINT NOT NULL COMMENT 'Questions rated NEGATIVE',
  review_requests BIGINT NOT NULL COMMENT 'Questions whose asker requested a review',
  sql_statements BIGINT NOT NULL COMMENT 'Messages that ran SQL (statement_id known)',
  failed_statements BIGINT NOT NULL COMMENT 'Of those, statements that query history reports FAILED',
  sql_total_duration_ms BIGINT NOT NULL COMMENT 'Sum of total_duration_ms (average = this / statements with history)'
) USING DELTA
CLUSTER BY (workspace_id, activity_date)
COMMENT 'Mart: daily activity per workspace and space';
