-- genie-obs doctor: the service principal may read system.access.workspaces_latest (USE CATALOG, USE SCHEMA, SELECT); no rows read.
SELECT * FROM system.access.workspaces_latest LIMIT 0
