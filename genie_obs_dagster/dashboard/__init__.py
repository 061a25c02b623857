"""Dashboards over the marts: a self-contained local HTML page and an AI/BI (Lakeview) definition, both fed by
the same dataset queries in ``sql/dashboards/``. Plain Python: never imports dagster."""
