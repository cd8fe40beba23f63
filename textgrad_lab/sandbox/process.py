"""The sandbox's child process: how it is isolated, started, limited, read and killed.

Two isolation levels, one code path:
- ``bwrap``: bubblewrap gives the child a read-only view of the file system with the
  caller's home and working directories hidden, a private ``/tmp``, its own PID,
  IPC and network namespaces (no network), and dies with its parent. When we run as
  root the child also drops to a throw-away user id, so that ``RLIMIT_NPROC`` counts
  only its own processes and root-only files stay unreadable.
- ``process``: a plain subprocess in a fresh temporary directory. It can read what
  the caller can read and reach the network; only the resource limits hold.

Both get a scrubbed environment and the same limits (address space, CPU time, file
size, processes), which the child sets on itself before running any untrusted line.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Isolation = Literal["bwrap", "process"]

# bwrap arguments shared by the probe and every run (the probe checks exactly these).
BWRAP_BASE = (
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--perms", "1777", "--tmpfs", "/tmp",
    "--unshare-pid", "--unshare-ipc", "--unshare-uts",
    "--die-with-parent", "--new-session",
)  # fmt: skip
# Directories the sandbox never hides, even when they are the caller's home or cwd.
SYSTEM_DIRS = frozenset({
    "/", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc", "/dev", "/proc",
    "/sys", "/tmp", "/var", "/run", "/opt", "/srv", "/boot",
})  # fmt: skip
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


class BwrapUnavailable(RuntimeError):
    pass


@functools.cache
def bwrap_problem(path: str) -> str | None:
    """Why bubblewrap at ``path`` cannot sandbox here, or None when it can.

    A fact of the machine, so it is probed once per process.
    """
    cmd = [path, *BWRAP_BASE, "--unshare-net", "--", "true"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{path} could not be run: {exc}"
    if done.returncode != 0:
        return f"{path} failed: {done.stderr.strip() or f'exit code {done.returncode}'}"
    return None


def choose_isolation(use_bwrap: bool | Literal["auto"]) -> tuple[str | None, str | None]:
    """(path of bwrap to use or None, why not when it is wanted but unusable)."""
    if use_bwrap is False:
        return None, None
    path = shutil.which("bwrap")
    problem = bwrap_problem(path) if path else "bwrap is not installed"
    if problem is None:
        return path, None
    if use_bwrap is True:
        raise BwrapUnavailable(
            f"use_bwrap=True but {problem}. Install bubblewrap (apt-get install -y bubblewrap) "
            "on a Linux host that allows namespaces, or pass use_bwrap='auto' to fall back "
            "to a plain subprocess."
        )
    return None, problem


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _mount_args(hide_paths: list[str] | None) -> list[str]:
    """Hide the caller's home and working directory, but keep Python itself reachable."""
    if hide_paths is None:
        wanted = [str(Path.home())]
        with contextlib.suppress(OSError):  # the working directory may have been deleted
            wanted.append(os.getcwd())
    else:
        wanted = hide_paths
    hidden = sorted(
        {
            real
            for p in wanted
            if (real := os.path.realpath(p)) not in SYSTEM_DIRS
            and not _is_under(real, "/tmp")
            and os.path.isdir(real)
        },
        key=len,
    )
    python_dirs = {
        os.path.realpath(p)
        for p in (
            sys.prefix,
            sys.base_prefix,
            sys.exec_prefix,
            os.path.dirname(os.path.realpath(sys.executable)),
            sysconfig.get_path("purelib"),
            sysconfig.get_path("platlib"),
        )
        if p and os.path.isdir(p)
    }
    keep = sorted(
        d
        for d in python_dirs
        if any(_is_under(d, h) for h in hidden)
        and not any(o != d and _is_under(d, o) for o in python_dirs)
    )
    args: list[str] = []
    for h in hidden:
        if not any(h != o and _is_under(h, o) for o in hidden):
            args += ["--tmpfs", h]
    made: set[str] = set()
    for d in keep:
        # bwrap would create the directories leading to a mount point as 0700, which the
        # child's own user id could not pass through.
        for parent in reversed(Path(d).parents):
            a = str(parent)
            if a not in made and any(_is_under(a, h) and a != h for h in hidden):
                args += ["--perms", "0755", "--dir", a]
                made.add(a)
        args += ["--ro-bind", d, d]
    return args


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


def _worker_source() -> str:
    return Path(__file__).with_name("worker.py").read_text(encoding="utf-8")


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


def run_child(
    request: dict[str, Any], limits: Limits, use_bwrap: bool | Literal["auto"]
) -> tuple[RawRun, str | None]:
    """Run the worker on ``request``; returns the raw run and, when bubblewrap was
    wanted but could not be used, the reason (the caller warns about it)."""
    bwrap, problem = choose_isolation(use_bwrap)
    uid = UID_BASE + secrets.randbelow(UID_SPAN) if bwrap and os.geteuid() == 0 else None
    cpu = limits.cpu_time_s if limits.cpu_time_s is not None else limits.timeout_s + KILL_GRACE_S
    request = {
        **request,
        "timeout_s": limits.timeout_s,
        "uid": uid,
        "limits": {
            "RLIMIT_AS": limits.memory_mb << 20,
            "RLIMIT_CPU": math.ceil(cpu),
            "RLIMIT_FSIZE": limits.max_file_mb << 20,
            "RLIMIT_CORE": 0,
            # Counted per user across the machine: it bounds the code only when the
            # code has a user id of its own.
            "RLIMIT_NPROC": limits.max_procs if uid is not None else None,
        },
    }
    reply_r, reply_w = os.pipe()
    request["reply_fd"] = reply_w
    workdir = None if bwrap else tempfile.mkdtemp(prefix="textgrad-sandbox-")
    home = "/tmp" if bwrap else str(workdir)
    python = [sys.executable, "-P", "-c", _worker_source()]
    if bwrap:
        cmd = [bwrap, *BWRAP_BASE, *_mount_args(limits.hide_paths)]
        if not limits.allow_network:
            cmd.append("--unshare-net")
        if uid is not None:
            # Only what the worker needs to switch to its own user id; that switch then
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
            start_new_session=True,  # one process group to kill, leftovers included
        )
    except BaseException:
        os.close(reply_r)
        os.close(reply_w)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
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
        proc.wait()
        duration = time.monotonic() - start
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        os.close(reply_r)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    parsed, reply_problem = _parse_reply(bytes(reply))
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
        isolation="bwrap" if bwrap else "process",
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
