-- genie-obs doctor: the service principal may read system.access.audit (USE CATALOG, USE SCHEMA, SELECT); no rows read.
SELECT * FROM system.access.audit LIMIT 0
