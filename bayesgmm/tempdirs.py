"""A directory of this user's alone under the temporary directory: where a cache of compiled
code goes when the usual places cannot be written (PyTensor's without a home directory,
numba's from a read-only installation; matplotlib's configuration and font cache too).
Compiled code is loaded from it, so a directory another user made first, or could write to,
must never be it. And the names that tell whose a temporary directory is (``PID@MACHINE``),
so that one a killed process left behind is found and removed: an output's temporary
siblings, and the scratch copies of data read from standard input or another encoding.

Where it sits: the vocabulary layer (standard library only); imported by :mod:`bayesgmm.paths`,
:mod:`bayesgmm._numba_cache` and the package's ``__init__``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import socket
import stat
import tempfile
import time
from pathlib import Path

__all__ = ["is_stale", "local_pid", "matplotlib_config_fallback", "modified_at",
           "private_directory", "scratch_directory", "writer_tag"]

# A scratch directory (:func:`scratch_directory`) of no process known to have ended is
# removed when this old: a run may read its copy for days (a large select), so only a week.
SCRATCH_AGE_S = 7 * 24 * 3600.0


def private_directory(name: str) -> Path:
    """``$TMPDIR/name`` when it is this user's alone (made so if missing), else a fresh
    private temporary directory (a directory another user made first, or could write to,
    must not hold code this process loads: review)."""
    path = Path(tempfile.gettempdir()) / name
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    try:
        info = path.lstat()
    except OSError:
        info = None
    if info is not None and stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() \
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return path
    return Path(tempfile.mkdtemp(prefix=f"{name}-"))


def matplotlib_config_fallback() -> str | None:
    """Point matplotlib at a private temporary directory (``MPLCONFIGDIR``) when it could not
    write its configuration and font cache under the home directory, before it is imported;
    returns that directory, or None when nothing had to change. QA93: with a read-only home
    every run printed matplotlib's two-line warning about it between bayesgmm's status lines.
    A directory the user chose is left alone."""
    if os.environ.get("MPLCONFIGDIR"):
        return None
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path(os.path.expanduser("~")) / ".config")
    target = config / "matplotlib"
    existing = next((p for p in (target, config, config.parent) if p.exists()), None)
    if existing is not None and existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
        return None
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    fallback = private_directory(f"bayesgmm-matplotlib-{uid}")
    os.environ["MPLCONFIGDIR"] = str(fallback)
    return str(fallback)


@functools.cache
def _machine() -> str:
    """This host and PID namespace, in 8 hex digits: a PID names a process only there."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return hashlib.sha256(f"{socket.gethostname()}:{namespace}".encode()).hexdigest()[:8]


def writer_tag() -> str:
    """``PID@MACHINE``: what a temporary directory's name says of the process writing it, so
    that another host or container sharing the disk does not judge it by a PID of its own
    (QA93: a writer in another PID namespace found no such process and deleted a live fit's
    temporary directory)."""
    return f"{os.getpid()}@{_machine()}"


def local_pid(tag: str) -> int | None:
    """The PID of a :func:`writer_tag` written on this host and PID namespace (or a bare
    PID, as names had it before), else None: a process elsewhere, to be judged by age."""
    pid, _, machine = tag.partition("@")
    if not pid.isdigit() or (machine and machine != _machine()):
        return None
    return int(pid)


def is_stale(tag: str, entry: Path, max_age_s: float) -> bool:
    """Whether a temporary directory (name tag ``PID@MACHINE-XXXX``, ``PID-XXXX`` or ``XXXX``)
    belongs to no writer: by its PID on this host (:func:`local_pid`), else by age."""
    age = time.time() - modified_at(entry)
    pid = local_pid(tag.split("-", 1)[0]) if "-" in tag else None
    if pid is None:
        return age > max_age_s  # another host's or container's, or written before PIDs
    if pid == os.getpid():
        return age > max_age_s  # perhaps another thread of this process is writing
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        pass  # alive under another user (or not a valid PID at all: judge by age)
    return age > max_age_s


def modified_at(path: Path) -> float:
    """``path``'s modification time (of a link itself), 0 where it cannot be read."""
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def scratch_directory(kind: str) -> Path:
    """A new temporary directory ``$TMPDIR/bayesgmm-KIND-PID@MACHINE-XXXX`` for this process's
    scratch copies, after removing this user's such directories that a killed process left
    (its own removes them at exit; QA168 L2: a SIGKILL left them for good, ten on one
    machine). Another process's live directory is left alone (:func:`is_stale`)."""
    prefix = f"bayesgmm-{kind}-"
    root = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for entry in root.glob(f"{prefix}*"):
            with contextlib.suppress(OSError):
                info = entry.lstat()
                if (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
                        and is_stale(entry.name[len(prefix):], entry, SCRATCH_AGE_S)):
                    shutil.rmtree(entry, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{writer_tag()}-"))

