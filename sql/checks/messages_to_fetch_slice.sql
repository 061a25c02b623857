-- Data-quality figures of silver for one workspace: duplicate keys (table-wide for the
-- workspace, since a message may be seen on several days), and rows whose owning day disagrees with
-- the earliest person event in bronze (stale ownership after late audit rows).
-- Only the messages with person events in the range can be first seen in it, so only they are looked up, in
-- bronze days from the earliest of the range and their silver first_seen_date up to the range's end (their
-- earliest event is at most the range's end). A message whose bronze events start before both belongs to an
-- earlier day: that day's check counts it (it reads from its own start).
-- Params: :workspace_id, :start_date, :end_date
WITH slice_messages AS (
  SELECT DISTINCT message_id
  FROM main.genie_analytics.genie_audit_events
  WHERE workspace_id = :workspace_id AND event_date BETWEEN :start_date AND :end_date
    AND message_id IS NOT NULL AND space_id IS NOT NULL
    AND conversation_id IS NOT NULL AND status_code = 200 AND NOT is_ingestion_principal
),
read_from AS (
  SELECT LEAST(:start_date, COALESCE(MIN(s.first_seen_date), :start_date)) AS day
  FROM slice_messages AS m
  JOIN main.genie_analytics.genie_messages_to_fetch AS s
    ON s.workspace_id = :workspace_id AND s.message_id = m.message_id
),
first_seen AS (
  SELECT e.message_id, MIN(e.event_date) AS first_date
  FROM main.genie_analytics.genie_audit_events AS e
  JOIN slice_messages AS m ON m.message_id = e.message_id
  WHERE e.workspace_id = :workspace_id
    AND e.event_date BETWEEN (SELECT day FROM read_from) AND :end_date
    AND e.space_id IS NOT NULL AND e.conversation_id IS NOT NULL
    AND e.status_code = 200 AND NOT e.is_ingestion_principal
  GROUP BY e.message_id
)
SELECT
  (SELECT COUNT(*) - COUNT(DISTINCT message_id) FROM main.genie_analytics.genie_messages_to_fetch
    WHERE workspace_id = :workspace_id) AS duplicate_keys,
  COUNT_IF(s.message_id IS NOT NULL AND s.first_seen_date <> f.first_date) AS misowned_rows,
  COUNT_IF(s.message_id IS NULL) AS missing_rows
FROM first_seen AS f
LEFT JOIN main.genie_analytics.genie_messages_to_fetch AS s
  ON s.workspace_id = :workspace_id AND s.message_id = f.message_id
WHERE f.first_date BETWEEN :start_date AND :end_date
