"""The sandbox's child process: how it is started, limited, read and killed.

One code path for both isolation levels (``isolation.py`` chooses and mounts). The
child gets a scrubbed environment and the same limits (address space, CPU time, file
size, processes), which it sets on itself before running any untrusted line. When we
run as root (always, for the weak level) it also drops to a throw-away user id: then
``RLIMIT_NPROC`` counts only its own processes, the caller's processes and root-only
files are out of its reach, and every process it leaves behind is found by that id
and killed, however it detached itself (``setsid``, double fork).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from textgrad_lab.sandbox.child import program
from textgrad_lab.sandbox.child.wire import STARTED
from textgrad_lab.sandbox.errors import SandboxStartError
from textgrad_lab.sandbox.isolation import (
    BWRAP_BASE,
    Isolation,
    IsolationChoice,
    choose_isolation,
    mount_args,
)

# Root drops to a random uid from this range, far above any account a system hands out.
UID_BASE, UID_SPAN = 0x50000000, 1 << 24
KILL_GRACE_S = 0.5  # after the child's own alarm, how long before it is killed from outside
REPLY_LIMIT = 8 << 20  # bytes; a larger reply means the code wrote to the reply channel
CHILD_ENV = {
    "PYTHONUNBUFFERED": "1",  # what was printed before a kill is not lost in a buffer
    "PYTHONHASHSEED": "0",  # set iteration order, hence outputs, are reproducible
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUTF8": "1",
    # Thread pools of numeric libraries would count against the process limit.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass
class Limits:
    timeout_s: float
    memory_mb: int
    cpu_time_s: float | None
    max_procs: int
    max_file_mb: int
    allow_network: bool
    hide_paths: list[str] | None
    env: dict[str, str]
    max_output_chars: int


@dataclass
class RawRun:
    """What came back from the child, before interpretation."""

    reply: dict[str, Any] | None
    reply_problem: str | None
    stdout: str
    stderr: str
    returncode: int | None
    signal: int | None
    timed_out: bool
    duration_s: float
    isolation: Isolation


def child_env(extra: dict[str, str], home: str) -> dict[str, str]:
    """Only what Python needs: the caller's secrets never reach the child."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": home,
        "TMPDIR": home,
        **CHILD_ENV,
    }
    env.update(extra)
    return env


class _Capped:
    """Keeps the head and the tail of a stream, counting what was cut between them."""

    def __init__(self, max_chars: int) -> None:
        self.head_limit = max_chars * 2 // 3
        self.tail_limit = max_chars - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.cut = 0

    def add(self, data: bytes) -> None:
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self.tail_limit:
                over = len(self.tail) - self.tail_limit
                self.cut += over
                del self.tail[:over]

    def text(self) -> str:
        head = self.head.decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        return f"{head}\n... [{self.cut} bytes cut] ...\n{tail}" if self.cut else head + tail


