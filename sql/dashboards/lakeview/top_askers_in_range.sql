-- Lakeview only (the shared top_askers counts all time): the 20 most active askers per scope (a workspace, or
-- 'all' counting each person once) in the dashboard's date range (the date_range parameter, UTC days),
-- and how many askers the scope has in that range.
WITH m AS (
  SELECT *
  FROM main.genie_analytics.mart_messages
  WHERE asker IS NOT NULL AND activity_date BETWEEN :date_range.min AND :date_range.max
),
scoped AS (
  SELECT workspace_id AS scope, COALESCE(workspace_name, workspace_id) AS scope_name, m.* FROM m
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
),
ranked AS (
  SELECT
    *,
    CAST(ROW_NUMBER() OVER (PARTITION BY scope ORDER BY questions DESC, asker) AS INT) AS questions_rank,
    COUNT(*) OVER (PARTITION BY scope) AS askers_in_scope
  FROM per_asker
)
SELECT
  scope, scope_name, asker, questions, conversations, spaces, active_days, completed, failed, negative_feedback,
  first_asked_at, last_asked_at, questions_rank, askers_in_scope
FROM ranked
WHERE questions_rank <= 20
ORDER BY scope, questions_rank
