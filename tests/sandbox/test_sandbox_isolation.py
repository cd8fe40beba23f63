"""What sandboxed code cannot reach: secrets, the network, the file system, other processes."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import pytest
from sandbox_testkit import needs_bwrap

from textgrad_lab.sandbox import (
    BwrapUnavailable,
    SandboxConfig,
    SandboxError,
    SandboxIsolationWarning,
    SandboxUnavailable,
    run_code,
)
from textgrad_lab.sandbox.isolation import ALLOW_WEAK_ENV

SECRET = "sk-test-secret"

READ_ENV = "def f():\n    import os\n    return dict(os.environ)\n"


def test_child_does_not_see_the_callers_secrets(make_config, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("MY_SERVICE_TOKEN", SECRET)
    monkeypatch.setenv("DB_PASSWORD", SECRET)
    r = run_code(READ_ENV, "f", config=make_config())
    assert r.ok, r.feedback()
    env = r.value
    assert "OPENAI_API_KEY" not in env and "MY_SERVICE_TOKEN" not in env
    assert not any(SECRET in v for v in env.values())
    assert set(env) <= {"PATH", "LANG", "HOME", "TMPDIR", "PWD"} | {
        k for k in env if k.startswith(("PYTHON", "OPENBLAS", "OMP", "MKL"))
    }


def test_extra_env_passes_but_credential_names_are_refused(make_config) -> None:
    r = run_code(READ_ENV, "f", config=make_config(env={"MODE": "eval"}))
    assert r.value["MODE"] == "eval"
    with pytest.raises(ValueError, match=r"credential-like variables.*OPENAI_API_KEY"):
        SandboxConfig(env={"OPENAI_API_KEY": SECRET})


@needs_bwrap
def test_bwrap_child_sees_only_its_own_processes(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    src = (
        "def f(secret):\n"
        "    import os\n"
        "    pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "    leaked = []\n"
        "    for p in pids:\n"
        "        try:\n"
        "            if secret.encode() in open(f'/proc/{p}/environ', 'rb').read():\n"
        "                leaked.append(p)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return [len(pids), leaked]\n"
    )
    r = run_code(src, "f", (SECRET,), config=SandboxConfig(isolation="bwrap"))
    count, leaked = r.value
    assert count <= 3 and leaked == []  # bwrap's init, the worker, maybe a transient


@needs_bwrap
def test_bwrap_child_cannot_open_network_connections() -> None:
    # A listener on this machine's loopback: reachable from any ordinary process.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        src = (
            "def f(port):\n"
            "    import socket\n"
            "    try:\n"
            "        socket.create_connection(('127.0.0.1', port), timeout=2).close()\n"
            "        return 'connected'\n"
            "    except OSError as exc:\n"
            "        return type(exc).__name__\n"
        )
        cut = run_code(src, "f", (port,), config=SandboxConfig(isolation="bwrap"))
        assert cut.ok and cut.value != "connected"
        allowed = run_code(
            src, "f", (port,), config=SandboxConfig(isolation="bwrap", allow_network=True)
        )
        assert allowed.value == "connected"


@needs_bwrap
def test_bwrap_child_writes_only_to_its_private_tmp() -> None:
    name = f"textgrad-sandbox-probe-{uuid.uuid4().hex}"
    targets = ["/etc", "/var/tmp", os.getcwd(), str(Path.home())]
    src = (
        "def f(name, targets):\n"
        "    import os\n"
        "    out = {}\n"
        "    for d in targets + ['/tmp']:\n"
        "        try:\n"
        "            with open(os.path.join(d, name), 'w') as fh:\n"
        "                fh.write('x')\n"
        "            out[d] = 'written'\n"
        "        except OSError as exc:\n"
        "            out[d] = type(exc).__name__\n"
        "    return out\n"
    )
    r = run_code(src, "f", (name, targets), config=SandboxConfig(isolation="bwrap"))
    assert r.ok, r.feedback()
    assert r.value["/tmp"] == "written"
    for d in ["/tmp", *targets]:
        assert not (Path(d) / name).exists(), f"the sandbox wrote into {d}"
    assert r.value["/etc"] != "written" and r.value["/var/tmp"] != "written"


@needs_bwrap
def test_bwrap_hides_home_and_given_directories() -> None:
    try:
        hidden = Path(tempfile.mkdtemp(prefix="textgrad-sandbox-hidden-", dir=Path.home()))
    except OSError:
        pytest.skip("home directory not writable")
    try:
        (hidden / "credentials").write_text(SECRET)
        src = "def f(path):\n    try:\n        return open(path).read()\n    except OSError as exc:\n        return type(exc).__name__\n"
        path = str(hidden / "credentials")
        r = run_code(src, "f", (path,), config=SandboxConfig(isolation="bwrap"))
        assert r.ok and r.value in ("FileNotFoundError", "PermissionError")
        shown = run_code(src, "f", (path,), config=SandboxConfig(isolation="bwrap", hide_paths=()))
        assert shown.value in (SECRET, "PermissionError")  # root-only files stay unreadable
        # Python itself stays reachable even when it lives in a hidden directory.
        r = run_code(
            "def f():\n    import json, numpy\n    return 1\n",
            "f",
            config=SandboxConfig(isolation="bwrap"),
        )
        assert r.value == 1, r.feedback()
    finally:
        shutil.rmtree(hidden, ignore_errors=True)


def test_without_bwrap_auto_refuses_with_the_fix(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap to be found
    monkeypatch.delenv(ALLOW_WEAK_ENV, raising=False)
    with pytest.raises(SandboxUnavailable, match="apt-get install -y bubblewrap") as caught:
        run_code("def f():\n    return 7\n", "f", config=SandboxConfig())
    assert "--allow-weak-sandbox" in str(caught.value)
    assert isinstance(caught.value, SandboxError)


def test_without_bwrap_the_accepted_weak_sandbox_runs_and_warns(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(ALLOW_WEAK_ENV, "1")
    with pytest.warns(SandboxIsolationWarning, match="bwrap\\) is not installed"):
        r = run_code("def f():\n    return 7\n", "f", config=SandboxConfig())
    assert r.value == 7 and r.isolation == "weak"


def test_bwrap_demanded_but_missing_is_an_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv(ALLOW_WEAK_ENV, "1")  # accepting the weak sandbox does not override
    with pytest.raises(BwrapUnavailable, match="apt-get install -y bubblewrap"):
        run_code("def f():\n    return 7\n", "f", config=SandboxConfig(isolation="bwrap"))


def test_weak_sandbox_needs_a_user_id_of_its_own(monkeypatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxUnavailable, match="needs root"):
        run_code("def f():\n    return 7\n", "f", config=SandboxConfig(isolation="weak"))


def test_auto_uses_bwrap_where_it_works() -> None:
    from sandbox_testkit import bwrap_usable

    if not bwrap_usable():
        pytest.skip("bubblewrap missing or unable to create namespaces here")
    r = run_code("def f():\n    return 1\n", "f", config=SandboxConfig())
    assert r.isolation == "bwrap"
