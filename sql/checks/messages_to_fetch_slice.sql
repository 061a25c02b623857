-- Data-quality figures of silver for one workspace: duplicate keys (table-wide for the
-- workspace, since a message may be seen on several days), and rows whose owning day disagrees with
-- the earliest person event in bronze (stale ownership after late audit rows).
-- Params: :workspace_id, :start_date, :end_date
WITH first_seen AS (
  SELECT message_id, MIN(event_date) AS first_date
  FROM main.genie_analytics.genie_audit_events
  WHERE workspace_id = :workspace_id AND message_id IS NOT NULL AND space_id IS NOT NULL
    AND conversation_id IS NOT NULL AND status_code = 200 AND NOT is_ingestion_principal
  GROUP BY message_id
)
SELECT
  (SELECT COUNT(*) - COUNT(DISTINCT message_id) FROM main.genie_analytics.genie_messages_to_fetch
    WHERE workspace_id = :workspace_id) AS duplicate_keys,
  (SELECT COUNT(*) FROM main.genie_analytics.genie_messages_to_fetch AS s
    JOIN first_seen AS f ON f.message_id = s.message_id
    WHERE s.workspace_id = :workspace_id AND f.first_date BETWEEN :start_date AND :end_date
      AND s.first_seen_date <> f.first_date) AS misowned_rows,
  (SELECT COUNT(*) FROM first_seen AS f
    LEFT JOIN main.genie_analytics.genie_messages_to_fetch AS s
      ON s.workspace_id = :workspace_id AND s.message_id = f.message_id
    WHERE f.first_date BETWEEN :start_date AND :end_date AND s.message_id IS NULL) AS missing_rows
