-- Distinct spaces of one workspace seen in genie_messages_to_fetch, within the allow list (comma-separated
-- ids, empty = all). Params: :workspace_id, :space_ids
SELECT DISTINCT space_id
FROM main.genie_analytics.genie_messages_to_fetch
WHERE workspace_id = :workspace_id
  AND (:space_ids = '' OR array_contains(split(:space_ids, ','), space_id))
ORDER BY space_id
