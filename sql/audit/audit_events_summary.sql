-- What a person wants to see after a bronze run, per day (each day's partition shows its own figures):
-- events by kind, people, spaces.
-- Params: :workspace_id, :start_date, :end_date
SELECT
  event_date AS day,
  COUNT(*) AS events,
  COUNT(DISTINCT CASE WHEN NOT is_ingestion_principal THEN user_email END) AS people,
  COUNT(DISTINCT space_id) AS spaces,
  COUNT(DISTINCT message_id) AS messages,
  COUNT_IF(action_kind = 'ask') AS ask_events,
  COUNT_IF(action_kind = 'read') AS read_events,
  COUNT_IF(action_kind = 'feedback') AS feedback_events,
  COUNT_IF(is_ingestion_principal) AS ingestion_principal_events,
  COUNT_IF(status_code <> 200) AS error_events
FROM main.genie_analytics.genie_audit_events
WHERE workspace_id = :workspace_id AND event_date BETWEEN :start_date AND :end_date
GROUP BY event_date
