-- Spaces ranked by questions, with their titles.
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  space_id,
  COALESCE(space_title, space_id) AS space,
  questions, conversations, askers, completed, failed, cancelled, success_rate,
  positive_feedback, negative_feedback, review_requests, active_days, first_asked_at, last_asked_at, questions_rank
FROM main.genie_analytics.mart_space_leaderboard
ORDER BY questions DESC, workspace_id, space_id
