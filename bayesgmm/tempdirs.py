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
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["matplotlib_config_fallback", "private_directory"]


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