def _exited(pid: int) -> bool:
    """Whether the child has ended, without reaping it (its pid keeps naming its group)."""
    if not hasattr(os, "waitid"):  # macOS: ask without reaping another way
        return _zombie_or_gone(pid)
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _zombie_or_gone(pid: int) -> bool:
    try:
        state = subprocess.run(
            ["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return False
    return not state or state.startswith("Z")


def _communicate(
    proc: subprocess.Popen[bytes], request: bytes, reply_fd: int, deadline: float, limits: Limits
) -> tuple[_Capped, _Capped, bytearray, bool]:
    assert proc.stdin and proc.stdout and proc.stderr
    out, err, reply = (
        _Capped(limits.max_output_chars),
        _Capped(limits.max_output_chars),
        bytearray(),
    )
    sinks = {proc.stdout.fileno(): out, proc.stderr.fileno(): err, reply_fd: reply}
    pending = memoryview(request)
    stdin = proc.stdin.fileno()
    with selectors.DefaultSelector() as sel:
        os.set_blocking(stdin, False)
        sel.register(stdin, selectors.EVENT_WRITE)
        for fd in sinks:
            sel.register(fd, selectors.EVENT_READ)
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return out, err, reply, True
            events = sel.select(min(remaining, 0.25))
            for key, _ in events:
                fd = key.fd
                if fd == stdin:
                    try:
                        pending = pending[os.write(fd, pending[:65536]) :]
                    except (BlockingIOError, InterruptedError):
                        continue
                    except BrokenPipeError:
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(fd)
                        proc.stdin.close()
                    continue
                data = os.read(fd, 65536)
                if not data:
                    sel.unregister(fd)
                elif fd == reply_fd:
                    if len(reply) < REPLY_LIMIT:
                        reply += data
                else:
                    sinks[fd].add(data)  # type: ignore[union-attr]
            # Once the child is gone, only its leftovers can hold a pipe open: stop.
            if not events and _exited(proc.pid):
                break
    return out, err, reply, False


def _sandbox_uid() -> int | None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return UID_BASE + secrets.randbelow(UID_SPAN)
    return None


def kill_user(uid: int) -> None:
    """SIGKILL every process of ``uid``: sent by a process of that uid, ``kill(-1)``
    reaches all of them at once, so none can fork its way out of the sweep. The sender
    is a shell started as that uid (no fork of this, maybe threaded, process)."""
    subprocess.run(
        ["/bin/sh", "-c", "kill -9 -1"],
        user=uid,
        group=uid,
        extra_groups=[],
        env={},
        cwd="/",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=30,
        check=False,
    )


def run_child(
    request: dict[str, Any], limits: Limits, wanted: IsolationChoice
) -> tuple[RawRun, str | None]:
    """Run the judge on ``request``; returns the raw run and, when the weak sandbox
    stands in for an unusable bubblewrap, the reason (the caller warns about it).

    Raises :class:`SandboxUnavailable` when the isolation asked for cannot be had and
    :class:`SandboxStartError` when the interpreter could not be started in it."""
    isolation, bwrap, problem = choose_isolation(wanted)
    uid = _sandbox_uid()
    cpu = limits.cpu_time_s if limits.cpu_time_s is not None else limits.timeout_s + KILL_GRACE_S
    worker = program()
    request = {
        **request,
        "timeout_s": limits.timeout_s,
        "uid": uid,
        # The weak sandbox runs the interpreter where it is installed, maybe in a
        # private home: its import path travels as descriptors (child/confine.py).
        "remap": isolation == "weak",
        "worker_source": worker,
        "limits": {
            "RLIMIT_AS": limits.memory_mb << 20,
            "RLIMIT_CPU": math.ceil(cpu),
            "RLIMIT_FSIZE": limits.max_file_mb << 20,
            "RLIMIT_CORE": 0,
            # Counted per user id: the run's own when we are root, else the processes
            # of this user inside bubblewrap's user namespace (Linux 5.14 and later;
            # older kernels count all of the user's processes).
            "RLIMIT_NPROC": limits.max_procs,
        },
    }
    reply_r, reply_w = os.pipe()
    request["reply_fd"] = reply_w
    workdir = None if bwrap else tempfile.mkdtemp(prefix="textgrad-sandbox-")
    if workdir and uid is not None:
        os.chown(workdir, uid, uid)  # the scratch folder is the only place it may write
    home = "/tmp" if bwrap else str(workdir)
    python = [sys.executable, "-P", "-c", worker]
    if bwrap:
        cmd = [bwrap, *BWRAP_BASE, *mount_args(limits.hide_paths)]
        if not limits.allow_network:
            cmd.append("--unshare-net")
        if uid is not None:
            # Only what the judge needs to switch to its own user id; that switch then
            # clears every capability.
            cmd += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        cmd += ["--chdir", "/tmp", "--", *python]
    else:
        cmd = python
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(reply_w,),
            cwd=home,
            env=child_env(limits.env, home),
            start_new_session=True,  # one process group to kill
        )
    except BaseException as exc:
        os.close(reply_r)
        os.close(reply_w)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        if isinstance(exc, OSError):
            raise SandboxStartError(
                f"the sandbox ({isolation}) could not start {cmd[0]}: {exc}"
            ) from exc
        raise
    os.close(reply_w)
    try:
        deadline = start + limits.timeout_s + KILL_GRACE_S
        out, err, reply, timed_out = _communicate(
            proc, json.dumps(request).encode(), reply_r, deadline, limits
        )
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if uid is not None:
            kill_user(uid)
        proc.wait()
        duration = time.monotonic() - start
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        os.close(reply_r)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if not reply.startswith(STARTED):
        how = "in time" if timed_out else f"exit code {proc.returncode}"
        raise SandboxStartError(
            f"the sandbox ({isolation}) could not start Python ({how}): "
            f"{err.text().strip()[-600:] or 'no error output'}"
        )
    parsed, reply_problem = _parse_reply(bytes(reply[len(STARTED) :]))
    if parsed is not None and "start_failure" in parsed:
        raise SandboxStartError(f"the sandbox ({isolation}): {parsed['start_failure']}")
    code = proc.returncode
    sig = -code if code < 0 else (code - 128 if bwrap and code > 128 else None)
    raw = RawRun(
        reply=parsed,
        reply_problem=reply_problem,
        stdout=out.text(),
        stderr=err.text(),
        returncode=code,
        signal=sig,
        timed_out=timed_out,
        duration_s=duration,
        isolation=isolation,
    )
    return raw, problem


def _parse_reply(data: bytes) -> tuple[dict[str, Any] | None, str | None]:
    if not data:
        return None, None
    try:
        reply = json.loads(data)
    except ValueError as exc:
        return None, f"the child's reply is not valid JSON ({exc})"
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        return None, "the child's reply has an unexpected shape"
    return reply, None
