-- Mart "space leaderboard": one row per (workspace_id, space_id): every space with a question or details.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_space_leaderboard (
  workspace_id STRING NOT NULL,
  space_id STRING NOT NULL,
  workspace_name STRING,
  space_title STRING,
  space_description STRING,
  warehouse_id STRING,
  questions BIGINT NOT NULL,
  conversations BIGINT NOT NULL,
  askers BIGINT NOT NULL,
  completed BIGINT NOT NULL,
  failed BIGINT NOT NULL,
  cancelled BIGINT NOT NULL,
  success_rate DOUBLE,                -- completed / (completed + failed + cancelled)
  positive_feedback BIGINT NOT NULL,
  negative_feedback BIGINT NOT NULL,
  review_requests BIGINT NOT NULL,
  active_days BIGINT NOT NULL,
  first_asked_at TIMESTAMP,
  last_asked_at TIMESTAMP,
  questions_rank INT NOT NULL         -- 1 = most questions within the workspace
) COMMENT 'Mart: Genie spaces ranked by use';
