-- Lakeview only: every (space, asker) pair with a question in the dashboard's date range (the date_range
-- parameter, UTC days). COUNT(DISTINCT asker) over any selection of workspaces and spaces is the exact
-- number of people who asked, each counted once however many spaces they asked in.
SELECT DISTINCT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  space_id,
  COALESCE(space_title, space_id) AS space,
  concat(COALESCE(space_title, space_id), ' (', COALESCE(workspace_name, workspace_id), ')') AS space_name,
  asker
FROM main.genie_analytics.mart_messages
WHERE asker IS NOT NULL AND space_id IS NOT NULL AND activity_date BETWEEN :date_range.min AND :date_range.max
