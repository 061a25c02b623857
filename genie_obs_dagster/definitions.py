"""The code location's entry point (``workspace.yaml``, ``[tool.dagster]``): settings in, Definitions out."""

from .code_location import build_definitions
from .settings import load_settings

defs = build_definitions(load_settings())
