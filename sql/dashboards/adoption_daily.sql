-- Daily, weekly, new and returning askers per scope (a workspace, or 'all' counting each person once).
SELECT scope, scope_name, activity_date, active_askers, new_askers, returning_askers, weekly_active_askers, questions
FROM main.genie_analytics.mart_adoption_daily
ORDER BY scope, activity_date
