-- Items of every space's current configuration: sample questions, tables, instructions, joins, benchmarks.
SELECT
  i.workspace_id,
  COALESCE(v.workspace_name, i.workspace_id) AS workspace_name,
  i.space_id,
  COALESCE(i.space_title, i.space_id) AS space,
  i.item_type, i.item_index, i.item_text, i.item_detail, i.column_count
FROM main.genie_analytics.mart_space_config_items AS i
JOIN main.genie_analytics.mart_space_config_versions AS v
  ON v.workspace_id = i.workspace_id AND v.space_id = i.space_id AND v.config_hash = i.config_hash
WHERE i.is_current
ORDER BY space, i.workspace_id, i.item_type, i.item_index
