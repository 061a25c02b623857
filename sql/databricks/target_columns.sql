-- Columns of the product's tables as Unity Catalog knows them, in one statement (not one DESCRIBE per table):
-- the Databricks back end creates what is missing and adds columns that are new in the DDL (sql/ddl/target).
-- main.information_schema is the target catalog's information schema. Params: :schema (the target schema)
SELECT
  lower(c.table_name) AS table_name,
  lower(c.column_name) AS column_name
FROM main.information_schema.columns AS c
WHERE lower(c.table_schema) = lower(:schema)
