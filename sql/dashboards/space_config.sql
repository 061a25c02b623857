-- The current configuration of every space, with item counts and how many versions it had.
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  space_id,
  COALESCE(title, space_id) AS space,
  description, warehouse_id, update_time, version_number AS versions,
  sample_questions, tables, columns, text_instructions, example_sqls, join_specs, benchmarks
FROM main.genie_analytics.mart_space_config_versions
WHERE is_current
ORDER BY space, workspace_id
