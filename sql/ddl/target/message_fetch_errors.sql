-- One row per (workspace_id, message_id) whose fetch failed, updated on every attempt and marked
-- resolved when a later attempt succeeds. Permanent errors (404 deleted, 403 revoked) are not retried.
CREATE TABLE IF NOT EXISTS main.genie_analytics.message_fetch_errors (
  workspace_id STRING NOT NULL,
  message_id STRING NOT NULL,
  space_id STRING,
  conversation_id STRING,
  first_seen_date DATE,
  error_type STRING NOT NULL,         -- AUTH_ERROR | PERMISSION_DENIED | NOT_FOUND | RATE_LIMITED | SERVER_ERROR |
                                      -- TIMEOUT | MALFORMED_RESPONSE | BAD_REQUEST | NO_TOKEN
  http_status INT,
  error_code STRING,
  error_message STRING,
  permanent BOOLEAN NOT NULL,
  attempt_count INT NOT NULL,
  first_attempt_at TIMESTAMP NOT NULL,
  last_attempt_at TIMESTAMP NOT NULL,
  resolved BOOLEAN NOT NULL,
  resolved_at TIMESTAMP
) COMMENT 'Failed Genie message fetches';
