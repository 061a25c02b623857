-- Daily activity per (workspace_id, space_id, activity_date), from mart_messages (one row per message).
WITH m AS (
  SELECT
    *,
    MIN(asked_at) OVER (PARTITION BY workspace_id, conversation_id) AS conversation_started_at
  FROM main.genie_analytics.mart_messages
  WHERE space_id IS NOT NULL AND activity_date IS NOT NULL
)
SELECT
  workspace_id,
  space_id,
  activity_date,
  MAX(workspace_name) AS workspace_name,
  MAX(space_title) AS space_title,
  COUNT(*) AS questions,
  COUNT(DISTINCT conversation_id) AS conversations,
  COUNT(DISTINCT CASE WHEN to_date(conversation_started_at) = activity_date THEN conversation_id END) AS new_conversations,
  COUNT(DISTINCT asker) AS askers,
  COUNT(CASE WHEN outcome = 'completed' THEN 1 END) AS completed,
  COUNT(CASE WHEN outcome = 'failed' THEN 1 END) AS failed,
  COUNT(CASE WHEN outcome = 'cancelled' THEN 1 END) AS cancelled,
  COUNT(CASE WHEN outcome = 'in_progress' THEN 1 END) AS in_progress,
  COUNT(CASE WHEN outcome = 'not_fetched' THEN 1 END) AS not_fetched,
  COUNT(CASE WHEN outcome = 'completed' THEN 1 END) / NULLIF(COUNT(CASE WHEN outcome IN ('completed', 'failed', 'cancelled') THEN 1 END), 0) AS success_rate,
  COUNT(CASE WHEN feedback_rating = 'POSITIVE' THEN 1 END) AS positive_feedback,
  COUNT(CASE WHEN feedback_rating = 'NEGATIVE' THEN 1 END) AS negative_feedback,
  COUNT(CASE WHEN review_requested THEN 1 END) AS review_requests,
  COUNT(CASE WHEN statement_id IS NOT NULL THEN 1 END) AS sql_statements,
  COUNT(CASE WHEN sql_execution_status = 'FAILED' THEN 1 END) AS failed_statements,
  COALESCE(SUM(sql_total_duration_ms), 0) AS sql_total_duration_ms
FROM m
GROUP BY workspace_id, space_id, activity_date
