-- Every configuration version of every space, newest first: what changed and when it was first seen.
-- `space` is what the space is called now (its page, filters, links); `title` is the title of that version.
SELECT
  v.workspace_id,
  COALESCE(v.workspace_name, v.workspace_id) AS workspace_name,
  v.space_id,
  COALESCE(d.title, v.title, v.space_id) AS space,
  v.title,
  v.version_number, v.is_current, v.update_time, v.first_seen_at, v.last_seen_at,
  v.sample_questions, v.tables, v.columns, v.text_instructions, v.example_sqls, v.join_specs, v.benchmarks
FROM main.genie_analytics.mart_space_config_versions AS v
LEFT JOIN main.genie_analytics.genie_space_details AS d
  ON d.workspace_id = v.workspace_id AND d.space_id = v.space_id
ORDER BY v.first_seen_at DESC, v.workspace_id, v.space_id
