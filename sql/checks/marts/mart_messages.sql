-- Grain of mart_messages: (workspace_id, message_id) not null and unique; one row per message listed in genie_messages_to_fetch or held in message_details.
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_messages) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_messages WHERE workspace_id IS NULL OR message_id IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_messages GROUP BY workspace_id, message_id HAVING COUNT(*) > 1) AS d) AS duplicate_keys,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_messages) AS total,
  (SELECT COUNT(*) FROM (SELECT workspace_id, message_id FROM main.genie_analytics.genie_messages_to_fetch UNION SELECT workspace_id, message_id FROM main.genie_analytics.message_details) AS k) AS expected_total
