-- Grain of mart_fetch_errors: (workspace_id, object_type, error_type) not null and unique; errors add up to the rows of both fetch-error tables.
-- Each failed object counts once: the expected total is the distinct keys of both tables, so a repeated error
-- row makes the mart's open + resolved exceed it (a plain COUNT(*) would always match).
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_fetch_errors) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_fetch_errors WHERE workspace_id IS NULL OR object_type IS NULL OR error_type IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_fetch_errors GROUP BY workspace_id, object_type, error_type HAVING COUNT(*) > 1) AS d) AS duplicate_keys,
  (SELECT COALESCE(SUM(open_errors + resolved_errors), 0) FROM main.genie_analytics.mart_fetch_errors) AS total,
  (SELECT COUNT(*) FROM (SELECT DISTINCT workspace_id, message_id FROM main.genie_analytics.message_fetch_errors) AS m)
  + (SELECT COUNT(*) FROM (SELECT DISTINCT workspace_id, space_id FROM main.genie_analytics.genie_space_fetch_errors) AS s) AS expected_total
