-- Latest and previous DONE eval run of every space of one workspace, for the accuracy-drop check. Params: :workspace_id
WITH done AS (
  SELECT
    workspace_id, space_id, eval_run_id, accuracy, created_at,
    ROW_NUMBER() OVER (PARTITION BY workspace_id, space_id ORDER BY created_at DESC, eval_run_id DESC) AS rn
  FROM main.genie_analytics.genie_eval_runs
  WHERE workspace_id = :workspace_id AND eval_run_status = 'DONE' AND accuracy IS NOT NULL
)
SELECT
  l.space_id,
  s.title AS space_title,
  l.eval_run_id AS latest_run_id,
  l.accuracy AS latest_accuracy,
  p.eval_run_id AS previous_run_id,
  p.accuracy AS previous_accuracy
FROM done AS l
LEFT JOIN done AS p ON p.workspace_id = l.workspace_id AND p.space_id = l.space_id AND p.rn = 2
LEFT JOIN main.genie_analytics.genie_space_details AS s ON s.workspace_id = l.workspace_id AND s.space_id = l.space_id
WHERE l.rn = 1
ORDER BY l.space_id
