-- Spaces of one workspace whose stored configuration may hold benchmark questions (the caller parses
-- serialized_space), within the allow list (comma-separated ids, empty = all). Params: :workspace_id, :space_ids
SELECT space_id, title, serialized_space
FROM main.genie_analytics.genie_space_details
WHERE workspace_id = :workspace_id
  AND serialized_space IS NOT NULL
  AND (:space_ids = '' OR array_contains(split(:space_ids, ','), space_id))
ORDER BY space_id
