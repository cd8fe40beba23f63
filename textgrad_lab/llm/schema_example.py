"""A minimal instance of a JSON schema, so `get_engine("mock")` can answer structured calls."""

from __future__ import annotations

from typing import Any

_MAX_DEPTH = 20


def example_from_schema(
    schema: dict[str, Any], defs: dict[str, Any] | None = None, depth: int = 0
) -> Any:
    """Return a small value that validates against `schema` (common pydantic shapes)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if depth > _MAX_DEPTH:
        return None
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return example_from_schema(defs.get(name, {}), defs, depth + 1)
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example_from_schema(options[0], defs, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = schema.get("required", list(props))
        return {k: example_from_schema(props[k], defs, depth + 1) for k in required if k in props}
    if kind == "array":
        n = schema.get("minItems", 0)
        item = schema.get("items", {})
        return [example_from_schema(item, defs, depth + 1) for _ in range(n)]
    if kind == "string":
        return "x" * schema.get("minLength", 0)
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0.0))
    if kind == "boolean":
        return False
    return None
