-- Every message of the newest days, one row each, newest first: the local page's search, its asker, error-type,
-- status and feedback filters, and its exact figures over any date range (distinct askers and conversations,
-- SQL duration percentiles). Bounded: whole days, newest first, up to 100,000 messages (the newest day always);
-- the texts (question, Genie's description, SQL, answer) only for the newest 20,000 (whole days again), NULL for
-- older ones. Same rows as mart_daily_activity counts (space and day known). dashboard/pack.py keeps these two
-- budgets (MESSAGE_BUDGET, TEXT_BUDGET), cuts long texts and states on the page how far back each reaches.
WITH m AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY workspace_id, conversation_id ORDER BY asked_at, message_id) AS turn
  FROM main.genie_analytics.mart_messages
  WHERE space_id IS NOT NULL AND activity_date IS NOT NULL
),
per_day AS (
  SELECT activity_date, COUNT(*) AS messages
  FROM m
  GROUP BY activity_date
),
days AS (
  SELECT
    activity_date,
    SUM(messages) OVER (ORDER BY activity_date DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS up_to_day,
    ROW_NUMBER() OVER (ORDER BY activity_date DESC) AS day_rank
  FROM per_day
)
SELECT
  m.workspace_id,
  COALESCE(m.workspace_name, m.workspace_id) AS workspace_name,
  m.space_id,
  COALESCE(m.space_title, m.space_id) AS space,
  m.message_id,
  m.conversation_id,
  m.asked_at,
  m.activity_date,
  m.asker,
  m.outcome,
  CASE WHEN m.outcome = 'failed' THEN COALESCE(m.error_type, 'UNKNOWN') END AS error_type,
  m.feedback_rating,
  m.review_requested,
  m.conversation_id IS NOT NULL AND m.turn = 1 AS starts_conversation,
  m.statement_id IS NOT NULL AS has_statement,
  COALESCE(m.sql_execution_status = 'FAILED', FALSE) AS statement_failed,
  m.sql_total_duration_ms,
  d.up_to_day <= 20000 OR d.day_rank = 1 AS has_text,
  CASE WHEN d.up_to_day <= 20000 OR d.day_rank = 1 THEN m.question END AS question,
  CASE WHEN d.up_to_day <= 20000 OR d.day_rank = 1 THEN m.query_description END AS query_description,
  CASE WHEN d.up_to_day <= 20000 OR d.day_rank = 1 THEN m.query_sql END AS query_sql,
  CASE WHEN d.up_to_day <= 20000 OR d.day_rank = 1 THEN m.text_answer END AS text_answer,
  m.query_row_count
FROM m
JOIN days AS d ON d.activity_date = m.activity_date
WHERE d.up_to_day <= 100000 OR d.day_rank = 1
ORDER BY m.asked_at DESC, m.workspace_id, m.message_id
