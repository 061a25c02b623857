-- Every configuration version of the spaces of one workspace (all workspaces when :workspace_id is ''), in the
-- order versions are numbered (mart_space_config_versions.version_number): first seen, then hash.
SELECT
  workspace_id, space_id, config_hash, title, description, warehouse_id, serialized_space,
  update_time, first_seen_at, last_seen_at
FROM main.genie_analytics.genie_space_config_history
WHERE :workspace_id = '' OR workspace_id = :workspace_id
ORDER BY workspace_id, space_id, first_seen_at, config_hash
