-- Rows each (workspace, day) partition owns in message_details and message_fetch_errors (first_seen_date), per
-- day of one workspace's date range: the dagster/row_count of both assets in the UI (days without rows are
-- absent). Both tables are clustered on (workspace_id, first_seen_date). Params: :workspace_id, :start_date, :end_date
SELECT
  first_seen_date AS day,
  SUM(in_details) AS details_rows,
  SUM(in_errors) AS fetch_error_rows
FROM (
  SELECT first_seen_date, 1 AS in_details, 0 AS in_errors
  FROM main.genie_analytics.message_details
  WHERE workspace_id = :workspace_id AND first_seen_date BETWEEN :start_date AND :end_date
  UNION ALL
  SELECT first_seen_date, 0 AS in_details, 1 AS in_errors
  FROM main.genie_analytics.message_fetch_errors
  WHERE workspace_id = :workspace_id AND first_seen_date BETWEEN :start_date AND :end_date
) AS t
GROUP BY first_seen_date
