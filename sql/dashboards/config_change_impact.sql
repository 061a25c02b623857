-- Configuration changes of every space, newest first, with what changed (semantic diff by section) and the
-- space's success rate and negative-feedback rate in the window before and after the change, and how each moved
-- (after - before; NULL when either side had no answers). `space` is what the space is called now (its page,
-- filters); `title_after_change` is its title in the version the change made.
SELECT
  c.workspace_id,
  COALESCE(c.workspace_name, c.workspace_id) AS workspace_name,
  c.space_id,
  COALESCE(d.title, c.space_title, c.space_id) AS space,
  c.space_title AS title_after_change,
  c.version_number, c.changed_at, c.diff_summary, c.sections_changed, c.items_added, c.items_removed,
  c.items_changed, c.window_days,
  c.questions_before, c.success_rate_before, c.negative_feedback_rate_before,
  c.questions_after, c.success_rate_after, c.negative_feedback_rate_after,
  c.success_rate_change,
  c.diff_json,
  c.negative_feedback_rate_change
FROM main.genie_analytics.mart_space_config_changes AS c
LEFT JOIN main.genie_analytics.genie_space_details AS d
  ON d.workspace_id = c.workspace_id AND d.space_id = c.space_id
ORDER BY c.changed_at DESC, c.workspace_id, c.space_id
