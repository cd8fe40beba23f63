"""The local engine lowers string bounds that llama.cpp's grammar cannot hold (offline)."""

from __future__ import annotations

from textgrad_lab.llm.local import GRAMMAR_MAX_CHARS, grammar_safe


def test_long_string_bounds_are_lowered_in_a_copy():
    schema = {
        "type": "object",
        "properties": {
            "short": {"type": "string", "maxLength": 300},
            "code": {"type": "string", "maxLength": 5000},
        },
        "$defs": {"Inner": {"properties": {"x": {"anyOf": [{"maxLength": 9999}]}}}},
        "required": ["short", "code"],
    }
    safe = grammar_safe(schema)
    assert safe["properties"]["short"]["maxLength"] == 300
    assert safe["properties"]["code"]["maxLength"] == GRAMMAR_MAX_CHARS
    assert safe["$defs"]["Inner"]["properties"]["x"]["anyOf"][0]["maxLength"] == GRAMMAR_MAX_CHARS
    assert schema["properties"]["code"]["maxLength"] == 5000  # the original is untouched
    safe["required"].append("z")
    assert schema["required"] == ["short", "code"]
