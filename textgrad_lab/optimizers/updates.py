"""Checking a proposed value against its parameter's kind and constraints before it is set.

A proposal is refused, with the reason, when it is not of the parameter's kind (a
number that does not parse, JSON that does not load or changes shape, code that does
not parse or changes the function's signature), when it drops a prompt template's
``{fields}``, when the parameter's validator refuses it (``Parameter(validator=...)``),
or when a constraint check returns a reason.

A text proposal is also refused when it cannot be a value at all: it is empty, has no
words, is the parameter's name, copies the parameter's role, copies (or starts by
copying) the text an optimizer showed as instructions (``shown``), or is one phrase
repeated over and over. Small
models decoding under a schema write such things when they have nothing to say.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from textgrad_lab.graphs import Parameter
from textgrad_lab.text.fields import template_fields

# A machine-checked constraint: the reason to refuse a value, or None to accept it.
Check = Callable[[Any], "str | None"]

_FENCED = re.compile(r"^\s*```[A-Za-z0-9_+-]*[ \t]*\n(.*?)\n?```\s*$", re.DOTALL)
_WORD = re.compile(r"[^\W_]+")
UPDATABLE_KINDS = ("text", "number", "json", "code", "array")
# A text of at least this many words whose distinct words are fewer than this share of
# them is one phrase looping ("system.system.system..."), not a value.
_LOOP_WORDS = 12
_LOOP_SHARE = 0.25
# A value whose first words are a run of the reply instructions copied them, then went on.
_ECHO_START = 4


@dataclass(frozen=True)
class Verdict:
    ok: bool
    value: Any = None
    reason: str = ""


def strip_fence(text: str) -> str:
    """The body of a reply wrapped in one Markdown code fence; other text as it is."""
    m = _FENCED.match(text)
    return m.group(1) if m else text


def _number(proposal: Any, old: Any) -> Verdict:
    if isinstance(proposal, bool):
        return Verdict(False, reason=f"{proposal!r} is a boolean, not a number")
    if isinstance(proposal, int | float):
        value: int | float = proposal
    elif isinstance(proposal, str):
        text = strip_fence(proposal).strip()
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                return Verdict(False, reason=f"{text[:60]!r} is not a number")
    else:
        return Verdict(False, reason=f"a {type(proposal).__name__} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        return Verdict(False, reason=f"{value} is not a finite number")
    if isinstance(old, float) and isinstance(value, int):
        value = float(value)
    return Verdict(True, value)


def _json(proposal: Any, old: Any) -> Verdict:
    value = proposal
    if isinstance(proposal, str) and not isinstance(old, str):
        try:
            value = json.loads(strip_fence(proposal))
        except ValueError as exc:
            return Verdict(False, reason=f"not valid JSON ({exc})")
    for shape in (dict, list):
        if isinstance(old, shape) and not isinstance(value, shape):
            want = "an object" if shape is dict else "a list"
            return Verdict(
                False, reason=f"the value was {want}; the proposal is {type(value).__name__}"
            )
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        return Verdict(False, reason=f"not JSON-serialisable ({exc})")
    return Verdict(True, value)


def _array(proposal: Any, old: Any) -> Verdict:
    value = proposal
    if isinstance(proposal, str):
        try:
            value = json.loads(strip_fence(proposal))
        except ValueError as exc:
            return Verdict(False, reason=f"not a JSON list of numbers ({exc})")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        return Verdict(False, reason=f"not an array of numbers ({exc})")
    shape = np.shape(old)
    if arr.shape != shape:
        return Verdict(False, reason=f"shape {arr.shape} differs from the parameter's {shape}")
    if not np.all(np.isfinite(arr)):
        return Verdict(False, reason="the array holds values that are not finite")
    return Verdict(True, arr)


def _main_function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for d in defs:
        if d.name == name:
            return d
    return defs[0] if defs else None


def signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """A function's signature as written, without annotations or default values."""
    a = fn.args
    parts = [p.arg for p in a.posonlyargs]
    if a.posonlyargs:
        parts.append("/")
    plain = a.posonlyargs + a.args
    first_default = len(plain) - len(a.defaults)
    parts += [
        p.arg + ("=..." if i + len(a.posonlyargs) >= first_default else "")
        for i, p in enumerate(a.args)
    ]
    if a.vararg:
        parts.append("*" + a.vararg.arg)
    elif a.kwonlyargs:
        parts.append("*")
    parts += [
        p.arg + ("=..." if d is not None else "")
        for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
    ]
    if a.kwarg:
        parts.append("**" + a.kwarg.arg)
    prefix = "async def" if isinstance(fn, ast.AsyncFunctionDef) else "def"
    return f"{prefix} {fn.name}({', '.join(parts)})"


