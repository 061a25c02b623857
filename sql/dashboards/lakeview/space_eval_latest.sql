-- Lakeview only: the latest benchmark accuracy of every space, i.e. its latest DONE eval run whose UTC day
-- (run_date) is in the dashboard's date range (the date_range parameter; the range's end is "now" by default),
-- with the change from the space's previous DONE run (whether or not that run is in the range) and how many runs
-- the range holds. One row per (workspace_id, space_id).
-- space_name is the space's label on the per-space page: its title and its workspace.
WITH workspaces AS (
  SELECT workspace_id, MAX(workspace_name) AS workspace_name
  FROM main.genie_analytics.genie_messages_to_fetch
  GROUP BY workspace_id
),
in_range AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY workspace_id, space_id ORDER BY run_number DESC) AS recency,
    COUNT(*) OVER (PARTITION BY workspace_id, space_id) AS runs_in_range
  FROM main.genie_analytics.mart_eval_accuracy
  WHERE run_date BETWEEN :date_range.min AND :date_range.max
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
  e.accuracy,
  e.previous_accuracy,
  e.accuracy_change,
  e.runs_in_range
FROM in_range AS e
LEFT JOIN workspaces AS w ON w.workspace_id = e.workspace_id
WHERE e.recency = 1
ORDER BY e.accuracy, e.workspace_id, e.space_id
