-- The latest 100 messages per workspace rated NEGATIVE, with the SQL Genie wrote.
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  COALESCE(space_title, space_id) AS space,
  message_id, asked_at, asker, question, query_description, query_sql, text_answer, status, outcome, error_type,
  review_requested, space_id
FROM main.genie_analytics.mart_messages
WHERE feedback_rating = 'NEGATIVE'
QUALIFY ROW_NUMBER() OVER (PARTITION BY workspace_id ORDER BY asked_at DESC, message_id) <= 100
ORDER BY asked_at DESC, message_id
