-- Where each generated question of one workspace stands on the audit path: its audit rows in the source
-- (system.access.audit) and in bronze, its silver row, its message_details record and any fetch error.
-- The asset check genie_generated_messages_found names each message not yet found and why.
-- Questions that never got a message id (the ask failed) are not on the audit path and are not read here.
-- Questions asked on the 7 days before the workspace's latest generated question (and on its day) are read.
-- Params: :workspace_id
WITH latest AS (
  SELECT MAX(asked_at) AS latest_asked_at
  FROM main.genie_analytics.generated_conversations
  WHERE workspace_id = :workspace_id
),
generated AS (
  SELECT generation_id, workspace_id, space_id, conversation_id, message_id, question, final_status, asked_at, asked_as
  FROM main.genie_analytics.generated_conversations
  WHERE workspace_id = :workspace_id
    AND to_date(asked_at) >= date_sub((SELECT to_date(latest_asked_at) FROM latest), 7)
    AND message_id IS NOT NULL
),
source_rows AS (
  SELECT a.request_params['message_id'] AS message_id, COUNT(*) AS audit_rows, MIN(a.event_date) AS first_audit_date
  FROM system.access.audit AS a
  WHERE a.service_name = 'aibiGenie'
    AND a.workspace_id = :workspace_id
    AND a.event_date >= (SELECT to_date(MIN(asked_at)) FROM generated)
    AND a.request_params['message_id'] IN (SELECT message_id FROM generated)
  GROUP BY a.request_params['message_id']
),
bronze_rows AS (
  SELECT message_id, COUNT(*) AS bronze_rows, MAX(CASE WHEN NOT is_ingestion_principal THEN 1 ELSE 0 END) AS person_rows
  FROM main.genie_analytics.genie_audit_events
  WHERE workspace_id = :workspace_id
    AND event_date >= (SELECT to_date(MIN(asked_at)) FROM generated)
    AND message_id IN (SELECT message_id FROM generated)
  GROUP BY message_id
)
SELECT
  g.generation_id,
  g.space_id,
  g.conversation_id,
  g.message_id,
  g.question,
  g.asked_as,
  g.asked_at,
  g.final_status AS generated_status,
  COALESCE(src.audit_rows, 0) AS audit_rows,
  src.first_audit_date,
  COALESCE(b.bronze_rows, 0) AS bronze_rows,
  COALESCE(b.person_rows, 0) AS person_rows,
  s.first_seen_date AS listed_first_seen_date,
  s.asker_email AS audit_asker_email,
  d.status AS fetched_status,
  d.is_final AS fetched_is_final,
  d.fetched_at,
  e.error_type AS fetch_error_type,
  e.permanent AS fetch_error_permanent,
  e.resolved AS fetch_error_resolved
FROM generated AS g
LEFT JOIN source_rows AS src ON src.message_id = g.message_id
LEFT JOIN bronze_rows AS b ON b.message_id = g.message_id
LEFT JOIN main.genie_analytics.genie_messages_to_fetch AS s
  ON s.workspace_id = g.workspace_id AND s.message_id = g.message_id
LEFT JOIN main.genie_analytics.message_details AS d
  ON d.workspace_id = g.workspace_id AND d.message_id = g.message_id
LEFT JOIN main.genie_analytics.message_fetch_errors AS e
  ON e.workspace_id = g.workspace_id AND e.message_id = g.message_id
ORDER BY g.asked_at, g.message_id
