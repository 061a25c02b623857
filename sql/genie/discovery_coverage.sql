-- How the audit log and the API listing agree, for one workspace (within the space allow list).
-- Params: :workspace_id, :space_ids
WITH audit AS (
  SELECT message_id FROM main.genie_analytics.genie_messages_to_fetch
  WHERE workspace_id = :workspace_id AND (:space_ids = '' OR array_contains(split(:space_ids, ','), space_id))
),
api AS (
  SELECT message_id FROM main.genie_analytics.genie_api_messages
  WHERE workspace_id = :workspace_id AND (:space_ids = '' OR array_contains(split(:space_ids, ','), space_id))
)
SELECT
  (SELECT COUNT(*) FROM api) AS api_messages,
  (SELECT COUNT(*) FROM audit) AS audit_messages,
  (SELECT COUNT(*) FROM api WHERE message_id IN (SELECT message_id FROM audit)) AS in_both,
  (SELECT COUNT(*) FROM api WHERE message_id NOT IN (SELECT message_id FROM audit)) AS api_only,
  (SELECT COUNT(*) FROM audit WHERE message_id NOT IN (SELECT message_id FROM api)) AS audit_only
