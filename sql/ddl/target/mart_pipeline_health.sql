-- Mart "pipeline health": one row per configured workspace (workspace_id). Coverage counts only messages
-- in the workspace's space allow list; the rest are reported as excluded. Rebuilt per workspace.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_pipeline_health (
  workspace_id STRING NOT NULL,
  workspace_name STRING,
  audit_events BIGINT NOT NULL,       -- rows in genie_audit_events
  latest_audit_event_time TIMESTAMP,  -- freshness of the audit layer
  messages_listed BIGINT NOT NULL,    -- genie_messages_to_fetch rows in allowed spaces
  messages_excluded BIGINT NOT NULL,  -- listed but outside the allow list (never fetched)
  messages_with_details BIGINT NOT NULL,
  messages_missing BIGINT NOT NULL,   -- listed without details (fetch failed or not run yet)
  messages_api_only BIGINT NOT NULL,  -- in message_details but never seen in the audit log (found by listing)
  messages_pending BIGINT NOT NULL,   -- in message_details (allowed spaces) but not final: fetched again later
  coverage DOUBLE,                    -- messages_with_details / messages_listed
  open_fetch_errors BIGINT NOT NULL,
  permanent_fetch_errors BIGINT NOT NULL,
  latest_fetch_time TIMESTAMP,        -- last successful message fetch
  spaces_listed BIGINT NOT NULL,
  spaces_with_details BIGINT NOT NULL,
  open_space_fetch_errors BIGINT NOT NULL,
  latest_space_fetch_time TIMESTAMP,
  refreshed_at TIMESTAMP NOT NULL
) COMMENT 'Mart: coverage, pending work, errors and freshness per workspace';
