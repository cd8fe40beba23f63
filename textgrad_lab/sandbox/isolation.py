"""Which isolation a run gets, and what bubblewrap mounts for it.

Two levels (see docs/threat-model.md):
- ``bwrap``: bubblewrap gives the child a read-only view of the file system with the
  caller's home and working directory hidden, a private ``/tmp``, its own PID, IPC
  and network namespaces (no network; the judge is PID 1, so no bubblewrap process
  the code could reach sits inside), and dies with its parent.
- ``weak``: a plain subprocess in a fresh scratch folder, run under a throw-away
  user id, so it cannot read the caller's processes or home; it can read
  world-readable files and reach the network. Only on explicit request.

Where bubblewrap cannot run, the default is to refuse.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Literal

from textgrad_lab.sandbox.errors import BwrapUnavailable, SandboxUnavailable

Isolation = Literal["bwrap", "weak"]
IsolationChoice = Literal["auto", "bwrap", "weak"]
# Set to 1 (the CLI's --allow-weak-sandbox does) to accept the weak sandbox where
# bubblewrap cannot run, for every run whose isolation is "auto".
ALLOW_WEAK_ENV = "TEXTGRAD_LAB_ALLOW_WEAK_SANDBOX"
INSTALL_HINT = "apt-get install -y bubblewrap"

# bwrap arguments shared by the probe and every run (the probe checks exactly these).
BWRAP_BASE = (
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--perms", "1777", "--tmpfs", "/tmp",
    "--unshare-pid", "--as-pid-1", "--unshare-ipc", "--unshare-uts",
    "--die-with-parent", "--new-session",
)  # fmt: skip
# Directories the sandbox never hides, even when they are the caller's home or cwd.
SYSTEM_DIRS = frozenset({
    "/", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc", "/dev", "/proc",
    "/sys", "/tmp", "/var", "/run", "/opt", "/srv", "/boot",
})  # fmt: skip


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


def weak_allowed() -> bool:
    return os.environ.get(ALLOW_WEAK_ENV, "").strip().lower() in ("1", "true", "yes")


def choose_isolation(wanted: IsolationChoice) -> tuple[Isolation, str | None, str | None]:
    """(isolation, path of bwrap or None, why bubblewrap was not used when "auto" fell
    back to the weak sandbox). Raises :class:`SandboxUnavailable` rather than run
    code with less isolation than was asked for."""
    if wanted == "weak":
        return _weak(), None, None
    path = shutil.which("bwrap")
    problem = bwrap_problem(path) if path else "bubblewrap (bwrap) is not installed"
    if problem is None:
        return "bwrap", path, None
    if wanted == "bwrap":
        raise BwrapUnavailable(
            f"isolation='bwrap' but {problem}. Install bubblewrap ({INSTALL_HINT}) on a "
            "Linux host that allows namespaces."
        )
    if weak_allowed():
        return _weak(), None, problem
    raise SandboxUnavailable(
        f"cannot sandbox untrusted code: {problem}. Install bubblewrap ({INSTALL_HINT}), "
        f"or accept the weak sandbox explicitly (--allow-weak-sandbox, {ALLOW_WEAK_ENV}=1, "
        "or SandboxConfig(isolation='weak'); see docs/threat-model.md)."
    )


def _weak() -> Isolation:
    """The weak sandbox, where it can keep its promise: it needs a user id of its own."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        raise SandboxUnavailable(
            "the weak sandbox runs code under a throw-away user id, which needs root; as an "
            f"ordinary user, install bubblewrap ({INSTALL_HINT}) for sandboxed code."
        )
    return "weak"


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def python_dirs() -> set[str]:
    """Where this interpreter lives: prefixes, the venv, the standard library, site-packages."""
    paths = [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(sys.executable),
        os.path.dirname(os.path.realpath(sys.executable)),
        *(sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")),
        *site.getsitepackages(),
    ]
    if site.ENABLE_USER_SITE:
        paths.append(site.getusersitepackages())
    return {os.path.realpath(p) for p in paths if p and os.path.isdir(p)}


def mount_args(hide_paths: list[str] | None) -> list[str]:
    """Hide the caller's home and working directory, and keep Python itself reachable,
    read-only at its real paths, even where it lives in a hidden place or in /tmp."""
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
    covered = [*hidden, "/tmp"]  # /tmp: replaced by the sandbox's own tmpfs
    dirs = python_dirs()
    keep = sorted(
        d
        for d in dirs
        if any(_is_under(d, h) for h in covered)
        and not any(o != d and _is_under(d, o) for o in dirs)
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
            if a not in made and any(_is_under(a, h) and a != h for h in covered):
                args += ["--perms", "0755", "--dir", a]
                made.add(a)
        args += ["--ro-bind", d, d]
    return args
