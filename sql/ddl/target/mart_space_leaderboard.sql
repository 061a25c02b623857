-- Mart "space leaderboard": one row per (workspace_id, space_id): every space with a question or details.
-- Clustered by its key (workspace_id, space_id): dashboards filter by workspace.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_space_leaderboard (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id',
  workspace_name STRING COMMENT 'Workspace name',
  space_title STRING COMMENT 'Space title, NULL while the space was never fetched',
  space_description STRING COMMENT 'Space description',
  warehouse_id STRING COMMENT 'SQL warehouse of the space',
  questions BIGINT NOT NULL COMMENT 'Questions asked in the space',
  conversations BIGINT NOT NULL COMMENT 'Distinct conversations',
  askers BIGINT NOT NULL COMMENT 'Distinct askers',
  completed BIGINT NOT NULL COMMENT 'Questions Genie answered',
  failed BIGINT NOT NULL COMMENT 'Questions Genie failed to answer',
  cancelled BIGINT NOT NULL COMMENT 'Questions cancelled',
  success_rate DOUBLE COMMENT 'completed / (completed + failed + cancelled), NULL when none finished',
  positive_feedback BIGINT NOT NULL COMMENT 'Questions rated POSITIVE',
  negative_feedback BIGINT NOT NULL COMMENT 'Questions rated NEGATIVE',
  review_requests BIGINT NOT NULL COMMENT 'Questions whose asker requested a review',
  active_days BIGINT NOT NULL COMMENT 'Distinct days with a question',
  first_asked_at TIMESTAMP COMMENT 'First question (UTC)',
  last_asked_at TIMESTAMP COMMENT 'Latest question (UTC)',
  questions_rank INT NOT NULL COMMENT 'Rank by questions within the workspace, 1 = most questions'
) USING DELTA
CLUSTER BY (workspace_id, space_id)
COMMENT 'Mart: Genie spaces ranked by use';
