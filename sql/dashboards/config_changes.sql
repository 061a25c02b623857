-- Every configuration version of every space, newest first: what changed and when it was first seen.
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  space_id,
  COALESCE(title, space_id) AS space,
  version_number, is_current, update_time, first_seen_at, last_seen_at,
  sample_questions, tables, columns, text_instructions, example_sqls, join_specs, benchmarks
FROM main.genie_analytics.mart_space_config_versions
ORDER BY first_seen_at DESC, workspace_id, space_id
