-- A few rows for the Dagster UI preview. Params: :workspace_id, :start_date, :end_date
SELECT workspace_id, first_seen_date, space_id, message_id, asker_email, ask_channel, event_count
FROM main.genie_analytics.genie_messages_to_fetch
WHERE workspace_id = :workspace_id AND first_seen_date BETWEEN :start_date AND :end_date
ORDER BY first_event_time DESC, message_id
LIMIT 10
