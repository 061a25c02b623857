-- Record failed attempts staged from Python: one row per message, attempts counted, latest error kept,
-- first attempt time kept; a failure after a resolution opens the row again. The message's space and
-- conversation never change, and its day follows the audit log (genie/sync_from_audit.sql), not the fetch.
-- Staged rows are the DDL's columns in DDL order (genie/rows.py); every DDL column must be a key, updated
-- below or kept on match (test_row_schema.py).
-- Kept on match: space_id, conversation_id, first_seen_date, first_attempt_at
MERGE INTO main.genie_analytics.message_fetch_errors AS t
USING __staged_errors AS s
ON t.workspace_id = s.workspace_id AND t.message_id = s.message_id
WHEN MATCHED THEN UPDATE SET
  error_type = s.error_type,
  http_status = s.http_status,
  error_code = s.error_code,
  error_message = s.error_message,
  permanent = s.permanent,
  attempt_count = t.attempt_count + s.attempt_count,
  last_attempt_at = s.last_attempt_at,
  resolved = FALSE,
  resolved_at = NULL
WHEN NOT MATCHED THEN INSERT *
