-- Open fetch errors by type for one workspace's date range. Params: :workspace_id, :start_date, :end_date
SELECT error_type, permanent, COUNT(*) AS messages, SUM(attempt_count) AS attempts
FROM main.genie_analytics.message_fetch_errors
WHERE workspace_id = :workspace_id AND first_seen_date BETWEEN :start_date AND :end_date AND NOT resolved
GROUP BY error_type, permanent
ORDER BY messages DESC, error_type
