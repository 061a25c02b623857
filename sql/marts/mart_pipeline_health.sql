-- Health of one workspace's pipeline: coverage of the messages listed from the audit log (within the space
-- allow list, comma-separated ids, '' = every space), pending work, open errors and freshness.
-- Params: :workspace_id, :space_ids
WITH listed AS (
  SELECT s.*, (:space_ids = '' OR array_contains(split(:space_ids, ','), s.space_id)) AS allowed
  FROM main.genie_analytics.genie_messages_to_fetch AS s
  WHERE s.workspace_id = :workspace_id
),
audit AS (
  SELECT COUNT(*) AS audit_events, MAX(event_time) AS latest_audit_event_time, MAX(workspace_name) AS workspace_name
  FROM main.genie_analytics.genie_audit_events
  WHERE workspace_id = :workspace_id
),
messages AS (
  SELECT
    COUNT(CASE WHEN l.allowed THEN 1 END) AS messages_listed,
    COUNT(CASE WHEN NOT l.allowed THEN 1 END) AS messages_excluded,
    COUNT(CASE WHEN l.allowed AND d.message_id IS NOT NULL THEN 1 END) AS messages_with_details,
    COUNT(CASE WHEN l.allowed AND d.message_id IS NULL THEN 1 END) AS messages_missing,
    COUNT(DISTINCT CASE WHEN l.allowed THEN l.space_id END) AS spaces_listed
  FROM listed AS l
  LEFT JOIN main.genie_analytics.message_details AS d
    ON d.workspace_id = l.workspace_id AND d.message_id = l.message_id
),
errors AS (
  SELECT COUNT(CASE WHEN NOT resolved THEN 1 END) AS open_fetch_errors, COUNT(CASE WHEN NOT resolved AND permanent THEN 1 END) AS permanent_fetch_errors
  FROM main.genie_analytics.message_fetch_errors
  WHERE workspace_id = :workspace_id
),
fetches AS (
  SELECT
    MAX(d.fetched_at) AS latest_fetch_time,
    COUNT(CASE WHEN s.message_id IS NULL AND d.allowed THEN 1 END) AS messages_api_only,
    COUNT(CASE WHEN NOT d.is_final AND d.allowed THEN 1 END) AS messages_pending
  FROM (
    SELECT *, (:space_ids = '' OR array_contains(split(:space_ids, ','), space_id)) AS allowed
    FROM main.genie_analytics.message_details
    WHERE workspace_id = :workspace_id
  ) AS d
  LEFT JOIN main.genie_analytics.genie_messages_to_fetch AS s
    ON s.workspace_id = d.workspace_id AND s.message_id = d.message_id
),
spaces AS (
  SELECT COUNT(*) AS spaces_with_details, MAX(fetched_at) AS latest_space_fetch_time
  FROM main.genie_analytics.genie_space_details
  WHERE workspace_id = :workspace_id
),
space_errors AS (
  SELECT COUNT(CASE WHEN NOT resolved THEN 1 END) AS open_space_fetch_errors
  FROM main.genie_analytics.genie_space_fetch_errors
  WHERE workspace_id = :workspace_id
)
SELECT
  :workspace_id AS workspace_id,
  a.workspace_name,
  a.audit_events,
  a.latest_audit_event_time,
  m.messages_listed,
  m.messages_excluded,
  m.messages_with_details,
  m.messages_missing,
  f.messages_api_only,
  f.messages_pending,
  m.messages_with_details / NULLIF(m.messages_listed, 0) AS coverage,
  e.open_fetch_errors,
  e.permanent_fetch_errors,
  f.latest_fetch_time,
  m.spaces_listed,
  s.spaces_with_details,
  se.open_space_fetch_errors,
  s.latest_space_fetch_time,
  current_timestamp() AS refreshed_at
FROM audit AS a
CROSS JOIN messages AS m
CROSS JOIN errors AS e
CROSS JOIN fetches AS f
CROSS JOIN spaces AS s
CROSS JOIN space_errors AS se
