"""Dagster wiring: each module builds its assets from settings; logic lives in warehouse/ and genie/."""
