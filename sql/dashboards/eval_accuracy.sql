-- Benchmark accuracy over time per space: one point per DONE eval run (x: finished_at, y: accuracy, series: space).
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
  num_needs_review,
  num_bad,
  accuracy,
  previous_accuracy,
  accuracy_change,
  is_latest
FROM main.genie_analytics.mart_eval_accuracy
ORDER BY workspace_id, space_id, run_number
