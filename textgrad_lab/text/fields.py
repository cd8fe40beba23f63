"""Named ``{fields}`` of prompt templates: which a template has, and filling them in."""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from textgrad_lab.text.shorten import render_value

_FORMATTER = string.Formatter()


def template_fields(template: str) -> set[str] | None:
    """The names of the ``{fields}`` in ``template``; None when it is not a valid template.

    Only plain identifiers count (``{question}``); ``{{`` and ``}}`` are literal braces.
    """
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError:
        return None
    names: set[str] = set()
    for _, field, _, _ in parsed:
        if field is None:
            continue
        if not field.isidentifier():
            return None
        names.add(field)
    return names


def fill_template(template: str, fields: Mapping[str, Any]) -> str:
    """``template`` with each ``{name}`` replaced by the text of ``fields[name]``.

    Raises a ValueError that names the missing fields, or the template's syntax problem.
    """
    names = template_fields(template)
    if names is None:
        raise ValueError(
            "the template is not a valid format string: write fields as {name} with a "
            "plain identifier, and literal braces as {{ and }}"
        )
    missing = sorted(names - set(fields))
    if missing:
        given = ", ".join(sorted(fields)) or "none"
        raise ValueError(
            f"the template needs the field(s) {', '.join(missing)} (given: {given}); "
            "pass each as a keyword argument"
        )
    return template.format_map({k: render_value(v) for k, v in fields.items()})
