-- Bronze rows of one workspace over an inclusive range of event dates.
-- Events of spaces outside the workspace's allow list (:space_ids, comma-separated; '' = all) are not kept;
-- events that name no space (e.g. listing spaces) are.
-- Params: :workspace_id, :start_date, :end_date, :ingestion_principal, :space_ids
SELECT
  a.event_id,
  a.workspace_id,
  w.workspace_name,
  w.workspace_url,
  a.event_time,
  a.event_date,
  a.action_name,
  CASE
    WHEN a.action_name IN ('createConversationMessage', 'genieStartConversationMessage', 'genieCreateConversationMessage',
                           'regenerateConversationMessage') THEN 'ask'
    WHEN a.action_name IN ('getConversationMessage', 'genieGetConversationMessage') THEN 'read'
    WHEN a.action_name IN ('getMessageQueryResult', 'genieGetMessageAttachmentQueryResult', 'genieGetMessageQueryResult',
                           'executeMessageQuery', 'genieExecuteMessageAttachmentQuery', 'genieExecuteMessageQuery') THEN 'query_result'
    WHEN a.action_name IN ('updateConversationMessageFeedback', 'genieSendMessageFeedback') THEN 'feedback'
    WHEN a.action_name IN ('createConversationMessageComment', 'genieCreateMessageComment') THEN 'comment'
    WHEN a.action_name IN ('getSpace', 'genieGetSpace', 'genieListSpaces', 'createSpace', 'updateSpace', 'trashSpace',
                           'cloneSpace') THEN 'space'
    WHEN a.action_name IN ('createConversation', 'deleteConversation', 'listConversations',
                           'genieListConversations', 'genieDeleteConversation') THEN 'conversation'
    ELSE 'other'
  END AS action_kind,
  NULLIF(a.request_params['space_id'], 'new') AS space_id,
  a.request_params['conversation_id'] AS conversation_id,
  a.request_params['message_id'] AS message_id,
  a.request_params['feedback_rating'] AS feedback_rating,
  a.user_identity.email AS user_email,
  COALESCE(a.user_identity.email = :ingestion_principal, FALSE) AS is_ingestion_principal,
  a.response.status_code AS status_code,
  a.response.error_message AS error_message,
  a.user_agent,
  a.request_id
FROM system.access.audit AS a
LEFT JOIN system.access.workspaces_latest AS w
  ON w.account_id = a.account_id AND w.workspace_id = a.workspace_id
WHERE a.service_name = 'aibiGenie'
  AND a.workspace_id = :workspace_id
  AND a.event_date BETWEEN :start_date AND :end_date
  AND (:space_ids = '' OR a.request_params['space_id'] IS NULL
       OR array_contains(split(:space_ids, ','), a.request_params['space_id']))
