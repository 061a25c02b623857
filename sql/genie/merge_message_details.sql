-- Upsert fetched messages staged from Python; attempts accumulate, the first fetch time is kept.
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
