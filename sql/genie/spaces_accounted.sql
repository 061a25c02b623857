-- Spaces seen in the audit layer (within the allow list) with neither details nor a fetch error.
-- Params: :workspace_id, :space_ids
SELECT COUNT(*) AS unaccounted
FROM (
  SELECT DISTINCT space_id FROM main.genie_analytics.genie_messages_to_fetch
  WHERE workspace_id = :workspace_id AND (:space_ids = '' OR array_contains(split(:space_ids, ','), space_id))
) AS s
WHERE NOT EXISTS (SELECT 1 FROM main.genie_analytics.genie_space_details AS d
                  WHERE d.workspace_id = :workspace_id AND d.space_id = s.space_id)
  AND NOT EXISTS (SELECT 1 FROM main.genie_analytics.genie_space_fetch_errors AS e
                  WHERE e.workspace_id = :workspace_id AND e.space_id = s.space_id)
