-- Data-quality figures of bronze for one workspace's date range, compared with the source audit log.
-- Duplicate event ids: within the range (any copy), plus copies of the range's events that other days of the
-- workspace hold, matched by (event_time, event_id): a copy of one audit event has its time too, and the time
-- lets the engine read only the rows of those times instead of every id of the workspace. (Two different
-- events sharing an id, at different times, on different days, are beyond this check.)
-- Params: :workspace_id, :start_date, :end_date, :space_ids (the allow list, as bronze applies it)
WITH slice_ids AS (
  SELECT event_id, event_time
  FROM main.genie_analytics.genie_audit_events
  WHERE workspace_id = :workspace_id AND event_date BETWEEN :start_date AND :end_date
)
SELECT
  (SELECT COUNT(*) FROM slice_ids) AS bronze_rows,
  (SELECT COUNT(*) FROM system.access.audit
    WHERE service_name = 'aibiGenie' AND workspace_id = :workspace_id
      AND event_date BETWEEN :start_date AND :end_date
      AND (:space_ids = '' OR request_params['space_id'] IS NULL
           OR array_contains(split(:space_ids, ','), request_params['space_id']))) AS source_rows,
  (SELECT COUNT(*) - COUNT(DISTINCT event_id) FROM slice_ids)
  + (SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events AS o
      WHERE o.workspace_id = :workspace_id AND NOT (o.event_date BETWEEN :start_date AND :end_date)
        AND (o.event_time, o.event_id) IN (SELECT event_time, event_id FROM slice_ids)) AS duplicate_event_ids
