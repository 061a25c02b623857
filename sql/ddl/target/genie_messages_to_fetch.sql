-- Silver: one row per (workspace_id, message_id) seen by a person in the audit log.
-- The row belongs to first_seen_date (the earliest day a person touched the message); a partition run
-- recomputes the rows of the messages it touched from all of bronze, so late rows move ownership earlier.
-- Clustered by (workspace_id, first_seen_date): the partition filter of every reader and of the sensor.
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_messages_to_fetch (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  message_id STRING NOT NULL COMMENT 'Genie message id, unique within the workspace',
  space_id STRING NOT NULL COMMENT 'Genie space id, from the earliest person event of the message',
  conversation_id STRING NOT NULL COMMENT 'Genie conversation id, from the earliest person event of the message',
  workspace_name STRING COMMENT 'Workspace name from system.access.workspaces_latest',
  workspace_url STRING COMMENT 'Workspace URL from system.access.workspaces_latest',
  first_seen_date DATE NOT NULL COMMENT 'UTC day of first_event_time: the partition day that owns the row',
  first_event_time TIMESTAMP NOT NULL COMMENT 'Earliest successful person event carrying the message id (ingestion principal excluded)',
  last_event_time TIMESTAMP NOT NULL COMMENT 'Latest successful person event carrying the message id',
  asker_email STRING COMMENT 'Audit guess of the asker: latest ask in the conversation before first_event_time, else the earliest reader other than the ingestion principal. message_details.asker_user_name overrides it',
  asked_at TIMESTAMP COMMENT 'Time of the ask event matched to this message, NULL when none matched',
  ask_channel STRING COMMENT 'UI or API (genie* actions) for the matched ask event, NULL when none matched',
  discovered_via STRING NOT NULL COMMENT 'action_name of the earliest person event carrying the message id',
  event_count BIGINT NOT NULL COMMENT 'Person events carrying the message id (ingestion principal excluded)',
  reader_count BIGINT NOT NULL COMMENT 'Distinct people among those events',
  feedback_rating STRING COMMENT 'Latest feedback rating seen in the audit log (POSITIVE, NEGATIVE)',
  review_requested BOOLEAN NOT NULL COMMENT 'True when a person commented on the message (a review request)'
) USING DELTA
CLUSTER BY (workspace_id, first_seen_date)
COMMENT 'Messages to fetch from the Genie API (silver)';
