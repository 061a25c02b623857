-- Mart "top users": one row per (scope, asker); scope is a workspace id or 'all' (see mart_adoption_daily).
-- Clustered by (scope, questions_rank): the top-askers dashboard keeps questions_rank <= 20 per scope.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_askers (
  scope STRING NOT NULL COMMENT 'Workspace id, or all for every workspace together',
  asker STRING NOT NULL COMMENT 'Lower-case e-mail of the asker (API asker, else audit log asker)',
  scope_name STRING COMMENT 'Workspace name, or All workspaces',
  questions BIGINT NOT NULL COMMENT 'Questions asked',
  conversations BIGINT NOT NULL COMMENT 'Distinct conversations with a question',
  spaces BIGINT NOT NULL COMMENT 'Distinct spaces asked in',
  active_days BIGINT NOT NULL COMMENT 'Distinct days with a question',
  completed BIGINT NOT NULL COMMENT 'Questions Genie answered',
  failed BIGINT NOT NULL COMMENT 'Questions Genie failed to answer',
  negative_feedback BIGINT NOT NULL COMMENT 'Questions rated NEGATIVE',
  first_asked_at TIMESTAMP COMMENT 'First question (UTC)',
  last_asked_at TIMESTAMP COMMENT 'Latest question (UTC)',
  questions_rank INT NOT NULL COMMENT 'Rank by questions within the scope, 1 = most questions'
) USING DELTA
CLUSTER BY (scope, questions_rank)
COMMENT 'Mart: askers and their activity (top users)';
