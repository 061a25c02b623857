-- Configuration changes of every space (genie_space_config_diffs: the semantic diff, computed in Python) with the
-- space's outcomes in the 7 days (window_days) before and after each change, from message_details: questions asked
-- in [changed_at - window, changed_at) and [changed_at, changed_at + window). Success rate as everywhere:
-- completed / (completed + failed + cancelled); negative-feedback rate: questions rated NEGATIVE / questions.
WITH windows AS (
  SELECT
    c.workspace_id, c.space_id, c.to_config_hash,
    COUNT(CASE WHEN m.created_at < c.changed_at THEN 1 END) AS questions_before,
    COUNT(CASE WHEN m.created_at < c.changed_at AND m.status IN ('COMPLETED', 'FAILED', 'CANCELLED') THEN 1 END) AS finished_before,
    COUNT(CASE WHEN m.created_at < c.changed_at AND m.status = 'COMPLETED' THEN 1 END) AS completed_before,
    COUNT(CASE WHEN m.created_at < c.changed_at AND m.feedback_rating = 'NEGATIVE' THEN 1 END) AS negative_feedback_before,
    COUNT(CASE WHEN m.created_at >= c.changed_at THEN 1 END) AS questions_after,
    COUNT(CASE WHEN m.created_at >= c.changed_at AND m.status IN ('COMPLETED', 'FAILED', 'CANCELLED') THEN 1 END) AS finished_after,
    COUNT(CASE WHEN m.created_at >= c.changed_at AND m.status = 'COMPLETED' THEN 1 END) AS completed_after,
    COUNT(CASE WHEN m.created_at >= c.changed_at AND m.feedback_rating = 'NEGATIVE' THEN 1 END) AS negative_feedback_after
  FROM main.genie_analytics.genie_space_config_diffs AS c
  LEFT JOIN main.genie_analytics.message_details AS m
    ON m.workspace_id = c.workspace_id AND m.space_id = c.space_id
    AND m.created_at >= c.changed_at - INTERVAL 7 DAYS
    AND m.created_at < c.changed_at + INTERVAL 7 DAYS
  GROUP BY c.workspace_id, c.space_id, c.to_config_hash
),
workspaces AS (
  SELECT workspace_id, MAX(workspace_name) AS workspace_name
  FROM main.genie_analytics.genie_messages_to_fetch
  GROUP BY workspace_id
),
rates AS (
  SELECT
    c.workspace_id, c.space_id, c.to_config_hash, c.from_config_hash, c.version_number, w.workspace_name,
    c.space_title, c.changed_at, c.items_added, c.items_removed, c.items_changed, c.sections_changed,
    c.diff_summary, c.diff_json,
    CAST(7 AS INT) AS window_days,
    x.questions_before, x.finished_before, x.completed_before, x.negative_feedback_before,
    CAST(x.completed_before AS DOUBLE) / NULLIF(x.finished_before, 0) AS success_rate_before,
    CAST(x.negative_feedback_before AS DOUBLE) / NULLIF(x.questions_before, 0) AS negative_feedback_rate_before,
    x.questions_after, x.finished_after, x.completed_after, x.negative_feedback_after,
    CAST(x.completed_after AS DOUBLE) / NULLIF(x.finished_after, 0) AS success_rate_after,
    CAST(x.negative_feedback_after AS DOUBLE) / NULLIF(x.questions_after, 0) AS negative_feedback_rate_after
  FROM main.genie_analytics.genie_space_config_diffs AS c
  JOIN windows AS x
    ON x.workspace_id = c.workspace_id AND x.space_id = c.space_id AND x.to_config_hash = c.to_config_hash
  LEFT JOIN workspaces AS w
    ON w.workspace_id = c.workspace_id
)
SELECT *, success_rate_after - success_rate_before AS success_rate_change,
  negative_feedback_rate_after - negative_feedback_rate_before AS negative_feedback_rate_change
FROM rates
