-- Questions per workspace, day and outcome (long form, for charts that split by outcome).
SELECT workspace_id, COALESCE(workspace_name, workspace_id) AS workspace_name, activity_date, outcome, questions
FROM (
  SELECT workspace_id, workspace_name, activity_date, 'completed' AS outcome, completed AS questions FROM main.genie_analytics.mart_daily_activity
  UNION ALL
  SELECT workspace_id, workspace_name, activity_date, 'failed', failed FROM main.genie_analytics.mart_daily_activity
  UNION ALL
  SELECT workspace_id, workspace_name, activity_date, 'cancelled', cancelled FROM main.genie_analytics.mart_daily_activity
  UNION ALL
  SELECT workspace_id, workspace_name, activity_date, 'in_progress', in_progress FROM main.genie_analytics.mart_daily_activity
  UNION ALL
  SELECT workspace_id, workspace_name, activity_date, 'not_fetched', not_fetched FROM main.genie_analytics.mart_daily_activity
) AS o
WHERE questions > 0
ORDER BY activity_date, workspace_id, outcome
