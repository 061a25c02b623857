-- Items of every space configuration version, parsed from serialized_space (JSON text) with get_json_object
-- and positional paths ('$.config.sample_questions[3].question'), which read the same on Databricks and
-- DuckDB. Text fields are arrays of lines in serialized_space; lines are joined in order as stored.
WITH versions AS (
  SELECT h.workspace_id, h.space_id, h.config_hash, h.title, h.serialized_space,
         COALESCE(d.config_hash = h.config_hash, FALSE) AS is_current
  FROM main.genie_analytics.genie_space_config_history AS h
  LEFT JOIN main.genie_analytics.genie_space_details AS d
    ON d.workspace_id = h.workspace_id AND d.space_id = h.space_id
),
lists AS (
  -- where each kind of item lives, and which of its fields hold the text (lines), the detail (lines),
  -- or a single identifier
  SELECT v.*, l.item_type, l.list_path, l.text_field, l.detail_field, l.name_field,
         CAST(COALESCE(json_array_length(get_json_object(v.serialized_space, l.list_path)), 0) AS INT) AS n_items
  FROM versions AS v
  CROSS JOIN (VALUES
    ('sample_question', '$.config.sample_questions', '.question', NULL, NULL),
    ('table', '$.data_sources.tables', NULL, '.description', '.identifier'),
    ('metric_view', '$.data_sources.metric_views', NULL, '.description', '.identifier'),
    ('text_instruction', '$.instructions.text_instructions', '.content', NULL, NULL),
    ('example_sql', '$.instructions.example_question_sqls', '.question', '.sql', NULL),
    ('join_spec', '$.instructions.join_specs', NULL, '.sql', NULL),
    ('benchmark', '$.benchmarks.questions', '.question', '.answer[0].content', NULL)
  ) AS l(item_type, list_path, text_field, detail_field, name_field)
),
items AS (
  SELECT lists.*, CAST(i AS INT) AS item_index, concat(list_path, '[', CAST(i AS STRING), ']') AS item_path
  FROM lists
  LATERAL VIEW explode(sequence(0, n_items - 1)) positions AS i
  WHERE n_items > 0
),
line_paths AS (
  SELECT workspace_id, space_id, config_hash, item_type, item_index, serialized_space,
         'text' AS part, concat(item_path, text_field) AS lines_path
  FROM items WHERE text_field IS NOT NULL
  UNION ALL
  SELECT workspace_id, space_id, config_hash, item_type, item_index, serialized_space,
         'detail' AS part, concat(item_path, detail_field) AS lines_path
  FROM items WHERE detail_field IS NOT NULL
),
lines AS (
  SELECT p.workspace_id, p.space_id, p.config_hash, p.item_type, p.item_index, p.part, j,
         get_json_object(p.serialized_space, concat(p.lines_path, '[', CAST(j AS STRING), ']')) AS line
  FROM (
    SELECT *, CAST(COALESCE(json_array_length(get_json_object(serialized_space, lines_path)), 0) AS INT) AS n_lines
    FROM line_paths
  ) AS p
  LATERAL VIEW explode(sequence(0, n_lines - 1)) line_positions AS j
  WHERE p.n_lines > 0
),
texts AS (
  SELECT workspace_id, space_id, config_hash, item_type, item_index,
         array_join(transform(array_sort(collect_list(CASE WHEN part = 'text' THEN named_struct('pos', j, 'txt', line) END)),
                              x -> x.txt), '') AS text_lines,
         array_join(transform(array_sort(collect_list(CASE WHEN part = 'detail' THEN named_struct('pos', j, 'txt', line) END)),
                              x -> x.txt), '') AS detail_lines
  FROM lines
  GROUP BY workspace_id, space_id, config_hash, item_type, item_index
)
SELECT
  i.workspace_id,
  i.space_id,
  i.config_hash,
  i.item_type,
  i.item_index,
  i.is_current,
  i.title AS space_title,
  CASE
    WHEN i.name_field IS NOT NULL THEN get_json_object(i.serialized_space, concat(i.item_path, i.name_field))
    WHEN i.item_type = 'join_spec' THEN concat(
      get_json_object(i.serialized_space, concat(i.item_path, '.left.identifier')), ' = ',
      get_json_object(i.serialized_space, concat(i.item_path, '.right.identifier')))
    ELSE NULLIF(t.text_lines, '')
  END AS item_text,
  NULLIF(t.detail_lines, '') AS item_detail,
  CASE WHEN i.item_type IN ('table', 'metric_view') THEN
    CAST(COALESCE(json_array_length(get_json_object(i.serialized_space, concat(i.item_path, '.column_configs'))), 0) AS INT)
  END AS column_count
FROM items AS i
LEFT JOIN texts AS t
  ON t.workspace_id = i.workspace_id AND t.space_id = i.space_id AND t.config_hash = i.config_hash
  AND t.item_type = i.item_type AND t.item_index = i.item_index
