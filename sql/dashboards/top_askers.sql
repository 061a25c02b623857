-- The 20 most active askers per scope, and how many askers the scope has in all.
SELECT
  scope, scope_name, asker, questions, conversations, spaces, active_days, completed, failed, negative_feedback,
  first_asked_at, last_asked_at, questions_rank,
  COUNT(*) OVER (PARTITION BY scope) AS askers_in_scope
FROM main.genie_analytics.mart_askers
QUALIFY questions_rank <= 20
ORDER BY scope, questions_rank
