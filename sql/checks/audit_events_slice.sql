-- Data-quality figures of bronze for one workspace's date range, compared with the source audit log.
-- Params: :workspace_id, :start_date, :end_date, :space_ids (the allow list, as bronze applies it)
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events
    WHERE workspace_id = :workspace_id AND event_date BETWEEN :start_date AND :end_date) AS bronze_rows,
  (SELECT COUNT(*) FROM system.access.audit
    WHERE service_name = 'aibiGenie' AND workspace_id = :workspace_id
      AND event_date BETWEEN :start_date AND :end_date
      AND (:space_ids = '' OR request_params['space_id'] IS NULL
           OR array_contains(split(:space_ids, ','), request_params['space_id']))) AS source_rows,
  (SELECT COUNT(*) - COUNT(DISTINCT event_id) FROM main.genie_analytics.genie_audit_events
    WHERE workspace_id = :workspace_id) AS duplicate_event_ids
