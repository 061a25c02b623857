-- Mark space fetch errors resolved for spaces fetched successfully (staged from Python).
MERGE INTO main.genie_analytics.genie_space_fetch_errors AS t
USING __staged_spaces AS s
ON t.workspace_id = s.workspace_id AND t.space_id = s.space_id
WHEN MATCHED AND NOT t.resolved THEN UPDATE SET resolved = TRUE, resolved_at = s.fetched_at, last_attempt_at = s.fetched_at,
  attempt_count = t.attempt_count + 1