def code_signature(source: str, name: str) -> str | None:
    """The signature of the function ``name`` (else the first function) in ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    fn = _main_function(tree, name)
    return signature(fn) if fn is not None else None


def _code(proposal: Any, old: Any, name: str) -> Verdict:
    if not isinstance(proposal, str):
        return Verdict(
            False, reason=f"code must be a string of Python source, got {type(proposal).__name__}"
        )
    source = strip_fence(proposal).strip("\n") + "\n"
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return Verdict(False, reason=f"the code does not parse: {exc.msg} at line {exc.lineno}")
    want = code_signature(str(old), name)
    if want is not None:
        fn_name = want.split("(", 1)[0].split()[-1]
        fn = _main_function(tree, fn_name)
        if fn is None or fn.name != fn_name:
            return Verdict(False, reason=f"the code no longer defines the function {fn_name!r}")
        got = signature(fn)
        if got != want:
            return Verdict(False, reason=f"the signature changed from `{want}` to `{got}`")
    return Verdict(True, source)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _inside(words: list[str], text: str) -> bool:
    """Whether ``words`` (two or more) occur as a run of consecutive words of ``text``.
    (One word is too little to tell a copy from a coincidence.)"""
    other = _words(text)
    n = len(words)
    return n > 1 and any(other[i : i + n] == words for i in range(len(other) - n + 1))


def absurd_reason(param: Parameter, value: str, shown: Sequence[str] = ()) -> str | None:
    """Why a text proposal cannot be a value of ``param``, or None when it may be one."""
    words = _words(value)
    if not words:
        return "the proposal has no words"
    if words == _words(param.name):
        return "the proposal is the variable's name, not a value for it"
    if len(words) >= _LOOP_WORDS and len(set(words)) < _LOOP_SHARE * len(words):
        return "the proposal repeats one phrase over and over"
    if param.role and _inside(words, param.role):
        return "the proposal copies the variable's description instead of giving a value"
    if any(_inside(words, text) for text in shown):
        return "the proposal copies the instructions of the request instead of giving a value"
    if any(_inside(words[:_ECHO_START], text) for text in shown):
        return "the proposal starts by copying the instructions of the request"
    return None


def _text(proposal: Any, old: Any, param: Parameter, shown: Sequence[str]) -> Verdict:
    if not isinstance(proposal, str):
        return Verdict(
            False, reason=f"a text value must be a string, got {type(proposal).__name__}"
        )
    value = proposal.strip()
    if not value:
        return Verdict(False, reason="the proposal is empty")
    if value != str(old).strip():
        problem = absurd_reason(param, value, shown)
        if problem:
            return Verdict(False, reason=problem)
    before = template_fields(str(old))
    if before:
        after = template_fields(value)
        if after is None:
            return Verdict(False, reason="the template no longer parses: check its braces")
        if after != before:
            lost = sorted(before - after)
            extra = sorted(after - before)
            what = []
            if lost:
                what.append("drops the field(s) " + ", ".join("{" + f + "}" for f in lost))
            if extra:
                what.append("adds the field(s) " + ", ".join("{" + f + "}" for f in extra))
            return Verdict(False, reason="the template " + " and ".join(what))
    return Verdict(True, value)


def check_update(
    param: Parameter, proposal: Any, checks: Sequence[Check] = (), shown: Sequence[str] = ()
) -> Verdict:
    """Whether ``proposal`` may become ``param``'s value, and the value in its kind's form.

    ``shown``: instructions the proposal was asked with; a text proposal copied from
    them is refused (see :func:`absurd_reason`).
    """
    kind = param.kind
    old = param.value
    if kind == "text":
        verdict = _text(proposal, old, param, shown)
    elif kind == "number":
        verdict = _number(proposal, old)
    elif kind == "json":
        verdict = _json(proposal, old)
    elif kind == "array":
        verdict = _array(proposal, old)
    elif kind == "code":
        verdict = _code(proposal, old, param.name)
    else:
        return Verdict(False, reason=f"parameters of kind {kind!r} cannot be updated by an LLM")
    if not verdict.ok:
        return verdict
    problem = param.check(verdict.value)
    if problem:
        return Verdict(False, reason=f"refused by the parameter's validator: {problem}")
    for check in checks:
        try:
            problem = check(verdict.value)
        except Exception as exc:  # a user's check that crashes refuses the value, with why
            problem = f"the check {getattr(check, '__name__', check)!r} raised {type(exc).__name__}: {exc}"
        if problem:
            return Verdict(False, reason=f"violates a constraint: {problem}")
    return verdict


def same_words(new: Any, old: Any) -> bool:
    """Whether two plain texts have the same words in the same order (case, spacing and
    punctuation aside). A template's punctuation can matter, so templates never match."""
    if not isinstance(new, str) or not isinstance(old, str) or template_fields(old):
        return False
    return _words(new) == _words(old)


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b
