-- Distinct askers and conversations over fixed periods ending on the last day with a question: all time, the
-- last 7, 30 and 90 days, and the periods of the same length just before them; for every workspace, for
-- 'all' (every workspace, each person once) and for every space. People cannot be summed over days: the local
-- page reads these for its date-range presets and their previous periods.
WITH m AS (
  SELECT workspace_id, space_id, activity_date, asker, concat(workspace_id, '/', conversation_id) AS conversation
  FROM main.genie_analytics.mart_messages
  WHERE space_id IS NOT NULL AND activity_date IS NOT NULL
),
bounds AS (
  SELECT MIN(activity_date) AS first_day, MAX(activity_date) AS last_day
  FROM m
),
periods AS (
  SELECT
    p.period,
    CAST(CASE WHEN p.days IS NULL THEN b.first_day ELSE date_sub(b.last_day, p.skip + p.days - 1) END AS DATE)
      AS first_day,
    CAST(date_sub(b.last_day, p.skip) AS DATE) AS last_day
  FROM bounds AS b
  CROSS JOIN (VALUES
    ('all', CAST(NULL AS INT), 0),
    ('last_7', 7, 0), ('previous_7', 7, 7),
    ('last_30', 30, 0), ('previous_30', 30, 30),
    ('last_90', 90, 0), ('previous_90', 90, 90)
  ) AS p(period, days, skip)
),
scoped AS (
  SELECT p.period, p.first_day, p.last_day, m.workspace_id, m.space_id, m.asker, m.conversation
  FROM periods AS p
  JOIN m ON m.activity_date BETWEEN p.first_day AND p.last_day
)
SELECT
  'all' AS workspace_id, CAST(NULL AS STRING) AS space_id, period, first_day, last_day,
  COUNT(DISTINCT asker) AS askers, COUNT(DISTINCT conversation) AS conversations
FROM scoped
GROUP BY period, first_day, last_day
UNION ALL
SELECT
  workspace_id, CAST(NULL AS STRING) AS space_id, period, first_day, last_day,
  COUNT(DISTINCT asker) AS askers, COUNT(DISTINCT conversation) AS conversations
FROM scoped
GROUP BY workspace_id, period, first_day, last_day
UNION ALL
SELECT
  workspace_id, space_id, period, first_day, last_day,
  COUNT(DISTINCT asker) AS askers, COUNT(DISTINCT conversation) AS conversations
FROM scoped
GROUP BY workspace_id, space_id, period, first_day, last_day
ORDER BY workspace_id, space_id, period
