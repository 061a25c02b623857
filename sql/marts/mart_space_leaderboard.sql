-- Spaces ranked by questions within their workspace: every space with a message or fetched details.
WITH spaces AS (
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
    COUNT(DISTINCT activity_date) AS active_days,
    MIN(asked_at) AS first_asked_at,
    MAX(asked_at) AS last_asked_at
  FROM main.genie_analytics.mart_messages
  WHERE space_id IS NOT NULL
  GROUP BY workspace_id, space_id
)
SELECT
  s.workspace_id,
  s.space_id,
  w.workspace_name,
  d.title AS space_title,
  d.description AS space_description,
  d.warehouse_id,
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
  COALESCE(p.active_days, 0) AS active_days,
  p.first_asked_at,
  p.last_asked_at,
  CAST(ROW_NUMBER() OVER (PARTITION BY s.workspace_id ORDER BY COALESCE(p.questions, 0) DESC, s.space_id) AS INT) AS questions_rank
FROM spaces AS s
LEFT JOIN per_space AS p ON p.workspace_id = s.workspace_id AND p.space_id = s.space_id
LEFT JOIN main.genie_analytics.genie_space_details AS d ON d.workspace_id = s.workspace_id AND d.space_id = s.space_id
LEFT JOIN workspaces AS w ON w.workspace_id = s.workspace_id
