-- The eval runs one workspace holds: what the next collection compares the API's listing with. Params: :workspace_id
SELECT space_id, eval_run_id, eval_run_status, is_final, created_at, started_by_pipeline, results_stored, first_seen_at
FROM main.genie_analytics.genie_eval_runs
WHERE workspace_id = :workspace_id
ORDER BY space_id, created_at, eval_run_id
