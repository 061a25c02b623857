-- The latest 200 questions per workspace: question, Genie's description, SQL, answer, status, feedback.
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  COALESCE(space_title, space_id) AS space,
  message_id, asked_at, asker, question, query_description, query_sql, text_answer, status, outcome, error_type,
  feedback_rating, review_requested, sql_total_duration_ms, query_row_count
FROM main.genie_analytics.mart_messages
QUALIFY ROW_NUMBER() OVER (PARTITION BY workspace_id ORDER BY asked_at DESC, message_id) <= 200
ORDER BY asked_at DESC, message_id
