"""The code location's entry point (``workspace.yaml``, ``[tool.dg.project]``): the defs folder, which holds one
instance of ``GenieObservabilityComponent`` (``defs/genie_obs/defs.yaml``, the embedded default).

Loaded from the package's own ``defs`` module rather than through ``pyproject.toml``, so the same code location
loads from a checkout and from an installed wheel (which has no ``pyproject.toml``).
"""

import warnings
from pathlib import Path

import dagster as dg

from . import defs as defs_module


@dg.definitions
def defs() -> dg.Definitions:
    # Dagster's component loader and our two deliberate beta uses (backfill_policy, a partition mapping) warn on
    # every load; silenced for this build only, never process-wide, so a user's own beta usage still warns.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        built = dg.ComponentTree.from_module(defs_module=defs_module, project_root=Path(__file__).parent.parent).build_defs()
        built.get_repository_def()  # resolved here so that its warnings fall inside the block too
        return built
