-- How long Genie's SQL took (total_duration_ms from query history), in buckets per workspace.
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  bucket_order,
  bucket,
  COUNT(*) AS statements
FROM (
  SELECT
    workspace_id,
    workspace_name,
    CASE
      WHEN sql_total_duration_ms < 250 THEN 1
      WHEN sql_total_duration_ms < 1000 THEN 2
      WHEN sql_total_duration_ms < 2000 THEN 3
      WHEN sql_total_duration_ms < 5000 THEN 4
      WHEN sql_total_duration_ms < 10000 THEN 5
      WHEN sql_total_duration_ms < 30000 THEN 6
      ELSE 7
    END AS bucket_order,
    CASE
      WHEN sql_total_duration_ms < 250 THEN '< 0.25 s'
      WHEN sql_total_duration_ms < 1000 THEN '0.25-1 s'
      WHEN sql_total_duration_ms < 2000 THEN '1-2 s'
      WHEN sql_total_duration_ms < 5000 THEN '2-5 s'
      WHEN sql_total_duration_ms < 10000 THEN '5-10 s'
      WHEN sql_total_duration_ms < 30000 THEN '10-30 s'
      ELSE '>= 30 s'
    END AS bucket
  FROM main.genie_analytics.mart_messages
  WHERE sql_total_duration_ms IS NOT NULL
) AS d
GROUP BY workspace_id, COALESCE(workspace_name, workspace_id), bucket_order, bucket
ORDER BY workspace_id, bucket_order
