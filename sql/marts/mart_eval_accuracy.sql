-- Accuracy over time per space: every DONE eval run, numbered within its space, with the previous run's accuracy.
WITH done AS (
  SELECT
    r.*,
    ROW_NUMBER() OVER (PARTITION BY r.workspace_id, r.space_id ORDER BY r.created_at, r.eval_run_id) AS rn,
    COUNT(*) OVER (PARTITION BY r.workspace_id, r.space_id) AS runs
  FROM main.genie_analytics.genie_eval_runs AS r
  WHERE r.eval_run_status = 'DONE'
),
workspaces AS (
  SELECT workspace_id, MAX(workspace_name) AS workspace_name
  FROM main.genie_analytics.genie_messages_to_fetch
  GROUP BY workspace_id
)
SELECT
  d.workspace_id,
  d.space_id,
  d.eval_run_id,
  s.title AS space_title,
  CAST(d.rn AS INT) AS run_number,
  CAST(d.created_at AS DATE) AS run_date,
  d.created_at,
  d.updated_at AS finished_at,
  d.num_questions,
  d.num_correct,
  d.num_needs_review,
  d.num_bad,
  d.accuracy,
  LAG(d.accuracy) OVER (PARTITION BY d.workspace_id, d.space_id ORDER BY d.rn) AS previous_accuracy,
  d.accuracy - LAG(d.accuracy) OVER (PARTITION BY d.workspace_id, d.space_id ORDER BY d.rn) AS accuracy_change,
  d.started_by_pipeline,
  d.rn = d.runs AS is_latest,
  w.workspace_name
FROM done AS d
LEFT JOIN main.genie_analytics.genie_space_details AS s ON s.workspace_id = d.workspace_id AND s.space_id = d.space_id
LEFT JOIN workspaces AS w ON w.workspace_id = d.workspace_id
