-- Silver rows for every message that a person touched within one workspace's date range, recomputed
-- from all of bronze (not only the range) so that the earliest day owns the row and reruns converge.
-- The ingestion principal's own events never count: not for the asker, the counts or first-seen time.
-- Params: :workspace_id, :start_date, :end_date
WITH touched AS (
  SELECT DISTINCT message_id
  FROM main.genie_analytics.genie_audit_events
  WHERE workspace_id = :workspace_id
    AND event_date BETWEEN :start_date AND :end_date
    AND message_id IS NOT NULL AND space_id IS NOT NULL AND conversation_id IS NOT NULL
    AND status_code = 200 AND NOT is_ingestion_principal
  UNION
  -- An ask in the range can name the asker of a message first seen up to 7 days later (ask events carry no
  -- message id, see asks below), so a late ask row recomputes those messages too.
  SELECT s.message_id
  FROM main.genie_analytics.genie_messages_to_fetch AS s
  JOIN main.genie_analytics.genie_audit_events AS a
    ON a.workspace_id = s.workspace_id AND a.space_id = s.space_id
    AND (a.conversation_id = s.conversation_id OR a.conversation_id IS NULL)
  WHERE s.workspace_id = :workspace_id
    AND s.first_seen_date BETWEEN :start_date AND date_add(:end_date, 7)
    AND a.event_date BETWEEN :start_date AND :end_date
    AND a.action_kind = 'ask' AND a.status_code = 200 AND NOT a.is_ingestion_principal
    AND a.event_time <= s.first_event_time
),
person_events AS (
  SELECT e.*
  FROM main.genie_analytics.genie_audit_events AS e
  JOIN touched AS t ON e.message_id = t.message_id
  WHERE e.workspace_id = :workspace_id
    AND e.status_code = 200 AND NOT e.is_ingestion_principal
    AND e.space_id IS NOT NULL AND e.conversation_id IS NOT NULL
),
ranked AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY message_id ORDER BY event_time, event_id) AS nth_event,
    ROW_NUMBER() OVER (
      PARTITION BY message_id
      ORDER BY CASE WHEN action_kind IN ('read', 'query_result') THEN 0 ELSE 1 END, event_time, event_id
    ) AS nth_reader,
    ROW_NUMBER() OVER (
      PARTITION BY message_id
      ORDER BY CASE WHEN feedback_rating IS NOT NULL THEN 0 ELSE 1 END, event_time DESC, event_id DESC
    ) AS nth_rating
  FROM person_events
),
per_message AS (
  SELECT
    message_id,
    MAX(CASE WHEN nth_event = 1 THEN space_id END) AS space_id,
    MAX(CASE WHEN nth_event = 1 THEN conversation_id END) AS conversation_id,
    MAX(CASE WHEN nth_event = 1 THEN workspace_name END) AS workspace_name,
    MAX(CASE WHEN nth_event = 1 THEN workspace_url END) AS workspace_url,
    MAX(CASE WHEN nth_event = 1 THEN action_name END) AS discovered_via,
    MAX(CASE WHEN nth_reader = 1 THEN user_email END) AS reader_email,
    MAX(CASE WHEN nth_reader = 1 THEN event_time END) AS first_read_time,
    MAX(CASE WHEN nth_rating = 1 THEN feedback_rating END) AS feedback_rating,
    MIN(event_time) AS first_event_time,
    MAX(event_time) AS last_event_time,
    COUNT(*) AS event_count,
    COUNT(DISTINCT user_email) AS reader_count,
    MAX(CASE WHEN action_kind = 'comment' THEN 1 ELSE 0 END) = 1 AS review_requested
  FROM ranked
  GROUP BY message_id
),
asks AS (
  -- Genie conversations belong to one user, so the asker is whoever made the latest ask in the message's
  -- conversation before the message was first touched. Ask events carry no message id; when an ask lacks
  -- the conversation id, the reader's own ask in the space just before their first read is used instead.
  SELECT
    m.message_id,
    a.user_email,
    a.event_time AS asked_at,
    CASE WHEN a.action_name LIKE 'genie%' THEN 'API' ELSE 'UI' END AS ask_channel,
    ROW_NUMBER() OVER (PARTITION BY m.message_id ORDER BY a.event_time DESC, a.event_id DESC) AS nth_ask
  FROM per_message AS m
  JOIN main.genie_analytics.genie_audit_events AS a
    ON a.workspace_id = :workspace_id
    AND a.action_kind = 'ask'
    AND a.status_code = 200
    AND NOT a.is_ingestion_principal
    AND a.space_id = m.space_id
    AND (
      a.conversation_id = m.conversation_id
      OR (a.conversation_id IS NULL AND a.user_email = m.reader_email
          AND a.event_time >= m.first_read_time - INTERVAL 15 MINUTES)
    )
    AND a.event_time <= m.first_event_time
    AND a.event_date BETWEEN date_sub(to_date(m.first_event_time), 7) AND to_date(m.first_event_time)
)
SELECT
  :workspace_id AS workspace_id,
  m.message_id,
  m.space_id,
  m.conversation_id,
  m.workspace_name,
  m.workspace_url,
  to_date(m.first_event_time) AS first_seen_date,
  m.first_event_time,
  m.last_event_time,
  COALESCE(a.user_email, m.reader_email) AS asker_email,
  a.asked_at,
  a.ask_channel,
  m.discovered_via,
  m.event_count,
  m.reader_count,
  m.feedback_rating,
  m.review_requested
FROM per_message AS m
LEFT JOIN asks AS a ON a.message_id = m.message_id AND a.nth_ask = 1
