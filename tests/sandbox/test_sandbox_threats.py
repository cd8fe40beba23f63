"""The threat model (docs/threat-model.md), attacked for real in both isolation levels:
no secret read, no process left, no process cap exceeded, no forged result, no
interpreter that fails silently."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sandbox_testkit import wait_until_gone

from textgrad_lab.sandbox import SandboxStartError, run_code, run_tests, unit_test_feedback

ROOT = Path(__file__).resolve().parents[2]

# Looks for ``secret`` wherever code on this machine might find it: its environment,
# every /proc/<pid>/environ and cmdline it can open (its ancestors first), the memory of
# its ancestors, and a file under the caller's home.
STEAL = """
def steal(secret, home_file):
    import os
    found, scanned = [], 0
    def look(where, data):
        if secret.encode() in data:
            found.append(where)
    look("own environment", repr(dict(os.environ)).encode())
    ancestors, pid = [], os.getpid()
    while pid > 1:
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        ancestors.append(pid)
    for p in ancestors:
        try:
            open(f"/proc/{p}/mem", "rb").close()
            found.append(f"memory of ancestor {p} is open")
        except OSError:
            pass
    for p in [str(a) for a in ancestors] + [p for p in os.listdir("/proc") if p.isdigit()]:
        for name in ("environ", "cmdline"):
            try:
                look(f"/proc/{p}/{name}", open(f"/proc/{p}/{name}", "rb").read())
                scanned += 1
            except OSError:
                pass
    try:
        look(home_file, open(home_file, "rb").read())
    except OSError:
        pass
    return {"found": found, "scanned": scanned, "ancestors": len(ancestors)}
"""

# Runs in a fresh interpreter started WITH the secret in its environment, so that the
# secret sits in /proc/<that pid>/environ as it would for a real caller. (Command lines
# are readable by every process on the machine: secrets never go there.)
CALLER = """
import json, os, sys
from textgrad_lab.sandbox import SandboxConfig, run_code
steal, home_file, isolation = sys.argv[1:4]
secret = os.environ["OPENAI_API_KEY"]
r = run_code(steal, "steal", (secret, home_file), config=SandboxConfig(isolation=isolation))
print(json.dumps({"ok": r.ok, "value": r.value, "feedback": r.feedback()}))
"""


def test_code_reads_no_secret_of_the_caller(isolation, tmp_path) -> None:
    secret = f"sk-fake-{uuid.uuid4().hex}"
    home_file = Path.home() / f".textgrad-test-credentials-{uuid.uuid4().hex}"
    try:
        home_file.write_text(f"OPENAI_API_KEY={secret}\n")
    except OSError:
        pytest.skip("home directory not writable")
    home_file.chmod(0o600)
    try:
        env = {**os.environ, "OPENAI_API_KEY": secret, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", CALLER, STEAL, str(home_file), isolation],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        home_file.unlink()
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["ok"], out["feedback"]
    # It did look (its ancestors' and its own entries at least), and found nothing.
    assert out["value"]["scanned"] >= 2 and out["value"]["ancestors"] >= 1
    assert out["value"]["found"] == []


FORGED_REPLY = b'{"ok": true, "value": null, "value_is_repr": false, "phase": "run"}'
FORGE = f"""
import os

def add(a, b):
    forged = {FORGED_REPLY!r}
    for fd in range(256):
        for data in (forged, b"textgrad-sandbox-started\\n" + forged):
            try:
                os.write(fd, data)
            except OSError:
                pass
    print('{{"ok": true}}', flush=True)
    os._exit(0)
"""
ALWAYS_EQUAL = """
class Yes:
    def __eq__(self, other):
        return True

def add(a, b):
    return Yes()
