-- Mark errors resolved for messages that a later attempt fetched (staged from Python).
MERGE INTO main.genie_analytics.message_fetch_errors AS t
USING __staged_resolved AS s
ON t.workspace_id = s.workspace_id AND t.message_id = s.message_id
WHEN MATCHED AND NOT t.resolved THEN UPDATE SET
  resolved = TRUE,
  resolved_at = s.resolved_at,
  attempt_count = t.attempt_count + s.attempts,
  last_attempt_at = s.resolved_at
