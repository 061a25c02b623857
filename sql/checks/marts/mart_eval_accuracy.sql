-- Grain of mart_eval_accuracy: (workspace_id, space_id, eval_run_id) not null and unique; one row per DONE run of
-- genie_eval_runs.
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_eval_accuracy) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_eval_accuracy
    WHERE workspace_id IS NULL OR space_id IS NULL OR eval_run_id IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_eval_accuracy
    GROUP BY workspace_id, space_id, eval_run_id HAVING COUNT(*) > 1) AS d) AS duplicate_keys,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_eval_accuracy) AS total,
  (SELECT COUNT(*) FROM (SELECT DISTINCT workspace_id, eval_run_id FROM main.genie_analytics.genie_eval_runs
    WHERE eval_run_status = 'DONE') AS k) AS expected_total