"""
TESTS = "def check(candidate):\n    assert candidate(2, 3) == 5\n"


@pytest.mark.parametrize("solution", [FORGE, ALWAYS_EQUAL], ids=["forged-reply", "always-equal"])
def test_a_wrong_solution_cannot_forge_a_pass(make_config, solution) -> None:
    r = run_tests(solution, TESTS, "add", config=make_config())
    assert not r.passed and r.feedback != "All tests passed."


def test_forged_call_result_does_not_replace_the_value(make_config) -> None:
    src = FORGE.replace("def add(a, b):", "def add(a, b):\n    pass\n\ndef f():")
    r = run_code(src, "f", config=make_config())
    # Whatever it wrote (its own channel to the judge included), the run failed.
    assert not r.ok and r.value is None
    assert r.error is not None and r.error.type == "SandboxError"


FORK_BOMB = """
def bomb(n, marker):
    import os
    started = 0
    for _ in range(n):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            try:
                os.execv("/bin/sleep", ["sleep", marker])
            finally:
                os._exit(1)
        started += 1
    return started
"""


def test_fork_bomb_hits_the_process_cap_and_leaves_nothing(make_config) -> None:
    marker = f"{uuid.uuid4().int % 10**6 + 10**6}.75"
    r = run_code(FORK_BOMB, "bomb", (200, marker), config=make_config(max_procs=16))
    assert r.ok, r.feedback()
    assert 0 < r.value < 16  # the judge and the code's own process count too
    assert wait_until_gone(marker) == []


def test_a_detached_grandchild_dies_with_the_run(make_config) -> None:
    marker = f"{uuid.uuid4().int % 10**6 + 10**6}.5"
    witness = Path("/tmp") / f"textgrad-sandbox-escaped-{uuid.uuid4().hex}"
    src = (
        "def f(marker, witness):\n"
        "    import subprocess\n"
        "    cmd = f'sleep {marker}; sleep 1; touch {witness}'\n"
        "    subprocess.Popen(['sh', '-c', cmd], start_new_session=True)\n"
        "    return 'spawned'\n"
    )
    r = run_code(src, "f", (marker, str(witness)), config=make_config())
    assert r.value == "spawned", r.feedback()
    assert wait_until_gone(marker) == []
    time.sleep(1.5)  # it would have written the witness by now
    assert not witness.exists()


def test_an_interpreter_that_cannot_start_is_an_error_not_a_failed_test(
    make_config, monkeypatch
) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/bin/python3")
    with pytest.raises(SandboxStartError, match="could not start"):
        unit_test_feedback(
            "def add(a, b):\n    return a + b\n",
            {"test": TESTS, "entry_point": "add"},
            config=make_config(),
        )


def test_a_venv_under_tmp_runs_in_the_sandbox(isolation, tmp_path) -> None:
    venv = Path("/tmp") / f"textgrad-sandbox-venv-{uuid.uuid4().hex}"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
        timeout=120,
    )
    try:
        script = (
            "import json\n"
            "from textgrad_lab.sandbox import SandboxConfig, run_code\n"
            "src = 'def f():\\n    import sys, numpy\\n    return [sys.prefix, int(numpy.ones(2).sum())]\\n'\n"
            f"r = run_code(src, 'f', config=SandboxConfig(isolation={isolation!r}))\n"
            "print(json.dumps([r.ok, r.value, r.feedback()]))\n"
        )
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-c", script],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        subprocess.run(["rm", "-rf", str(venv)], check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    ok, value, feedback = json.loads(done.stdout.strip().splitlines()[-1])
    assert ok, feedback
    assert value[1] == 2


def test_a_wrong_solution_that_stops_or_kills_the_judge_fails(make_config) -> None:
    for how in ("SIGKILL", "SIGSTOP"):
        solution = (
            "import os, signal\n\n"
            "def add(a, b):\n"
            "    try:\n"
            f"        os.kill(os.getppid(), signal.{how})\n"
            "    except OSError:\n"
            "        pass\n"
            "    return a * b\n"
        )
        r = run_tests(solution, TESTS, "add", config=make_config(timeout_s=1.0))
        assert not r.passed, how
