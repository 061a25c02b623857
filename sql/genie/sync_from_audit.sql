-- Two tables take columns from the audit log (silver) and must follow it when late audit rows change it,
-- without a refetch.
-- 1. message_details takes three columns from the audit log (silver): the day that owns the message (late rows
-- can move it earlier), the audit's guess of the asker, and whether the API's asker differs from that
-- guess. Rows considered: the messages first seen in the slice or up to 7 days after it (an ask in the slice can
-- name their asker: ask events carry no message id), and the messages the slice's events name (a later
-- event can change an earlier message's silver row). Only rows that differ are updated.
-- Params: :workspace_id, :start_date, :end_date
MERGE INTO main.genie_analytics.message_details AS t
USING (
  SELECT s.workspace_id, s.message_id, s.first_seen_date, s.asker_email
  FROM main.genie_analytics.genie_messages_to_fetch AS s
  WHERE s.workspace_id = :workspace_id
    AND (
      s.first_seen_date BETWEEN :start_date AND date_add(:end_date, 7)
      OR s.message_id IN (
        SELECT e.message_id
        FROM main.genie_analytics.genie_audit_events AS e
        WHERE e.workspace_id = :workspace_id
          AND e.event_date BETWEEN :start_date AND :end_date
          AND e.message_id IS NOT NULL
      )
    )
) AS s
ON t.workspace_id = s.workspace_id AND t.message_id = s.message_id
WHEN MATCHED AND (
  t.first_seen_date <> s.first_seen_date
  OR NOT (t.audit_asker_email <=> s.asker_email)
  OR t.asker_differs_from_audit <> COALESCE(
    t.asker_user_name <> '' AND s.asker_email <> '' AND lower(t.asker_user_name) <> lower(s.asker_email), FALSE)
) THEN UPDATE SET
  first_seen_date = s.first_seen_date,
  audit_asker_email = s.asker_email,
  asker_differs_from_audit = COALESCE(
    t.asker_user_name <> '' AND s.asker_email <> '' AND lower(t.asker_user_name) <> lower(s.asker_email), FALSE);

-- 2. A message's fetch error belongs to the same day as the message, so per-day figures of errors and of
-- messages agree (the errors table is small: failed messages only).
MERGE INTO main.genie_analytics.message_fetch_errors AS t
USING (
  SELECT s.workspace_id, s.message_id, s.first_seen_date
  FROM main.genie_analytics.genie_messages_to_fetch AS s
  JOIN main.genie_analytics.message_fetch_errors AS e
    ON e.workspace_id = s.workspace_id AND e.message_id = s.message_id
  WHERE s.workspace_id = :workspace_id AND e.first_seen_date <> s.first_seen_date
) AS s
ON t.workspace_id = s.workspace_id AND t.message_id = s.message_id
WHEN MATCHED THEN UPDATE SET first_seen_date = s.first_seen_date
