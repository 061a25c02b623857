-- A few spaces of one workspace for the Dagster UI preview, the most recently changed first. Params: :workspace_id
SELECT space_id, title, warehouse_id, update_time, fetched_at
FROM main.genie_analytics.genie_space_details
WHERE workspace_id = :workspace_id
ORDER BY update_time DESC NULLS LAST, space_id
LIMIT 10
