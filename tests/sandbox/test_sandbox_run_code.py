"""run_code: values, arguments, output and errors cross the process boundary intact."""

from __future__ import annotations

import os

import pytest

from textgrad_lab.sandbox import SandboxConfig, run_code


def test_returns_json_value_of_the_call(make_config) -> None:
    src = "def f(a, b=1, *, scale=1):\n    print('working')\n    return {'sum': (a + b) * scale, 'pair': (a, b)}\n"
    r = run_code(src, "f", (2,), {"b": 5, "scale": 10}, config=make_config())
    assert r.ok and r.error is None
    assert r.value == {"sum": 70, "pair": [2, 5]}  # tuples come back as JSON lists
    assert not r.value_is_repr
    assert r.stdout == "working\n"
    assert r.phase == "run"
    assert r.unenforced_limits == []


def test_runs_in_another_process_with_a_fresh_working_directory(make_config) -> None:
    src = "def f():\n    import os\n    return [os.getpid(), os.getcwd(), os.listdir('.')]\n"
    r = run_code(src, "f", config=make_config())
    pid, cwd, listing = r.value
    assert pid != os.getpid()
    assert cwd != os.getcwd()
    assert listing == []


def test_arguments_keep_their_python_types(make_config) -> None:
    # Arguments travel pickled (the caller is trusted): tuples, sets and bytes survive.
    src = "def f(t, s, b):\n    return [type(t).__name__, sorted(s), b.decode()]\n"
    r = run_code(src, "f", ((1, 2), {3, 1}, b"hi"), config=make_config())
    assert r.value == ["tuple", [1, 3], "hi"]


def test_numpy_results_become_lists(make_config) -> None:
    src = "def f(n):\n    import numpy as np\n    return np.arange(n) * 2\n"
    r = run_code(src, "f", (3,), config=make_config())
    assert r.ok, r.feedback()
    assert r.value == [0, 2, 4]


def test_non_json_result_comes_back_as_repr(make_config) -> None:
    src = "class Box:\n    def __repr__(self):\n        return 'Box()'\n\ndef f():\n    return Box()\n"
    r = run_code(src, "f", config=make_config())
    assert r.ok and r.value_is_repr and r.value == "Box()"


def test_async_entry_point_is_awaited(make_config) -> None:
    src = "import asyncio\n\nasync def f(x):\n    await asyncio.sleep(0)\n    return x + 1\n"
    assert run_code(src, "f", (1,), config=make_config()).value == 2


def test_exception_reports_type_message_and_failing_line(make_config) -> None:
    src = "def helper(xs):\n    return xs[10]\n\ndef f(xs):\n    total = 0\n    return helper(xs) + total\n"
    r = run_code(src, "f", ([1, 2],), config=make_config())
    assert not r.ok and not r.timed_out
    assert r.error is not None
    assert (r.error.type, r.error.message) == ("IndexError", "list index out of range")
    assert (r.error.lineno, r.error.line) == (2, "return xs[10]")
    assert [f.lineno for f in r.error.frames] == [6, 2]  # outermost first
    assert "return helper(xs) + total" in r.error.traceback
    assert "<sandbox " not in r.error.traceback and '"<string>"' not in r.error.traceback
    assert r.feedback().startswith("IndexError: list index out of range at line 2: return xs[10]")


def test_syntax_error_reports_the_line(make_config) -> None:
    src = "def f(x):\n    y = x +\n    return y\n"
    r = run_code(src, "f", (1,), config=make_config())
    assert not r.ok and r.phase == "load"
    assert r.error is not None and r.error.type == "SyntaxError"
    assert (r.error.lineno, r.error.line) == (2, "y = x +")
    assert "at line 2: y = x +" in r.feedback()


def test_missing_entry_point_names_what_is_defined(make_config) -> None:
    r = run_code("def g():\n    return 1\n", "f", config=make_config())
    assert not r.ok and r.error is not None and r.error.type == "NameError"
    assert "no function called 'f'" in r.error.message and "g" in r.error.message


def test_exit_calls_become_errors_not_silent_success(make_config) -> None:
    r = run_code("def f():\n    raise SystemExit(0)\n", "f", config=make_config())
    assert not r.ok and r.error is not None and r.error.type == "SystemExit"
    r = run_code("def f():\n    import os\n    os._exit(0)\n", "f", config=make_config())
    assert not r.ok and r.error is not None
    assert "before reporting a result" in r.error.message


def test_output_is_truncated_keeping_head_and_tail(make_config) -> None:
    src = "def f():\n    for i in range(20000):\n        print('line', i)\n    return 1\n"
    r = run_code(src, "f", config=make_config(max_output_chars=1000))
    assert r.ok
    assert len(r.stdout) < 1200
    assert r.stdout.startswith("line 0\n")
    assert r.stdout.rstrip().endswith("line 19999")
    assert "bytes cut" in r.stdout


def test_unpicklable_arguments_are_refused_with_a_clear_error() -> None:
    with pytest.raises(TypeError, match="cannot be sent to the sandbox"):
        run_code("def f(x):\n    return 1\n", "f", (lambda: 1,))


def test_keyword_overrides_win_over_config() -> None:
    base = SandboxConfig(timeout_s=30, memory_mb=2048, isolation="weak")
    src = "def f():\n    import resource\n    return resource.getrlimit(resource.RLIMIT_AS)[0]\n"
    r = run_code(src, "f", config=base, memory_mb=300)
    assert r.value == 300 << 20
