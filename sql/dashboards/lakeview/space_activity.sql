-- Lakeview only (the shared space_leaderboard counts all time): every space with its questions in the dashboard's
-- date range (the date_range parameter: UTC days of activity_date, set by the date-range filter).
-- One row per (workspace_id, space_id), so figures add up exactly over any selection of rows: a conversation
-- belongs to one space, so SUM(conversations) is the number of distinct conversations; active_spaces is 1 for a
-- space with a question in the range. askers are distinct per space only (space_askers counts people exactly).
-- space_name is the space's label on the per-space page: its title and its workspace.
WITH in_range AS (
  SELECT *
  FROM main.genie_analytics.mart_messages
  WHERE space_id IS NOT NULL AND activity_date BETWEEN :date_range.min AND :date_range.max
),
spaces AS (
  SELECT workspace_id, space_id FROM main.genie_analytics.mart_messages WHERE space_id IS NOT NULL
  UNION
  SELECT workspace_id, space_id FROM main.genie_analytics.genie_space_details
),
workspaces AS (
  SELECT workspace_id, MAX(workspace_name) AS workspace_name
  FROM main.genie_analytics.genie_messages_to_fetch
  GROUP BY workspace_id
),
per_space AS (
  SELECT
    workspace_id,
    space_id,
    COUNT(*) AS questions,
    COUNT(DISTINCT conversation_id) AS conversations,
    COUNT(DISTINCT asker) AS askers,
    COUNT(CASE WHEN outcome = 'completed' THEN 1 END) AS completed,
    COUNT(CASE WHEN outcome = 'failed' THEN 1 END) AS failed,
    COUNT(CASE WHEN outcome = 'cancelled' THEN 1 END) AS cancelled,
    COUNT(CASE WHEN feedback_rating = 'POSITIVE' THEN 1 END) AS positive_feedback,
    COUNT(CASE WHEN feedback_rating = 'NEGATIVE' THEN 1 END) AS negative_feedback,
    COUNT(CASE WHEN review_requested THEN 1 END) AS review_requests,
    COUNT(statement_id) AS sql_statements,
    COUNT(DISTINCT activity_date) AS active_days,
    MIN(asked_at) AS first_asked_at,
    MAX(asked_at) AS last_asked_at
  FROM in_range
  GROUP BY workspace_id, space_id
)
SELECT
  s.workspace_id,
  COALESCE(w.workspace_name, s.workspace_id) AS workspace_name,
  s.space_id,
  COALESCE(d.title, s.space_id) AS space,
  concat(COALESCE(d.title, s.space_id), ' (', COALESCE(w.workspace_name, s.workspace_id), ')') AS space_name,
  CASE WHEN p.questions > 0 THEN 1 ELSE 0 END AS active_spaces,
  COALESCE(p.questions, 0) AS questions,
  COALESCE(p.conversations, 0) AS conversations,
  COALESCE(p.askers, 0) AS askers,
  COALESCE(p.completed, 0) AS completed,
  COALESCE(p.failed, 0) AS failed,
  COALESCE(p.cancelled, 0) AS cancelled,
  p.completed / NULLIF(p.completed + p.failed + p.cancelled, 0) AS success_rate,
  COALESCE(p.positive_feedback, 0) AS positive_feedback,
  COALESCE(p.negative_feedback, 0) AS negative_feedback,
  COALESCE(p.review_requests, 0) AS review_requests,
  COALESCE(p.sql_statements, 0) AS sql_statements,
  COALESCE(p.active_days, 0) AS active_days,
  p.first_asked_at,
  p.last_asked_at,
  CAST(ROW_NUMBER() OVER (PARTITION BY s.workspace_id ORDER BY COALESCE(p.questions, 0) DESC, s.space_id) AS INT) AS questions_rank
FROM spaces AS s
LEFT JOIN per_space AS p ON p.workspace_id = s.workspace_id AND p.space_id = s.space_id
LEFT JOIN main.genie_analytics.genie_space_details AS d ON d.workspace_id = s.workspace_id AND d.space_id = s.space_id
LEFT JOIN workspaces AS w ON w.workspace_id = s.workspace_id
ORDER BY questions DESC, s.workspace_id, s.space_id
