-- Mart "adoption": one row per (scope, activity_date). scope is a workspace id, or 'all' for every workspace
-- together (a person is counted once across workspaces, by e-mail). Days run from the first to the last day
-- with a question, with zeros on quiet days. Askers come from the audit log's asker, overridden by the
-- API's asker (never from query history, so text-only answers count too).
-- Clustered by (scope, activity_date): dashboards pick a scope and a range of days.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_adoption_daily (
  scope STRING NOT NULL COMMENT 'Workspace id, or all for every workspace together',
  activity_date DATE NOT NULL COMMENT 'UTC day',
  scope_name STRING COMMENT 'Workspace name, or All workspaces',
  active_askers BIGINT NOT NULL COMMENT 'Distinct askers that day',
  new_askers BIGINT NOT NULL COMMENT 'Askers whose first question in the scope was that day',
  returning_askers BIGINT NOT NULL COMMENT 'active_askers - new_askers',
  weekly_active_askers BIGINT NOT NULL COMMENT 'Distinct askers over the 7 days ending that day',
  questions BIGINT NOT NULL COMMENT 'Questions asked that day'
) USING DELTA
CLUSTER BY (scope, activity_date)
COMMENT 'Mart: daily and weekly active askers, new and returning';
