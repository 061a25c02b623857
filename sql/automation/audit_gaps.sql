-- The sensor's gap finder for the days before the watched window (history start .. window start - 1): the
-- (workspace, event date) pairs whose source audit log holds more aibiGenie rows than bronze. That catches a
-- day never loaded (the scheduler was down longer than the window, a workspace added without its initial
-- load) and rows of an old day delivered after the day left the window. Bronze holding MORE rows than the
-- source (the source's retention expired) is not a gap. Only gaps are returned: normally no row at all.
-- One aggregate over an event_date-filtered range of system.access.audit (event_date prunes files), plus the
-- same aggregate over bronze; the sensor runs it at most once per clock hour (automation.GAP_CHECK_EVERY_S).
-- Filters are those of audit_partition_state.sql (bronze's own: service aibiGenie, configured workspaces,
-- space allow lists, events naming no space kept; the ingestion principal's reads left out on both sides).
-- workspace_bronze_days: days of the range for which bronze holds any row of that workspace (0: its history
-- was never loaded).
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
),
bronze_workspaces AS (
  SELECT workspace_id, COUNT(*) AS bronze_days
  FROM bronze
  GROUP BY workspace_id
)
SELECT
  s.workspace_id,
  s.event_date,
  s.source_rows,
  s.source_last_event,
  COALESCE(b.bronze_rows, 0) AS bronze_rows,
  b.bronze_last_event,
  COALESCE(w.bronze_days, 0) AS workspace_bronze_days
FROM source AS s
LEFT JOIN bronze AS b
  ON b.workspace_id = s.workspace_id AND b.event_date = s.event_date
LEFT JOIN bronze_workspaces AS w
  ON w.workspace_id = s.workspace_id
WHERE s.source_rows > COALESCE(b.bronze_rows, 0)
ORDER BY s.workspace_id, s.event_date
