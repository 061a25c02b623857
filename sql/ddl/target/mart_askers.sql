-- Mart "top users": one row per (scope, asker); scope is a workspace id or 'all' (see mart_adoption_daily).
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_askers (
  scope STRING NOT NULL,
  asker STRING NOT NULL,
  scope_name STRING,
  questions BIGINT NOT NULL,
  conversations BIGINT NOT NULL,
  spaces BIGINT NOT NULL,
  active_days BIGINT NOT NULL,
  completed BIGINT NOT NULL,
  failed BIGINT NOT NULL,
  negative_feedback BIGINT NOT NULL,
  first_asked_at TIMESTAMP,
  last_asked_at TIMESTAMP,
  questions_rank INT NOT NULL         -- 1 = most questions within the scope
) COMMENT 'Mart: askers and their activity (top users)';
