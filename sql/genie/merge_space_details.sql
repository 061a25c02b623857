-- Upsert successfully fetched spaces (staged from Python); the first fetch time is kept. Staged rows are the
-- DDL's columns in DDL order; every DDL column is a key, updated or kept on match (test_row_schema.py).
-- Kept on match: first_fetched_at
MERGE INTO main.genie_analytics.genie_space_details AS t
USING __staged_spaces AS s
ON t.workspace_id = s.workspace_id AND t.space_id = s.space_id
WHEN MATCHED THEN UPDATE SET
  title = s.title,
  description = s.description,
  warehouse_id = s.warehouse_id,
  parent_path = s.parent_path,
  etag = s.etag,
  create_time = s.create_time,
  update_time = s.update_time,
  serialized_space = s.serialized_space,
  config_hash = s.config_hash,
  fetched_at = s.fetched_at
WHEN NOT MATCHED THEN INSERT *
