"""Time, memory and process limits hold under both isolation levels, and nothing is left running."""

from __future__ import annotations

import os
import uuid

import pytest
from sandbox_testkit import needs_bwrap, wait_until_gone

from textgrad_lab.sandbox import SandboxConfig, run_code
from textgrad_lab.sandbox.process import KILL_GRACE_S

# Startup of bwrap and Python, and the kill itself, on a busy 2-core machine.
MARGIN_S = 1.5


def test_infinite_loop_times_out_at_its_line(make_config) -> None:
    src = "def f():\n    n = 0\n    while True:\n        n += 1\n"
    r = run_code(src, "f", config=make_config(timeout_s=1.0))
    assert not r.ok and r.timed_out
    assert r.duration_s < 1.0 + KILL_GRACE_S + MARGIN_S
    assert r.error is not None and r.error.type == "TimeoutError"
    assert r.error.lineno in (3, 4)  # where the loop was when the alarm fired
    assert "did not finish within 1 s" in r.feedback()


def test_loop_that_swallows_exceptions_is_still_stopped(make_config) -> None:
    src = "def f():\n    while True:\n        try:\n            while True:\n                pass\n        except Exception:\n            pass\n"
    r = run_code(src, "f", config=make_config(timeout_s=1.0))
    assert r.timed_out and r.duration_s < 1.0 + KILL_GRACE_S + MARGIN_S


def test_hang_inside_c_code_is_stopped_by_the_judge(make_config) -> None:
    # sum() over a huge range never returns to the interpreter loop, so the code's own
    # alarm cannot fire: the judge's alarm stops the run and the code's process is killed.
    src = "def f():\n    return sum(range(10**13))\n"
    r = run_code(src, "f", config=make_config(timeout_s=1.0))
    assert not r.ok and r.timed_out
    assert 1.0 <= r.duration_s < 1.0 + KILL_GRACE_S + MARGIN_S
    assert r.error is not None and r.error.type == "TimeoutError"
    assert "did not finish within 1 s" in r.error.message


def test_killed_run_leaves_no_process_behind(make_config) -> None:
    marker = f"{uuid.uuid4().int % 10**6 + 10**6}.5"  # a unique sleep length
    src = (
        "def f(marker):\n"
        "    import subprocess\n"
        "    subprocess.Popen(['sleep', marker])\n"
        "    while True:\n"
        "        pass\n"
    )
    r = run_code(src, "f", (marker,), config=make_config(timeout_s=1.0))
    assert r.timed_out
    assert wait_until_gone(marker) == []


@needs_bwrap
def test_bwrap_kills_even_processes_that_left_the_session() -> None:
    marker = f"{uuid.uuid4().int % 10**6 + 10**6}.25"
    src = (
        "def f(marker):\n"
        "    import subprocess\n"
        "    subprocess.Popen(['sleep', marker], start_new_session=True)\n"
        "    return 'spawned'\n"
    )
    r = run_code(src, "f", (marker,), config=SandboxConfig(isolation="bwrap", timeout_s=5))
    assert r.value == "spawned"
    assert wait_until_gone(marker) == []


def test_memory_hog_is_stopped_with_a_clear_error(make_config) -> None:
    src = "def f():\n    data = bytearray(2 * 1024**3)\n    return len(data)\n"
    r = run_code(src, "f", config=make_config(memory_mb=512))
    assert not r.ok and r.memory_exceeded and not r.timed_out
    assert r.error is not None and r.error.type == "MemoryError"
    assert r.error.lineno == 2
    assert "memory limit of 512 MB" in r.feedback()


def test_growing_memory_is_stopped_too(make_config) -> None:
    src = "def f():\n    chunks = []\n    while True:\n        chunks.append(bytearray(50 * 1024**2))\n"
    r = run_code(src, "f", config=make_config(memory_mb=512))
    assert r.memory_exceeded and r.duration_s < 5


def test_cpu_time_limit_is_set(make_config) -> None:
    src = "def f():\n    import resource\n    return resource.getrlimit(resource.RLIMIT_CPU)\n"
    r = run_code(src, "f", config=make_config(timeout_s=3.0, cpu_time_s=2.0))
    assert r.value == [2, 3]


@needs_bwrap
@pytest.mark.skipif(os.geteuid() != 0, reason="the process limit needs the sandbox's own user id")
def test_process_limit_stops_a_fork_storm() -> None:
    # As root, bwrap runs the code under a throw-away user id, so RLIMIT_NPROC counts only its own.
    src = (
        "def f():\n"
        "    import os, time\n"
        "    started = 0\n"
        "    try:\n"
        "        for _ in range(50):\n"
        "            if os.fork() == 0:\n"
        "                time.sleep(2)\n"
        "                os._exit(0)\n"
        "            started += 1\n"
        "    except OSError as exc:\n"
        "        return [started, type(exc).__name__]\n"
        "    return [started, None]\n"
    )
    r = run_code(src, "f", config=SandboxConfig(isolation="bwrap", max_procs=8, timeout_s=5))
    assert r.ok, r.feedback()
    started, error = r.value
    assert started < 8 and error == "BlockingIOError"
