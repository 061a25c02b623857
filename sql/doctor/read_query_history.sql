-- genie-obs doctor: the service principal may read system.query.history (USE CATALOG, USE SCHEMA, SELECT); no rows read.
SELECT * FROM system.query.history LIMIT 0
