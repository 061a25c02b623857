-- Lakeview only (the shared eval_accuracy has no workspace name, which the workspace filter and the per-space
-- label need): benchmark accuracy over time, one row per DONE eval run whose UTC day (run_date) is in the
-- dashboard's date range (the date_range parameter). previous_accuracy and accuracy_change compare with the space's
-- previous DONE run, whether or not that run is in the range (as mart_eval_accuracy computes them).
-- space_name is the space's label on the per-space page: its title and its workspace.
WITH workspaces AS (
  SELECT workspace_id, MAX(workspace_name) AS workspace_name
  FROM main.genie_analytics.genie_messages_to_fetch
  GROUP BY workspace_id
)
SELECT
  e.workspace_id,
  COALESCE(w.workspace_name, e.workspace_id) AS workspace_name,
  e.space_id,
  COALESCE(e.space_title, e.space_id) AS space,
  concat(COALESCE(e.space_title, e.space_id), ' (', COALESCE(w.workspace_name, e.workspace_id), ')') AS space_name,
  e.eval_run_id,
  e.run_number,
  e.run_date,
  e.finished_at,
  e.num_questions,
  e.num_correct,
  e.num_needs_review,
  e.num_bad,
  e.accuracy,
  e.previous_accuracy,
  e.accuracy_change
FROM main.genie_analytics.mart_eval_accuracy AS e
LEFT JOIN workspaces AS w ON w.workspace_id = e.workspace_id
WHERE e.run_date BETWEEN :date_range.min AND :date_range.max
ORDER BY e.workspace_id, e.space_id, e.run_number
