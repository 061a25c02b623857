-- Mart "pipeline health": one row per configured workspace (workspace_id). Coverage counts only messages
-- in the workspace's space allow list; the rest are reported as excluded. Rebuilt per workspace
-- (REPLACE WHERE workspace_id = ...), hence clustered by workspace_id.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_pipeline_health (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id (a configured workspace)',
  workspace_name STRING COMMENT 'Workspace name from the audit layer',
  audit_events BIGINT NOT NULL COMMENT 'Rows in genie_audit_events',
  latest_audit_event_time TIMESTAMP COMMENT 'Latest event in genie_audit_events: freshness of the audit layer',
  messages_listed BIGINT NOT NULL COMMENT 'genie_messages_to_fetch rows in allowed spaces',
  messages_excluded BIGINT NOT NULL COMMENT 'Listed but outside the space allow list (never fetched)',
  messages_with_details BIGINT NOT NULL COMMENT 'Listed messages held in message_details',
  messages_missing BIGINT NOT NULL COMMENT 'Listed without details (fetch failed or not run yet)',
  messages_api_only BIGINT NOT NULL COMMENT 'In message_details but never seen in the audit log (found by listing)',
  messages_pending BIGINT NOT NULL COMMENT 'In message_details (allowed spaces) but not final, fetched again later',
  coverage DOUBLE COMMENT 'messages_with_details / messages_listed, NULL when none listed',
  open_fetch_errors BIGINT NOT NULL COMMENT 'Unresolved message fetch errors',
  permanent_fetch_errors BIGINT NOT NULL COMMENT 'Unresolved message fetch errors that are not retried',
  latest_fetch_time TIMESTAMP COMMENT 'Latest successful message fetch (UTC)',
  spaces_listed BIGINT NOT NULL COMMENT 'Distinct allowed spaces with a listed message',
  spaces_with_details BIGINT NOT NULL COMMENT 'Spaces held in genie_space_details',
  open_space_fetch_errors BIGINT NOT NULL COMMENT 'Unresolved space fetch errors',
  latest_space_fetch_time TIMESTAMP COMMENT 'Latest successful space fetch (UTC)',
  refreshed_at TIMESTAMP NOT NULL COMMENT 'When this row was computed (UTC)'
) USING DELTA
CLUSTER BY (workspace_id)
COMMENT 'Mart: coverage, pending work, errors and freshness per workspace';
