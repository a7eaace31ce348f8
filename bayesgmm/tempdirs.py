"""A directory of this user's alone under the temporary directory: where a cache of compiled
code goes when the usual places cannot be written (PyTensor's without a home directory,
numba's from a read-only installation). Compiled code is loaded from it, so a directory
another user made first, or could write to, must never be it.

Where it sits: the vocabulary layer (standard library only); imported by :mod:`bayesgmm.paths`
and :mod:`bayesgmm._numba_cache`.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["private_directory"]


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
