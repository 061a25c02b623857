-- Silver rows for every message that a person touched within one workspace's date range, recomputed
-- from bronze (not only the range) so that the earliest day owns the row and reruns converge.
-- The ingestion principal's own events never count: not for the asker, the counts or first-seen time.
-- Bronze is read only between the touched messages' earliest and latest days (bounds): the range itself, widened
-- to the first_seen_date and last event day silver already holds for them. An event outside those days was
-- loaded by the bronze run of its own day, whose silver run recomputed the message from it (the audit layer job
-- runs both), so silver's bounds already cover it; a late row arrives in a range run of its own day, which reads
-- from that day. No horizon: a message read again 60 days later is recomputed from all of its 60 days.
-- Every bronze read carries an event_date filter the engine can prune by (the table clusters by event_date).
-- Params: :workspace_id, :start_date, :end_date
WITH range_asks AS (
  SELECT space_id, conversation_id, event_time
  FROM main.genie_analytics.genie_audit_events
  WHERE workspace_id = :workspace_id
    AND event_date BETWEEN :start_date AND :end_date
    AND action_kind = 'ask' AND status_code = 200 AND NOT is_ingestion_principal
),
recent_silver AS (
  SELECT message_id, space_id, conversation_id, first_event_time
  FROM main.genie_analytics.genie_messages_to_fetch
  WHERE workspace_id = :workspace_id
    AND first_seen_date BETWEEN :start_date AND date_add(:end_date, 7)
),
touched AS (
  SELECT DISTINCT message_id
  FROM main.genie_analytics.genie_audit_events
  WHERE workspace_id = :workspace_id
    AND event_date BETWEEN :start_date AND :end_date
    AND message_id IS NOT NULL AND space_id IS NOT NULL AND conversation_id IS NOT NULL
    AND status_code = 200 AND NOT is_ingestion_principal
  UNION
  -- An ask in the range can name the asker of a message first seen up to 7 days later (ask events carry no
  -- message id, see asks below), so a late ask row recomputes those messages too: asks in the message's
  -- conversation, or naming no conversation in its space (two equality joins, not one OR).
  SELECT s.message_id
  FROM recent_silver AS s
  JOIN range_asks AS a ON a.space_id = s.space_id AND a.conversation_id = s.conversation_id
  WHERE a.event_time <= s.first_event_time
  UNION
  SELECT s.message_id
  FROM recent_silver AS s
  JOIN range_asks AS a ON a.space_id = s.space_id
  WHERE a.conversation_id IS NULL AND a.event_time <= s.first_event_time
),
bounds AS (
  SELECT
    LEAST(:start_date, COALESCE(MIN(s.first_seen_date), :start_date)) AS read_from,
    GREATEST(:end_date, COALESCE(MAX(to_date(s.last_event_time)), :end_date)) AS read_to
  FROM touched AS t
  JOIN main.genie_analytics.genie_messages_to_fetch AS s
    ON s.workspace_id = :workspace_id AND s.message_id = t.message_id
),
person_events AS (
  SELECT e.*
  FROM main.genie_analytics.genie_audit_events AS e
  JOIN touched AS t ON e.message_id = t.message_id
  WHERE e.workspace_id = :workspace_id
    AND e.event_date BETWEEN (SELECT read_from FROM bounds) AND (SELECT read_to FROM bounds)
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
ask_keys AS (
  -- Genie conversations belong to one user, so the asker is whoever made the latest ask in the message's
  -- conversation before the message was first touched. Ask events carry no message id; when an ask lacks
  -- the conversation id, the reader's own ask in the space just before their first read is used instead.
  -- Each message is looked up under two keys (its conversation; '~' and its reader for asks naming no
  -- conversation; ids are hex, so the two never meet): one equality join, not an OR over the space's asks.
  SELECT message_id, space_id, conversation_id AS ask_key, first_event_time,
         CAST(NULL AS TIMESTAMP) AS asked_not_before
  FROM per_message
  UNION ALL
  SELECT message_id, space_id, concat('~', reader_email) AS ask_key, first_event_time,
         first_read_time - INTERVAL 15 MINUTES AS asked_not_before
  FROM per_message
  WHERE reader_email IS NOT NULL
),
ask_days AS (
  -- ... on each of the 7 days before its first-seen day and that day: event_date is an equality key of the join
  -- below, so the engine reads only the bronze days the keys span (and nothing compares every ask of the space).
  SELECT k.*, CAST(date_sub(to_date(k.first_event_time), back.days) AS DATE) AS ask_date
  FROM ask_keys AS k
  CROSS JOIN (VALUES (0), (1), (2), (3), (4), (5), (6), (7)) AS back(days)
),
matched_asks AS (
  SELECT k.message_id, a.user_email, a.event_time, a.event_id, a.action_name
  FROM ask_days AS k
  JOIN main.genie_analytics.genie_audit_events AS a
    ON a.event_date = k.ask_date
    AND a.space_id = k.space_id
    AND COALESCE(a.conversation_id, concat('~', a.user_email)) = k.ask_key
  WHERE a.workspace_id = :workspace_id
    AND a.action_kind = 'ask' AND a.status_code = 200 AND NOT a.is_ingestion_principal
    AND a.event_time <= k.first_event_time
    AND (k.asked_not_before IS NULL OR a.event_time >= k.asked_not_before)
),
asks AS (
  SELECT
    message_id,
    user_email,
    event_time AS asked_at,
    CASE WHEN action_name LIKE 'genie%' THEN 'API' ELSE 'UI' END AS ask_channel,
    ROW_NUMBER() OVER (PARTITION BY message_id ORDER BY event_time DESC, event_id DESC) AS nth_ask
  FROM matched_asks
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
