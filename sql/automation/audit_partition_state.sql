-- The sensor's change detector. Per (workspace, event date) of the watched window: the aibiGenie rows of
-- the source audit log and of bronze, each as (row count, latest event time). Equal pairs mean the
-- partition is current; any difference (rows delivered since the last run, rows of an old day arriving
-- late, a day never loaded) means it needs a run. Both are aggregates over a few days of an
-- event_date-filtered table, cheap enough for a sensor tick.
-- The source side applies bronze's own filter (sql/audit/genie_audit_events.sql): events of spaces outside
-- a workspace's allow list are not kept, events that name no space are. The ingestion principal's own
-- reads are left out on both sides: they never change silver, so they do not trigger runs (the next run
-- of that day loads them anyway).
-- Params: :workspace_ids (comma-separated), :start_date, :end_date, :ingestion_principal,
--         :all_space_workspaces (comma-separated ids of workspaces without an allow list),
--         :allowed_spaces (comma-separated workspace_id/space_id pairs of the allow lists)
WITH source AS (
  SELECT
    a.workspace_id,
    a.event_date,
    COUNT(*) AS source_rows,
    MAX(a.event_time) AS source_last_event
  FROM system.access.audit AS a
  WHERE a.service_name = 'aibiGenie'
    AND a.event_date BETWEEN :start_date AND :end_date
    AND array_contains(split(:workspace_ids, ','), a.workspace_id)
    AND NOT COALESCE(a.user_identity.email = :ingestion_principal, FALSE)
    AND (array_contains(split(:all_space_workspaces, ','), a.workspace_id)
         OR a.request_params['space_id'] IS NULL
         OR array_contains(split(:allowed_spaces, ','), concat(a.workspace_id, '/', a.request_params['space_id'])))
  GROUP BY a.workspace_id, a.event_date
),
bronze AS (
  SELECT
    b.workspace_id,
    b.event_date,
    COUNT(*) AS bronze_rows,
    MAX(b.event_time) AS bronze_last_event
  FROM main.genie_analytics.genie_audit_events AS b
  WHERE b.event_date BETWEEN :start_date AND :end_date
    AND array_contains(split(:workspace_ids, ','), b.workspace_id)
    AND NOT b.is_ingestion_principal
  GROUP BY b.workspace_id, b.event_date
)
SELECT
  COALESCE(s.workspace_id, b.workspace_id) AS workspace_id,
  COALESCE(s.event_date, b.event_date) AS event_date,
  COALESCE(s.source_rows, 0) AS source_rows,
  s.source_last_event,
  COALESCE(b.bronze_rows, 0) AS bronze_rows,
  b.bronze_last_event
FROM source AS s
FULL OUTER JOIN bronze AS b
  ON b.workspace_id = s.workspace_id AND b.event_date = s.event_date
ORDER BY workspace_id, event_date
