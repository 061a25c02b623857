-- Mart "configuration changes": one row per (workspace_id, space_id, to_config_hash), i.e. per change of a space's
-- configuration, with its semantic diff (genie_space_config_diffs) and the space's outcomes in the window_days
-- days before and after the change, from message_details (questions asked in [changed_at - window, changed_at)
-- and [changed_at, changed_at + window)). Windows of changes less than window_days apart overlap.
-- Clustered by (workspace_id, space_id), the dashboard's filter.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_space_config_changes (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id',
  to_config_hash STRING NOT NULL COMMENT 'The configuration version after the change',
  from_config_hash STRING NOT NULL COMMENT 'The version before it',
  version_number INT NOT NULL COMMENT 'Number of the version after the change (2, 3, ...)',
  workspace_name STRING COMMENT 'Workspace name',
  space_title STRING COMMENT 'Space title in the version after the change',
  changed_at TIMESTAMP NOT NULL COMMENT 'When the change was made (the API update time of the new version, else first seen, UTC)',
  items_added INT NOT NULL COMMENT 'Items added, all sections together',
  items_removed INT NOT NULL COMMENT 'Items removed, all sections together',
  items_changed INT NOT NULL COMMENT 'Items changed, all sections together',
  sections_changed STRING COMMENT 'Sections that changed, comma-separated',
  diff_summary STRING NOT NULL COMMENT 'Counts per changed section, e.g. tables +1 -0 ~1',
  diff_json STRING NOT NULL COMMENT 'Names of the added, removed and changed items per section, as JSON',
  window_days INT NOT NULL COMMENT 'Length of the before and after windows, in days',
  questions_before BIGINT NOT NULL COMMENT 'Questions asked in the space in the window before the change',
  finished_before BIGINT NOT NULL COMMENT 'Of those, answers that ended COMPLETED, FAILED or CANCELLED',
  completed_before BIGINT NOT NULL COMMENT 'Of those, answers that ended COMPLETED',
  negative_feedback_before BIGINT NOT NULL COMMENT 'Questions of the window before rated NEGATIVE',
  success_rate_before DOUBLE COMMENT 'completed / finished in the window before (NULL without finished answers)',
  negative_feedback_rate_before DOUBLE COMMENT 'negative feedback / questions in the window before (NULL without questions)',
  questions_after BIGINT NOT NULL COMMENT 'Questions asked in the space in the window after the change',
  finished_after BIGINT NOT NULL COMMENT 'Of those, answers that ended COMPLETED, FAILED or CANCELLED',
  completed_after BIGINT NOT NULL COMMENT 'Of those, answers that ended COMPLETED',
  negative_feedback_after BIGINT NOT NULL COMMENT 'Questions of the window after rated NEGATIVE',
  success_rate_after DOUBLE COMMENT 'completed / finished in the window after (NULL without finished answers)',
  negative_feedback_rate_after DOUBLE COMMENT 'negative feedback / questions in the window after (NULL without questions)',
  success_rate_change DOUBLE COMMENT 'success_rate_after - success_rate_before (NULL when either is NULL)',
  negative_feedback_rate_change DOUBLE COMMENT 'negative_feedback_rate_after - negative_feedback_rate_before (NULL when either is NULL)'
) USING DELTA
CLUSTER BY (workspace_id, space_id)
COMMENT 'Mart: Genie space configuration changes with success rate and feedback before and after';
