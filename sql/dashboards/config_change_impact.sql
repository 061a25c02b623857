-- Configuration changes of every space, newest first, with what changed (semantic diff by section) and the
-- space's success rate and negative-feedback rate in the window before and after the change, and how each moved
-- (after - before; NULL when either side had no answers).
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  space_id,
  COALESCE(space_title, space_id) AS space,
  version_number, changed_at, diff_summary, sections_changed, items_added, items_removed, items_changed,
  window_days,
  questions_before, success_rate_before, negative_feedback_rate_before,
  questions_after, success_rate_after, negative_feedback_rate_after,
  success_rate_change,
  diff_json,
  negative_feedback_rate_change
FROM main.genie_analytics.mart_space_config_changes
ORDER BY changed_at DESC, workspace_id, space_id
