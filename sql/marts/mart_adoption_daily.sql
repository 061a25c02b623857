-- Daily, new, returning and weekly active askers per scope (a workspace id, or 'all' for every workspace
-- with each person counted once), on every day from the first to the last day with a question.
WITH m AS (
  SELECT workspace_id, workspace_name, asker, activity_date
  FROM main.genie_analytics.mart_messages
  WHERE activity_date IS NOT NULL
),
scoped AS (
  SELECT workspace_id AS scope, workspace_name AS scope_name, asker, activity_date FROM m
  UNION ALL
  SELECT 'all' AS scope, 'All workspaces' AS scope_name, asker, activity_date FROM m
),
scopes AS (
  SELECT scope, MAX(scope_name) AS scope_name FROM scoped GROUP BY scope
),
days AS (
  SELECT to_date(day) AS activity_date
  FROM (SELECT MIN(activity_date) AS lo, MAX(activity_date) AS hi FROM m) AS bounds
  LATERAL VIEW explode(sequence(bounds.lo, bounds.hi, INTERVAL 1 DAY)) spine AS day
),
grid AS (
  SELECT scopes.scope, scopes.scope_name, days.activity_date FROM scopes CROSS JOIN days
),
asker_days AS (
  SELECT DISTINCT scope, asker, activity_date FROM scoped WHERE asker IS NOT NULL
),
firsts AS (
  SELECT scope, asker, MIN(activity_date) AS first_date FROM asker_days GROUP BY scope, asker
),
daily AS (
  SELECT a.scope, a.activity_date, COUNT(*) AS active_askers, COUNT(CASE WHEN a.activity_date = f.first_date THEN 1 END) AS new_askers
  FROM asker_days AS a
  JOIN firsts AS f ON f.scope = a.scope AND f.asker = a.asker
  GROUP BY a.scope, a.activity_date
),
weekly AS (
  SELECT g.scope, g.activity_date, COUNT(DISTINCT a.asker) AS weekly_active_askers
  FROM grid AS g
  JOIN asker_days AS a
    ON a.scope = g.scope AND a.activity_date BETWEEN date_sub(g.activity_date, 6) AND g.activity_date
  GROUP BY g.scope, g.activity_date
),
questions AS (
  SELECT scope, activity_date, COUNT(*) AS questions FROM scoped GROUP BY scope, activity_date
)
SELECT
  g.scope,
  g.activity_date,
  g.scope_name,
  COALESCE(d.active_askers, 0) AS active_askers,
  COALESCE(d.new_askers, 0) AS new_askers,
  COALESCE(d.active_askers - d.new_askers, 0) AS returning_askers,
  COALESCE(w.weekly_active_askers, 0) AS weekly_active_askers,
  COALESCE(q.questions, 0) AS questions
FROM grid AS g
LEFT JOIN daily AS d ON d.scope = g.scope AND d.activity_date = g.activity_date
LEFT JOIN weekly AS w ON w.scope = g.scope AND w.activity_date = g.activity_date
LEFT JOIN questions AS q ON q.scope = g.scope AND q.activity_date = g.activity_date
