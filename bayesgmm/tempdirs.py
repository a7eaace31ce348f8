"""A directory of this user's alone under the temporary directory: where a cache of compiled
code goes when the usual places cannot be written (PyTensor's without a home directory,
numba's from a read-only installation; matplotlib's configuration and font cache too).
Compiled code is loaded from it, so a directory another user made first, or could write to,
must never be it.

Where it sits: the vocabulary layer (standard library only); imported by :mod:`bayesgmm.paths`,
:mod:`bayesgmm._numba_cache` and the package's ``__init__``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import socket
import stat
import tempfile
from pathlib import Path

__all__ = ["local_pid", "matplotlib_config_fallback", "private_directory", "writer_tag"]


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
