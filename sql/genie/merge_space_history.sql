-- Append configurations not seen before; for a known one, only move last_seen_at (the key includes the
-- configuration's hash: the rest is that configuration). Staged rows are the DDL's columns in DDL order;
-- every DDL column is a key, updated or kept on match (test_row_schema.py).
-- Kept on match: title, description, warehouse_id, serialized_space, update_time, first_seen_at
MERGE INTO main.genie_analytics.genie_space_config_history AS t
USING __staged_history AS s
ON t.workspace_id = s.workspace_id AND t.space_id = s.space_id AND t.config_hash = s.config_hash
WHEN MATCHED THEN UPDATE SET last_seen_at = s.last_seen_at
WHEN NOT MATCHED THEN INSERT *
