-- One row per Genie message (workspace_id, message_id): the audit layer's list joined with the API's details,
-- the space's title and the statement's query-history row. Every join uses the full key, and every joined
-- side holds at most one row per key, so the mart has exactly one row per message.
WITH keys AS (
  SELECT workspace_id, message_id FROM main.genie_analytics.genie_messages_to_fetch
  UNION
  SELECT workspace_id, message_id FROM main.genie_analytics.message_details
),
workspaces AS (
  SELECT workspace_id, MAX(workspace_name) AS workspace_name
  FROM main.genie_analytics.genie_messages_to_fetch
  GROUP BY workspace_id
),
statements AS (
  -- one row per (workspace_id, statement_id): the latest update of each statement Genie ran
  SELECT q.*
  FROM system.query.history AS q
  WHERE q.statement_id IN (SELECT statement_id FROM main.genie_analytics.message_details WHERE statement_id IS NOT NULL)
    AND q.start_time >= (SELECT MIN(created_at) FROM main.genie_analytics.message_details) - INTERVAL 1 DAY
  QUALIFY ROW_NUMBER() OVER (PARTITION BY q.workspace_id, q.statement_id ORDER BY q.update_time DESC, q.end_time DESC) = 1
),
open_errors AS (
  SELECT workspace_id, message_id, error_type
  FROM main.genie_analytics.message_fetch_errors
  WHERE NOT resolved
),
joined AS (
  SELECT
    k.workspace_id,
    k.message_id,
    w.workspace_name,
    COALESCE(d.space_id, s.space_id) AS space_id,
    sp.title AS space_title,
    COALESCE(d.conversation_id, s.conversation_id) AS conversation_id,
    COALESCE(d.created_at, s.asked_at, s.first_event_time) AS asked_at,
    lower(COALESCE(d.asker_user_name, s.asker_email)) AS asker,
    CASE WHEN d.asker_user_name IS NOT NULL THEN 'api' WHEN s.asker_email IS NOT NULL THEN 'audit' END AS asker_source,
    s.ask_channel,
    d.content AS question,
    COALESCE(d.status, 'NOT_FETCHED') AS status,
    CASE
      WHEN d.message_id IS NULL THEN 'not_fetched'
      WHEN d.status IN ('COMPLETED', 'QUERY_RESULT_EXPIRED') THEN 'completed'
      WHEN d.status = 'FAILED' THEN 'failed'
      WHEN d.status = 'CANCELLED' THEN 'cancelled'
      ELSE 'in_progress'
    END AS outcome,
    d.error_type,
    d.error_message,
    d.query_description,
    d.query_sql,
    d.statement_id,
    d.query_row_count,
    d.text_answer,
    CASE
      WHEN d.feedback_rating IN ('POSITIVE', 'NEGATIVE') THEN d.feedback_rating
      WHEN s.feedback_rating IN ('POSITIVE', 'NEGATIVE') THEN s.feedback_rating
    END AS feedback_rating,
    COALESCE(s.review_requested, FALSE) AS review_requested,
    q.execution_status AS sql_execution_status,
    q.total_duration_ms AS sql_total_duration_ms,
    q.execution_duration_ms AS sql_execution_duration_ms,
    q.read_rows AS sql_read_rows,
    q.read_bytes AS sql_read_bytes,
    q.produced_rows AS sql_produced_rows,
    q.error_message AS sql_error_message,
    q.compute.warehouse_id AS sql_warehouse_id,
    d.message_id IS NOT NULL AS has_details,
    e.error_type AS fetch_error_type,
    COALESCE(s.first_seen_date, d.first_seen_date) AS first_seen_date,
    d.fetched_at
  FROM keys AS k
  LEFT JOIN main.genie_analytics.genie_messages_to_fetch AS s
    ON s.workspace_id = k.workspace_id AND s.message_id = k.message_id
  LEFT JOIN main.genie_analytics.message_details AS d
    ON d.workspace_id = k.workspace_id AND d.message_id = k.message_id
  LEFT JOIN workspaces AS w
    ON w.workspace_id = k.workspace_id
  LEFT JOIN main.genie_analytics.genie_space_details AS sp
    ON sp.workspace_id = k.workspace_id AND sp.space_id = COALESCE(d.space_id, s.space_id)
  LEFT JOIN statements AS q
    ON q.workspace_id = k.workspace_id AND q.statement_id = d.statement_id
  LEFT JOIN open_errors AS e
    ON e.workspace_id = k.workspace_id AND e.message_id = k.message_id
)
SELECT *, to_date(asked_at) AS activity_date
FROM joined
