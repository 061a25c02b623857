-- Record failed space fetches (staged from Python): one row per space, attempts counted, first attempt
-- time kept. Staged rows are the DDL's columns in DDL order; every DDL column is a key, updated or kept on
-- match (test_row_schema.py).
-- Kept on match: first_attempt_at
MERGE INTO main.genie_analytics.genie_space_fetch_errors AS t
USING __staged_space_errors AS s
ON t.workspace_id = s.workspace_id AND t.space_id = s.space_id
WHEN MATCHED THEN UPDATE SET
  error_type = s.error_type,
  http_status = s.http_status,
  error_code = s.error_code,
  error_message = s.error_message,
  permanent = s.permanent,
  attempt_count = t.attempt_count + 1,
  last_attempt_at = s.last_attempt_at,
  resolved = FALSE,
  resolved_at = NULL
WHEN NOT MATCHED THEN INSERT *
