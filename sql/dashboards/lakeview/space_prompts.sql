-- Lakeview only: the latest 100 questions of every space in the dashboard's date range (the date_range
-- parameter, UTC days), for the per-space page (the shared recent_prompts keeps 200 per workspace).
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  space_id,
  COALESCE(space_title, space_id) AS space,
  concat(COALESCE(space_title, space_id), ' (', COALESCE(workspace_name, workspace_id), ')') AS space_name,
  message_id, conversation_id, asked_at, asker, question, query_description, query_sql, text_answer, status, outcome,
  error_type, feedback_rating, review_requested, sql_total_duration_ms
FROM main.genie_analytics.mart_messages
WHERE space_id IS NOT NULL AND activity_date BETWEEN :date_range.min AND :date_range.max
QUALIFY ROW_NUMBER() OVER (PARTITION BY workspace_id, space_id ORDER BY asked_at DESC, message_id) <= 100
ORDER BY asked_at DESC, message_id
