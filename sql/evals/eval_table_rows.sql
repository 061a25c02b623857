-- Rows one workspace holds in the eval tables: the dagster/row_count and figures of genie_eval_runs. Params: :workspace_id
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.genie_eval_runs WHERE workspace_id = :workspace_id) AS eval_runs,
  (SELECT COUNT(*) FROM main.genie_analytics.genie_eval_runs
    WHERE workspace_id = :workspace_id AND NOT is_final) AS open_runs,
  (SELECT COUNT(*) FROM main.genie_analytics.genie_eval_results WHERE workspace_id = :workspace_id) AS eval_results
