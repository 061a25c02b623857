-- Every asker per scope (a workspace id, or 'all' for every workspace together), ranked by questions.
WITH m AS (
  SELECT * FROM main.genie_analytics.mart_messages WHERE asker IS NOT NULL
),
scoped AS (
  SELECT workspace_id AS scope, workspace_name AS scope_name, m.* FROM m
  UNION ALL
  SELECT 'all' AS scope, 'All workspaces' AS scope_name, m.* FROM m
),
per_asker AS (
  SELECT
    scope,
    asker,
    MAX(scope_name) AS scope_name,
    COUNT(*) AS questions,
    COUNT(DISTINCT concat(workspace_id, '/', conversation_id)) AS conversations,
    COUNT(DISTINCT concat(workspace_id, '/', space_id)) AS spaces,
    COUNT(DISTINCT activity_date) AS active_days,
    COUNT(CASE WHEN outcome = 'completed' THEN 1 END) AS completed,
    COUNT(CASE WHEN outcome = 'failed' THEN 1 END) AS failed,
    COUNT(CASE WHEN feedback_rating = 'NEGATIVE' THEN 1 END) AS negative_feedback,
    MIN(asked_at) AS first_asked_at,
    MAX(asked_at) AS last_asked_at
  FROM scoped
  GROUP BY scope, asker
)
SELECT
  *,
  CAST(ROW_NUMBER() OVER (PARTITION BY scope ORDER BY questions DESC, asker) AS INT) AS questions_rank
FROM per_asker
