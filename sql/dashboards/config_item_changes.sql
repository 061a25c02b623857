-- What changed in each configuration version of a space against the version before it: items added and
-- removed (an edited item is one removed and one added), the title and the description included.
WITH versions AS (
  SELECT workspace_id, space_id, config_hash, version_number, title, description
  FROM main.genie_analytics.mart_space_config_versions
),
items AS (
  SELECT v.workspace_id, v.space_id, v.version_number, i.item_type,
         COALESCE(i.item_text, '') AS item_text, COALESCE(i.item_detail, '') AS item_detail
  FROM versions AS v
  JOIN main.genie_analytics.mart_space_config_items AS i
    ON i.workspace_id = v.workspace_id AND i.space_id = v.space_id AND i.config_hash = v.config_hash
  UNION ALL
  SELECT workspace_id, space_id, version_number, 'title' AS item_type, COALESCE(title, '') AS item_text,
         '' AS item_detail
  FROM versions
  UNION ALL
  SELECT workspace_id, space_id, version_number, 'description' AS item_type,
         COALESCE(description, '') AS item_text, '' AS item_detail
  FROM versions
),
later AS (
  SELECT workspace_id, space_id, version_number
  FROM versions
  WHERE version_number > 1
)
SELECT l.workspace_id, l.space_id, l.version_number, 'added' AS change, cur.item_type, cur.item_text,
       cur.item_detail
FROM later AS l
JOIN items AS cur
  ON cur.workspace_id = l.workspace_id AND cur.space_id = l.space_id AND cur.version_number = l.version_number
LEFT JOIN items AS prev
  ON prev.workspace_id = l.workspace_id AND prev.space_id = l.space_id
  AND prev.version_number = l.version_number - 1 AND prev.item_type = cur.item_type
  AND prev.item_text = cur.item_text AND prev.item_detail = cur.item_detail
WHERE prev.workspace_id IS NULL
UNION ALL
SELECT l.workspace_id, l.space_id, l.version_number, 'removed' AS change, prev.item_type, prev.item_text,
       prev.item_detail
FROM later AS l
JOIN items AS prev
  ON prev.workspace_id = l.workspace_id AND prev.space_id = l.space_id
  AND prev.version_number = l.version_number - 1
LEFT JOIN items AS cur
  ON cur.workspace_id = l.workspace_id AND cur.space_id = l.space_id AND cur.version_number = l.version_number
  AND cur.item_type = prev.item_type AND cur.item_text = prev.item_text AND cur.item_detail = prev.item_detail
WHERE cur.workspace_id IS NULL
ORDER BY workspace_id, space_id, version_number, change, item_type, item_text
