"""The SQL files (Databricks dialect), shipped in the wheel as the package ``genie_obs_dagster.sql``
(``pyproject.toml`` maps this folder there); ``genie_obs_dagster.warehouse.sql`` reads them."""
