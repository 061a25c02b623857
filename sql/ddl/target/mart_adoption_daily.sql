-- Mart "adoption": one row per (scope, activity_date). scope is a workspace id, or 'all' for every workspace
-- together (a person is counted once across workspaces, by e-mail). Days run from the first to the last day
-- with a question, with zeros on quiet days. Askers come from the audit log's asker, overridden by the
-- API's asker (never from query history, so text-only answers count too).
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_adoption_daily (
  scope STRING NOT NULL,
  activity_date DATE NOT NULL,
  scope_name STRING,                  -- workspace name, or 'All workspaces'
  active_askers BIGINT NOT NULL,      -- distinct askers that day
  new_askers BIGINT NOT NULL,         -- askers whose first question in the scope was that day
  returning_askers BIGINT NOT NULL,   -- active_askers - new_askers
  weekly_active_askers BIGINT NOT NULL,  -- distinct askers over the 7 days ending that day
  questions BIGINT NOT NULL
) COMMENT 'Mart: daily and weekly active askers, new and returning';
