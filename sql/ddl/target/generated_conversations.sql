-- Test questions asked by `genie-obs generate-conversations` / the genie_generate_conversations job: one row per
-- question (a conversation's first question and its follow-ups), written by MERGE on (generation_id, workspace_id,
-- space_id, conversation_no, turn) as each question reaches its final status, times out or fails. The asset check
-- genie_generated_messages_found compares it with the audit path (genie_audit_events, genie_messages_to_fetch) and
-- message_details / message_fetch_errors. Clustered by (workspace_id, generation_id).
CREATE TABLE IF NOT EXISTS main.genie_analytics.generated_conversations (
  generation_id STRING NOT NULL COMMENT 'One generation (the Dagster run id, or a UUID for the command)',
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id asked in',
  space_id STRING NOT NULL COMMENT 'Genie space id asked in',
  conversation_no INT NOT NULL COMMENT 'Number of the conversation within the generation and space (1, 2, ...)',
  turn INT NOT NULL COMMENT '0 for the question that started the conversation, 1 or 2 for its follow-ups',
  conversation_id STRING COMMENT 'Genie conversation id (NULL when starting the conversation failed)',
  message_id STRING COMMENT 'Genie message id of the question (NULL when the question could not be asked)',
  question STRING NOT NULL COMMENT 'The question asked (text of a sample question or benchmark of the space)',
  question_source STRING NOT NULL COMMENT 'Where the question comes from in serialized_space: sample_question or benchmark',
  question_ref STRING COMMENT 'Id of the sample question or benchmark in serialized_space',
  asked_as STRING COMMENT 'OAuth client id (application id) of the principal that asked, as in the audit log user_identity.email',
  asked_at TIMESTAMP NOT NULL COMMENT 'When the question POST was sent (UTC)',
  ask_ms BIGINT COMMENT 'Duration of the question POST in milliseconds, waits for the questions-per-minute limit excluded',
  throttle_wait_ms BIGINT COMMENT 'Milliseconds waited before the POST for the questions-per-minute limit and Retry-After',
  created_timestamp BIGINT COMMENT 'created_timestamp of the message as the API returned it (epoch milliseconds)',
  final_seen_at TIMESTAMP COMMENT 'When a poll first saw the final status (UTC), NULL when it never did',
  answer_ms BIGINT COMMENT 'Milliseconds from the POST to the poll that saw the final status',
  polls INT NOT NULL COMMENT 'GET-message polls made for this question',
  last_status STRING COMMENT 'Latest MessageStatus seen by the generator',
  final_status STRING COMMENT 'COMPLETED, FAILED or CANCELLED as the generator saw it, NULL when not final (timeout or error)',
  timed_out BOOLEAN NOT NULL COMMENT 'True when no final status was seen within the poll timeout',
  recovered BOOLEAN NOT NULL COMMENT 'True when the answer to the POST was lost and the message was found by listing instead of asking again',
  error_type STRING COMMENT 'Classified failure of the question (ask or poll), as in message_fetch_errors, NULL when none',
  error_message STRING COMMENT 'Message of that failure (at most 1000 characters)',
  recorded_at TIMESTAMP NOT NULL COMMENT 'When this row was written (UTC)'
) USING DELTA
CLUSTER BY (workspace_id, generation_id)
COMMENT 'Test questions asked through the Genie API by the conversation generator, with their outcome';
