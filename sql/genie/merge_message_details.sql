-- Upsert fetched messages staged from Python; attempts accumulate, the first fetch time is kept.
-- The staged rows are the DDL's columns in DDL order (genie/rows.py takes them from
-- sql/ddl/target/message_details.sql): INSERT * needs that, as DuckDB takes * by position.
-- The UPDATE SET list repeats the DDL's columns because a MERGE action is either UPDATE SET * (EXCEPT (...)
-- on recent Databricks only, not on DuckDB) or a list of assignments, and fetch_attempts needs an
-- assignment of its own. Every DDL column must be a key, updated below or kept on match: test_row_schema.py
-- fails on a column that is none of these.
-- Kept on match: first_fetched_at
MERGE INTO main.genie_analytics.message_details AS t
USING __staged_messages AS s
ON t.workspace_id = s.workspace_id AND t.message_id = s.message_id
WHEN MATCHED THEN UPDATE SET
  space_id = s.space_id,
  conversation_id = s.conversation_id,
  first_seen_date = s.first_seen_date,
  content = s.content,
  status = s.status,
  is_final = s.is_final,
  created_timestamp = s.created_timestamp,
  last_updated_timestamp = s.last_updated_timestamp,
  created_at = s.created_at,
  updated_at = s.updated_at,
  user_id = s.user_id,
  asker_user_name = s.asker_user_name,
  asker_display_name = s.asker_display_name,
  audit_asker_email = s.audit_asker_email,
  asker_differs_from_audit = s.asker_differs_from_audit,
  query_sql = s.query_sql,
  query_title = s.query_title,
  query_description = s.query_description,
  statement_id = s.statement_id,
  query_row_count = s.query_row_count,
  text_answer = s.text_answer,
  suggested_questions = s.suggested_questions,
  error_type = s.error_type,
  error_message = s.error_message,
  feedback_rating = s.feedback_rating,
  attachments_count = s.attachments_count,
  attachments_json = s.attachments_json,
  discovered_via = s.discovered_via,
  fetched_at = s.fetched_at,
  fetch_attempts = t.fetch_attempts + s.fetch_attempts
WHEN NOT MATCHED THEN INSERT *
