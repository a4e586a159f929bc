"""`goalsync schema`: goalsync.yaml's JSON Schema, for editors that complete and check YAML.

Generated from the same pydantic models that validate the file (sync/config.py), so it cannot
drift from them; then widened where the loader is more lenient than the models' types say:
- select clause keys (and each field of `project_fields:`), `state:` and `people:` aliases take one
  value or a list (`labels: billing` or `labels: [billing, invoices]`), and numbers where names are
  meant (`parent: 100`);
- goal and key result ids may be written as numbers (`id: 1`).
It checks less than `goalsync validate` (which also checks the plan: ids unique, dates in
order, clauses that fit their source), never more: whatever validates, the schema accepts.

Editors that use yaml-language-server (VS Code's YAML extension, Neovim, JetBrains) pick it up
from a first-line comment in goalsync.yaml:
`# yaml-language-server: $schema=./goalsync.schema.json`.
"""

from __future__ import annotations

from typing import Any

from sync import __version__
from sync.config import config_model

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_SCALAR_NAME: dict[str, Any] = {"type": ["string", "number"]}


def config_schema() -> dict[str, Any]:
    schema = config_model().model_json_schema(mode="validation")
    defs: dict[str, Any] = schema.get("$defs", {})
    select = defs.get("SelectClause", {}).get("properties", {})
    for name, prop in select.items():
        if name == "project_fields":  # {Field: value or [values]}, text or numbers
            for option in prop.get("anyOf", ()):
                if isinstance(option, dict) and "additionalProperties" in option:
                    many = {"type": "array", "items": _SCALAR_NAME}  # Estimate: [3, 5]
                    option["additionalProperties"] = {"anyOf": [many, _SCALAR_NAME]}
        elif name != "jql":
            _one_or_many(prop)
    key_result = defs.get("KeyResult", {}).get("properties", {})
    if "state" in key_result:
        _one_or_many(key_result["state"])
    for model in ("Goal", "KeyResult"):
        props = defs.get(model, {}).get("properties", {})
        if "id" in props:
            props["id"] = {**_SCALAR_NAME, "title": "Id"}
    people = schema.get("properties", {}).get("people", {})
    aliases = people.get("additionalProperties")
    if isinstance(aliases, dict):
        people["additionalProperties"] = {"anyOf": [aliases, _SCALAR_NAME]}
    return {
        "$schema": DIALECT,
        "title": "goalsync.yaml",
        "description": f"goalsync {__version__} configuration: sources, sinks, goals and key "
        "results. `goalsync validate` checks more than this schema can.",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def _one_or_many(prop: dict[str, Any]) -> None:
    """`x: [a, b]` or `x: a` (and numbers for names): the loader reads a scalar as a list of
    one. The property's array alternative keeps its items' schema (an enum, say)."""
    options = prop.get("anyOf")
    if not isinstance(options, list):
        return
    arrays = [o for o in options if isinstance(o, dict) and o.get("type") == "array"]
    extra: list[Any] = []
    for array in arrays:
        items = array.get("items", {})
        if isinstance(items, dict) and items.get("type") == "string" and "enum" not in items:
            extra.append(_SCALAR_NAME)
        else:
            extra.append(items)
    prop["anyOf"] = [*options, *extra]
