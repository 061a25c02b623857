-- genie-obs doctor: the service principal may write the product's tables (MODIFY). Matches nothing, changes nothing.
MERGE INTO main.genie_analytics.genie_audit_events AS t
USING (SELECT event_id FROM main.genie_analytics.genie_audit_events WHERE FALSE) AS s
ON t.event_id = s.event_id
WHEN MATCHED THEN UPDATE SET event_id = s.event_id
