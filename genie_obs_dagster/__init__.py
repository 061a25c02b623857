"""Genie observability for Databricks AI/BI Genie spaces, as a Dagster Component
(``genie_obs_dagster.GenieObservabilityComponent``) and this project's code location (``genie_obs_dagster.definitions``)."""

from .component import GenieObservabilityComponent

__all__ = ["GenieObservabilityComponent"]
