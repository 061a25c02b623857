-- genie-obs doctor: the SQL warehouse runs a statement for the service principal (CAN USE).
SELECT 1 AS ok
