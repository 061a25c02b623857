-- Lakeview only: the latest benchmark accuracy of every space, i.e. its latest DONE eval run whose UTC day
-- (run_date) is in the dashboard's date range (the date_range parameter; the range's end is "now" by default),
-- with the change from the space's previous DONE run (whether or not that run is in the range) and how many runs
-- the range holds. One row per (workspace_id, space_id).
WITH in_range AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY workspace_id, space_id ORDER BY run_number DESC) AS recency,
    COUNT(*) OVER (PARTITION BY workspace_id, space_id) AS runs_in_range
  FROM main.genie_analytics.mart_eval_accuracy
  WHERE run_date BETWEEN :date_range.min AND :date_range.max
)
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  space_id,
  COALESCE(space_title, space_id) AS space,
  eval_run_id,
  run_number,
  run_date,
  finished_at,
  num_questions,
  num_correct,
  accuracy,
  previous_accuracy,
  accuracy_change,
  runs_in_range
FROM in_range
WHERE recency = 1
ORDER BY accuracy, workspace_id, space_id
