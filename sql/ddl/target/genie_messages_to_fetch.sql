-- Silver: one row per (workspace_id, message_id) seen by a person in the audit log.
-- The row belongs to first_seen_date (the earliest day a person touched the message); a partition run
-- recomputes the rows of the messages it touched from all of bronze, so late rows move ownership earlier.
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_messages_to_fetch (
  workspace_id STRING NOT NULL,
  message_id STRING NOT NULL,
  space_id STRING NOT NULL,
  conversation_id STRING NOT NULL,
  workspace_name STRING,
  workspace_url STRING,
  first_seen_date DATE NOT NULL,
  first_event_time TIMESTAMP NOT NULL,
  last_event_time TIMESTAMP NOT NULL,
  asker_email STRING,                 -- who asked in the conversation, else the earliest reader who is not the
                                      -- ingestion principal; the API's user_id overrides it later
  asked_at TIMESTAMP,                 -- the asker's ask event matched to this message, when found
  ask_channel STRING,                 -- UI | API | NULL when no ask event matched
  discovered_via STRING NOT NULL,     -- action_name of the earliest person event carrying the message id
  event_count BIGINT NOT NULL,        -- person events carrying the message id (ingestion principal excluded)
  reader_count BIGINT NOT NULL,       -- distinct people among them
  feedback_rating STRING,             -- latest rating seen in the audit log
  review_requested BOOLEAN NOT NULL
) COMMENT 'Messages to fetch from the Genie API (silver)';
