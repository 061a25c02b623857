-- Lakeview only (the shared sql_performance counts all time): SQL run by Genie per space for the questions asked
-- in the dashboard's date range (the date_range parameter, UTC days), computed like
-- mart_sql_performance: exact, continuous percentiles written with window functions (sqlglot would turn
-- percentile_cont into percentile_approx on its way to Databricks SQL).
WITH in_range AS (
  SELECT *
  FROM main.genie_analytics.mart_messages
  WHERE statement_id IS NOT NULL AND space_id IS NOT NULL
    AND activity_date BETWEEN :date_range.min AND :date_range.max
),
statements AS (
  SELECT
    workspace_id,
    space_id,
    MAX(workspace_name) AS workspace_name,
    MAX(space_title) AS space_title,
    COUNT(*) AS statements,
    COUNT(sql_execution_status) AS statements_with_history,
    COUNT(CASE WHEN sql_execution_status = 'FAILED' THEN 1 END) AS failed_statements,
    AVG(sql_total_duration_ms) AS duration_avg_ms,
    MAX(sql_total_duration_ms) AS duration_max_ms,
    COALESCE(SUM(sql_read_rows), 0) AS read_rows,
    COALESCE(SUM(sql_read_bytes), 0) AS read_bytes,
    COALESCE(SUM(sql_produced_rows), 0) AS produced_rows
  FROM in_range
  GROUP BY workspace_id, space_id
),
ranked AS (
  SELECT
    workspace_id,
    space_id,
    sql_total_duration_ms AS duration_ms,
    ROW_NUMBER() OVER (PARTITION BY workspace_id, space_id ORDER BY sql_total_duration_ms) - 1 AS rank0,
    COUNT(*) OVER (PARTITION BY workspace_id, space_id) - 1 AS last_rank0
  FROM in_range
  WHERE sql_total_duration_ms IS NOT NULL
),
bounds AS (
  SELECT
    r.workspace_id,
    r.space_id,
    p.p,
    MAX(CASE WHEN r.rank0 = FLOOR(r.last_rank0 * p.p) THEN r.duration_ms END) AS low_ms,
    MAX(CASE WHEN r.rank0 = CEIL(r.last_rank0 * p.p) THEN r.duration_ms END) AS high_ms,
    MAX(r.last_rank0 * p.p - FLOOR(r.last_rank0 * p.p)) AS fraction
  FROM ranked AS r
  CROSS JOIN (VALUES (0.5), (0.9), (0.95)) AS p(p)
  GROUP BY r.workspace_id, r.space_id, p.p
),
percentiles AS (
  SELECT
    workspace_id,
    space_id,
    MAX(CASE WHEN p = 0.5 THEN low_ms + (high_ms - low_ms) * fraction END) AS duration_p50_ms,
    MAX(CASE WHEN p = 0.9 THEN low_ms + (high_ms - low_ms) * fraction END) AS duration_p90_ms,
    MAX(CASE WHEN p = 0.95 THEN low_ms + (high_ms - low_ms) * fraction END) AS duration_p95_ms
  FROM bounds
  GROUP BY workspace_id, space_id
)
SELECT
  s.workspace_id,
  COALESCE(s.workspace_name, s.workspace_id) AS workspace_name,
  s.space_id,
  COALESCE(s.space_title, s.space_id) AS space,
  concat(COALESCE(s.space_title, s.space_id), ' (', COALESCE(s.workspace_name, s.workspace_id), ')') AS space_name,
  s.statements,
  s.statements_with_history,
  s.failed_statements,
  CAST(p.duration_p50_ms AS DOUBLE) AS duration_p50_ms,
  CAST(p.duration_p90_ms AS DOUBLE) AS duration_p90_ms,
  CAST(p.duration_p95_ms AS DOUBLE) AS duration_p95_ms,
  s.duration_avg_ms,
  s.duration_max_ms,
  s.read_rows,
  s.read_bytes,
  s.produced_rows
FROM statements AS s
LEFT JOIN percentiles AS p ON p.workspace_id = s.workspace_id AND p.space_id = s.space_id
ORDER BY s.statements DESC, s.workspace_id, s.space_id
