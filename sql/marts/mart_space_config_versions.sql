-- Every configuration version of every space, numbered in the order first seen, with its item counts
-- (from mart_space_config_items, so serialized_space is parsed in one place only).
WITH counts AS (
  SELECT
    workspace_id, space_id, config_hash,
    COUNT(CASE WHEN item_type = 'sample_question' THEN 1 END) AS sample_questions,
    COUNT(CASE WHEN item_type IN ('table', 'metric_view') THEN 1 END) AS tables,
    COALESCE(SUM(column_count), 0) AS columns,
    COUNT(CASE WHEN item_type = 'text_instruction' THEN 1 END) AS text_instructions,
    COUNT(CASE WHEN item_type = 'example_sql' THEN 1 END) AS example_sqls,
    COUNT(CASE WHEN item_type = 'join_spec' THEN 1 END) AS join_specs,
    COUNT(CASE WHEN item_type = 'benchmark' THEN 1 END) AS benchmarks
  FROM main.genie_analytics.mart_space_config_items
  GROUP BY workspace_id, space_id, config_hash
),
workspaces AS (
  SELECT workspace_id, MAX(workspace_name) AS workspace_name
  FROM main.genie_analytics.genie_messages_to_fetch
  GROUP BY workspace_id
)
SELECT
  h.workspace_id,
  h.space_id,
  h.config_hash,
  CAST(ROW_NUMBER() OVER (PARTITION BY h.workspace_id, h.space_id ORDER BY h.first_seen_at, h.config_hash) AS INT) AS version_number,
  COALESCE(d.config_hash = h.config_hash, FALSE) AS is_current,
  w.workspace_name,
  h.title,
  h.description,
  h.warehouse_id,
  h.update_time,
  h.first_seen_at,
  h.last_seen_at,
  CAST(COALESCE(c.sample_questions, 0) AS INT) AS sample_questions,
  CAST(COALESCE(c.tables, 0) AS INT) AS tables,
  CAST(COALESCE(c.columns, 0) AS INT) AS columns,
  CAST(COALESCE(c.text_instructions, 0) AS INT) AS text_instructions,
  CAST(COALESCE(c.example_sqls, 0) AS INT) AS example_sqls,
  CAST(COALESCE(c.join_specs, 0) AS INT) AS join_specs,
  CAST(COALESCE(c.benchmarks, 0) AS INT) AS benchmarks
FROM main.genie_analytics.genie_space_config_history AS h
LEFT JOIN main.genie_analytics.genie_space_details AS d
  ON d.workspace_id = h.workspace_id AND d.space_id = h.space_id
LEFT JOIN counts AS c
  ON c.workspace_id = h.workspace_id AND c.space_id = h.space_id AND c.config_hash = h.config_hash
LEFT JOIN workspaces AS w
  ON w.workspace_id = h.workspace_id
