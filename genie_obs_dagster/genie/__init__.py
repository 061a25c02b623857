"""Plain-Python Genie access (no Dagster): OAuth via databricks-sdk, a budgeted client, row shaping."""
