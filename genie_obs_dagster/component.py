"""The product as a Dagster Component: its YAML attributes are the settings (the one way to configure it).

A ``defs.yaml`` in any ``dg`` project's defs folder::

    type: genie_obs_dagster.GenieObservabilityComponent
    attributes:
      workspaces: [{id: "1234567890123456", url: https://adb-1234567890123456.7.azuredatabricks.net}]
      history: {start_date: 2026-01-01}
      ingestion_principal: {identity: <application id>}
      credentials:
        client_id: "{{ env.GENIE_OBS_CLIENT_ID }}"
        client_secret: "{{ env.GENIE_OBS_CLIENT_SECRET }}"

Two checks, one source of truth (the pydantic models of :mod:`.settings`):

- ``dg check yaml`` validates the raw attributes against :meth:`GenieObservabilityAttributes.model_json_schema`,
  the settings' JSON schema (unknown keys, types, ranges, identifier and id patterns) where every scalar may
  also be a ``{{ ... }}`` template;
- loading (``dg check defs``, ``dg dev``, a run) resolves the templates and validates with the settings models,
  whose errors name the setting, the value (only where it cannot be a secret) and what is allowed.

Credentials are references, never values: ``"{{ env.VAR }}"`` under ``credentials`` is read as *the name* of the
variable (its value is read inside the run, when a token is first needed, so it never reaches Dagster's
configuration, a log or an error), and ``{secret_scope: S, key: K}`` names a Databricks secret.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from pydantic import BaseModel, ConfigDict

from .settings import Settings, SettingsError, parse_settings, yaml_problem

COMPONENT_TYPE = "genie_obs_dagster.GenieObservabilityComponent"
# The project's own instance (the embedded default): also the template `dg scaffold defs` writes.
PACKAGED_DEFS_YAML = Path(__file__).parent / "defs" / "genie_obs" / "defs.yaml"

# "{{ env.NAME }}", "{{ env('NAME') }}" or '{{ env("NAME") }}', nothing else around it.
ENV_TEMPLATE_RE = re.compile(r"""^\s*\{\{\s*env(?:\.([A-Za-z_][A-Za-z0-9_]*)|\(\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\2\s*\))\s*\}\}\s*$""")
TEMPLATE_PATTERN = r"\{\{.*\}\}"  # a string value that is a template, e.g. "{{ env.VAR }}"
CREDENTIAL_KEYS = ("client_id", "client_secret")
CREDENTIAL_ALLOWED = ('expected a reference: "{{ env.VAR_NAME }}", {env: VAR_NAME} or {secret_scope: SCOPE, key: KEY}; '
                      "a secret value is never allowed here (the value is not shown)")


def _credential_sections(raw: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every ``credentials`` mapping of the attributes, with its setting path."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(raw.get("credentials"), dict):
        found.append(("credentials", raw["credentials"]))
    for i, ws in enumerate(raw.get("workspaces") or []):
        if isinstance(ws, dict) and isinstance(ws.get("credentials"), dict):
            found.append((f"workspaces.{i}.credentials", ws["credentials"]))
    warehouse = raw.get("warehouse")
    databricks = warehouse.get("databricks") if isinstance(warehouse, dict) else None
    if isinstance(databricks, dict) and isinstance(databricks.get("credentials"), dict):
        found.append(("warehouse.databricks.credentials", databricks["credentials"]))
    return found


def _as_reference(value: Any, where: str, source: str) -> Any:
    """A credential as a reference: a ``{{ env.X }}`` template becomes ``{env: X}`` (never resolved); mappings
    are checked by the settings model; any other string is refused without being shown."""
    if isinstance(value, str):
        m = ENV_TEMPLATE_RE.match(value)
        if m is None:
            raise SettingsError(f"invalid settings in {source}:\n  - {where}: {CREDENTIAL_ALLOWED}")
        return {"env": m.group(1) or m.group(3)}
    return value


def settings_from_attributes(attributes: Mapping[str, Any] | None, source: str,
                             resolve: Callable[[Any], Any] | None = None) -> Settings:
    """Validated settings from a component's raw attributes: credentials turned into references, every other
    ``{{ ... }}`` template resolved by ``resolve`` (Dagster's resolution context), then the settings models."""
    if attributes is not None and not isinstance(attributes, Mapping):
        raise SettingsError(f"invalid settings in {source}: 'attributes' must be a mapping")
    raw = copy.deepcopy(dict(attributes or {}))
    references: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for where, section in _credential_sections(raw):
        # Unknown keys pass unresolved: the settings model names them (never their value) with the allowed keys.
        refs = {key: _as_reference(value, f"{where}.{key}", source) if key in CREDENTIAL_KEYS else value
                for key, value in section.items()}
        references.append((section, refs))
        section.clear()  # resolved below without them: a credential is never rendered
    resolved = dict(resolve(raw)) if resolve is not None else raw
    for (_, refs), (_, section) in zip(references, _credential_sections(resolved), strict=True):
        section.update(refs)
    return parse_settings(resolved, source=source)


def _default_resolve(source: str) -> Callable[[Any], Any]:
    def resolve(value: Any) -> Any:
        try:
            return dg.ResolutionContext.default().at_path("attributes").resolve_value(value)
        except Exception as exc:  # a template error: say which file; the template text is the user's own
            raise SettingsError(f"invalid settings in {source}: a template could not be resolved "
                                f"({type(exc).__name__}: {str(exc).strip().splitlines()[-1]})") from None
    return resolve


def load_component_settings(path: str | Path | None = None) -> Settings:
    """The settings of the component instance in ``path`` (a ``defs.yaml``; default: this project's), for commands
    that run outside a code location (``genie-obs demo``, ``doctor``, ``lakeview``, ``sandbox``)."""
    file = Path(path) if path else PACKAGED_DEFS_YAML
    if not file.is_file():
        raise SettingsError(f"component file {str(file)!r} not found; expected the defs.yaml of a "
                            f"{COMPONENT_TYPE} instance (see README, Configuration)")
    try:
        documents = [d for d in yaml.safe_load_all(file.read_text()) if d is not None]
    except yaml.YAMLError as exc:
        problem = yaml_problem(exc)
    else:
        ours = [d for d in documents if isinstance(d, dict) and str(d.get("type", "")).endswith(
            COMPONENT_TYPE.rsplit(".", 1)[-1])]
        if len(ours) != 1:
            raise SettingsError(f"{file} holds {len(ours)} {COMPONENT_TYPE} instances; expected exactly one")
        return settings_from_attributes(ours[0].get("attributes"), str(file), _default_resolve(str(file)))
    # Raised outside the handler: the YAML error's text quotes the offending line, which may hold a secret.
    raise SettingsError(f"component file {str(file)!r} is not valid YAML: {problem}")


def defs_yaml_for(settings: Settings) -> str:
    """A ``defs.yaml`` holding these settings as the component's attributes (credentials stay references): what a
    program writes to hand validated settings to another process, e.g. a run in a subprocess."""
    attributes = settings.model_dump(mode="json", by_alias=True, exclude_none=True)
    return yaml.safe_dump({"type": COMPONENT_TYPE, "attributes": attributes}, sort_keys=False)


def _allow_templates(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` where a number or a patterned string may also be a ``{{ ... }}`` template (resolved at load), and
    a credential may also be a string (checked at load, where a value is refused without being shown).

    No ``anyOf`` for templates: JSON schema applies ``minimum``/``maximum`` to numbers only and ``pattern`` to
    strings only, so ``type: [integer, string]`` keeps jsonschema's precise messages ("-5 is less than the minimum
    of 1") instead of "is not valid under any of the given schemas". Enums (``backend``) take no template."""
    if "$ref" in schema:
        if schema["$ref"].endswith("/SecretRef"):
            return {"anyOf": [{"$ref": schema["$ref"]}, {"type": "string", "description": CREDENTIAL_ALLOWED}],
                    **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema
    if "anyOf" in schema:
        return {**schema, "anyOf": [_allow_templates(s) for s in schema["anyOf"]]}
    kind = schema.get("type")
    if kind == "object":
        return {**schema, "properties": {k: _allow_templates(v) for k, v in schema.get("properties", {}).items()}}
    if kind == "array":
        return {**schema, "items": _allow_templates(schema.get("items", {}))}
    if kind in ("integer", "number"):
        return {**schema, "type": [kind, "string"], "pattern": TEMPLATE_PATTERN}
    if "pattern" in schema:  # a string (or a workspace id, a string or an integer)
        return {**schema, "pattern": f"{schema['pattern']}|{TEMPLATE_PATTERN}"}
    return schema


class GenieObservabilityAttributes(BaseModel):
    """The component's attributes as YAML gives them (templates unresolved). Validation here is deliberately
    loose (templates may stand for any value); the real checks run at load (:func:`settings_from_attributes`)
    and, for ``dg check yaml``, against :meth:`model_json_schema`, the settings' own schema."""

    model_config = ConfigDict(extra="allow")

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        schema = Settings.model_json_schema(by_alias=True)
        out = _allow_templates(schema)
        out["$defs"] = {name: _allow_templates(d) for name, d in schema.get("$defs", {}).items()}
        out["title"] = "GenieObservabilityComponent"
        out["description"] = "Genie observability settings (README, Configuration)."
        return out


class GenieObservabilityScaffolder(dg.Scaffolder):
    """``dg scaffold defs genie_obs_dagster.GenieObservabilityComponent <name>``: writes the embedded default
    (two simulated workspaces on loopback, DuckDB) with comments on what to change for production."""

    def scaffold(self, request: dg.ScaffoldRequest) -> None:
        text = PACKAGED_DEFS_YAML.read_text()
        if request.type_name != COMPONENT_TYPE:
            text = text.replace(f"type: {COMPONENT_TYPE}", f"type: {request.type_name}", 1)
        target = request.target_path / "defs.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


@dg.scaffold_with(GenieObservabilityScaffolder)
class GenieObservabilityComponent(dg.Component):
    """Genie observability for Databricks AI/BI Genie spaces across workspaces: the audit-log and Genie API
    assets per workspace x day, space configuration, marts and dashboard, with their jobs, sensor, schedules
    and resources. Attributes: the settings (README, Configuration). One instance per code location."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def get_model_cls(cls) -> type[BaseModel]:
        return GenieObservabilityAttributes

    @classmethod
    def load(cls, attributes: BaseModel | None, context: dg.ComponentLoadContext) -> GenieObservabilityComponent:
        raw = attributes.model_dump() if attributes is not None else {}
        source = str(context.path / "defs.yaml") if context.path.is_dir() else str(context.path)
        resolution = context.resolution_context.at_path("attributes")
        return cls(settings_from_attributes(raw, source, resolution.resolve_value))

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from .code_location import build_definitions

        return build_definitions(self.settings)
