"""What bayesgmm is doing on a long step, told on stderr: one small status layer.

Every long step (EM restarts, compiling or loading the sampler, relabelling, writing a report)
announces itself through :func:`say` or :func:`step`, so a run never sits silent for long. The
lines go to stderr (stdout keeps the results); on a terminal :func:`step` shows rich's spinner
while the step runs (rich comes with PyMC), elsewhere a plain line at the start and one with the
time at the end.

Silencing: the API's ``progressbar=False`` passes ``show=False``; :func:`silenced` mutes a
block; :func:`set_enabled` switches the layer off for the process (the CLI's ``--no-progress``).

The numba caches: :func:`sampler_cache_is_cold` tells whether the native sampler's compiled code
is missing from numba's disk cache, so that the first run on a machine can say that it is
compiling (about :data:`COLD_COMPILE_S` seconds, once) instead of looking hung.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["COLD_COMPILE_S", "enabled", "first_run_notice", "sampler_cache_is_cold", "say",
           "set_enabled", "silenced", "step"]

# Measured on 2 shared cores (issue 15): 66-70 s of numba compilation on a fresh clone.
COLD_COMPILE_S = 70

_state = {"enabled": os.environ.get("BAYESGMM_QUIET", "") in ("", "0")}


def set_enabled(on: bool) -> None:
    """Switch the status lines on or off for the whole process."""
    _state["enabled"] = bool(on)


def enabled() -> bool:
    """Whether status lines are printed (see :func:`set_enabled`, :func:`silenced`)."""
    return _state["enabled"]


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """No status lines inside the block (the previous state comes back after it)."""
    before = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = before


def say(message: str, show: bool = True) -> None:
    """Print one status line (``bayesgmm: message``) on stderr, unless silenced or ``show`` is
    false."""
    if show and _state["enabled"]:
        print(f"bayesgmm: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def step(message: str, show: bool = True) -> Iterator[None]:
    """Announce a long step and, when it ends, how long it took.

    On a terminal rich's spinner runs beside ``message`` while the step works; elsewhere (a
    pipe, a log file, a test) one line when it starts and one when it ends.
    """
    if not (show and _state["enabled"]):
        yield
        return
    t0 = time.perf_counter()
    if sys.stderr.isatty():
        try:
            from rich.console import Console
        except ImportError:  # rich comes with PyMC; without it, the plain lines below
            Console = None
        if Console is not None:
            console = Console(stderr=True)
            with console.status(f"{message}..."):
                yield
            console.print(f"bayesgmm: {message}: {time.perf_counter() - t0:.1f} s",
                          highlight=False)
            return
    say(f"{message}...")
    yield
    say(f"{message}: done in {time.perf_counter() - t0:.1f} s")


def first_run_notice(show: bool = True) -> None:
    """Say that this run compiles the kernels (about :data:`COLD_COMPILE_S` s, once) when
    numba's disk cache does not hold them yet."""
    if show and _state["enabled"] and sampler_cache_is_cold():
        say(f"first run on this machine: compiling the sampler and EM kernels (numba), about "
            f"{COLD_COMPILE_S} s, once; later runs load them from the cache ('bayesgmm warm' "
            "does this ahead)")


def sampler_cache_is_cold() -> bool:
    """True when the native sampler's numba code is not in numba's disk cache yet.

    Looks for the cache index of the native log-density kernel (``backends/native.py``'s
    ``logp_and_gradient``, compiled with ``cache=True``) where numba keeps it: ``__pycache__``
    beside the source, or the mirror of the source directory under ``NUMBA_CACHE_DIR`` (an
    installation numba cannot write to, which it caches per user elsewhere, reads as cold);
    an index older than ``native.py`` is stale and counts as cold. Only file names and times
    are read: importing the sampler to ask numba would cost the seconds this check explains.
    """
    source_dir = Path(__file__).resolve().parent / "backends"
    custom = os.environ.get("NUMBA_CACHE_DIR")
    # numba's first locator: a user-given cache directory replaces the in-tree one.
    place = (Path(custom) / source_dir.relative_to(source_dir.anchor) if custom
             else source_dir / "__pycache__")
    if not place.is_dir():
        return True
    source = (source_dir / "native.py").stat().st_mtime
    # An index older than the source is stale: numba recompiles (it checks the source stamp).
    return not any(index.stat().st_mtime >= source
                   for index in place.glob("native.logp_and_gradient-*.nbi"))
