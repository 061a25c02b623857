-- Nothing lost, nothing duplicated: for one workspace's date range, every listed message (within the
-- space allow list) has a message record or a fetch-error record; keys are unique table-wide.
-- Params: :workspace_id, :start_date, :end_date, :space_ids
WITH listed AS (
  SELECT s.workspace_id, s.message_id
  FROM main.genie_analytics.genie_messages_to_fetch AS s
  WHERE s.workspace_id = :workspace_id AND s.first_seen_date BETWEEN :start_date AND :end_date
    AND (:space_ids = '' OR array_contains(split(:space_ids, ','), s.space_id))
)
SELECT
  (SELECT COUNT(*) FROM listed) AS listed,
  (SELECT COUNT(*) FROM listed AS l
    WHERE NOT EXISTS (SELECT 1 FROM main.genie_analytics.message_details AS d
                      WHERE d.workspace_id = l.workspace_id AND d.message_id = l.message_id)
      AND NOT EXISTS (SELECT 1 FROM main.genie_analytics.message_fetch_errors AS e
                      WHERE e.workspace_id = l.workspace_id AND e.message_id = l.message_id)) AS unaccounted,
  (SELECT COUNT(*) FROM main.genie_analytics.message_details AS d JOIN listed AS l
     ON d.workspace_id = l.workspace_id AND d.message_id = l.message_id) AS with_details,
  (SELECT COUNT(*) FROM main.genie_analytics.message_details AS d JOIN listed AS l
     ON d.workspace_id = l.workspace_id AND d.message_id = l.message_id WHERE d.is_final) AS final,
  (SELECT COUNT(*) FROM main.genie_analytics.message_details AS d JOIN listed AS l
     ON d.workspace_id = l.workspace_id AND d.message_id = l.message_id WHERE d.asker_differs_from_audit) AS asker_overrides,
  (SELECT COUNT(*) FROM main.genie_analytics.message_fetch_errors AS e JOIN listed AS l
     ON e.workspace_id = l.workspace_id AND e.message_id = l.message_id WHERE NOT e.resolved) AS open_errors,
  (SELECT COUNT(*) - COUNT(DISTINCT message_id) FROM main.genie_analytics.message_details
    WHERE workspace_id = :workspace_id) AS duplicate_details,
  (SELECT COUNT(*) - COUNT(DISTINCT message_id) FROM main.genie_analytics.message_fetch_errors
    WHERE workspace_id = :workspace_id) AS duplicate_errors
