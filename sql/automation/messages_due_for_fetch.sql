-- Messages of the watched window that a fetch-only run would try again, grouped so the sensor can back
-- off per attempt count: fetched but not final yet (Genie was still working), only failed attempts with
-- a retryable error so far, or listed in silver and never attempted (a run stopped between the audit
-- layer and the fetch). Messages blocked by a permanent error (deleted, access revoked) are not listed,
-- nor messages outside a workspace's space allow list: the fetch would skip them (same rules as
-- genie/messages_pending_fetch).
-- Params: :start_date, :end_date,
--         :all_space_workspaces (comma-separated ids of workspaces without an allow list),
--         :allowed_spaces (comma-separated workspace_id/space_id pairs of the allow lists)
WITH open_messages AS (
  SELECT
    s.workspace_id,
    s.first_seen_date,
    CASE
      WHEN d.message_id IS NOT NULL THEN 'pending'
      WHEN e.message_id IS NOT NULL THEN 'retryable'
      ELSE 'unfetched'
    END AS state,
    COALESCE(d.fetch_attempts, 0)
      + CASE WHEN e.message_id IS NOT NULL AND NOT e.resolved THEN e.attempt_count ELSE 0 END AS attempts,
    CASE
      WHEN e.message_id IS NOT NULL AND NOT e.resolved
           AND (d.fetched_at IS NULL OR e.last_attempt_at > d.fetched_at) THEN e.last_attempt_at
      ELSE d.fetched_at
    END AS last_attempt_at
  FROM main.genie_analytics.genie_messages_to_fetch AS s
  LEFT JOIN main.genie_analytics.message_details AS d
    ON d.workspace_id = s.workspace_id AND d.message_id = s.message_id
  LEFT JOIN main.genie_analytics.message_fetch_errors AS e
    ON e.workspace_id = s.workspace_id AND e.message_id = s.message_id
  WHERE s.first_seen_date BETWEEN :start_date AND :end_date
    AND (d.message_id IS NULL OR NOT d.is_final)
    AND NOT COALESCE(e.permanent AND NOT e.resolved, FALSE)
    AND (array_contains(split(:all_space_workspaces, ','), s.workspace_id)
         OR array_contains(split(:allowed_spaces, ','), concat(s.workspace_id, '/', s.space_id)))
)
SELECT
  workspace_id,
  first_seen_date,
  state,
  attempts,
  COUNT(*) AS messages,
  MAX(last_attempt_at) AS last_attempt_at
FROM open_messages
GROUP BY workspace_id, first_seen_date, state, attempts
ORDER BY workspace_id, first_seen_date, state, attempts
