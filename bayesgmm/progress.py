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

Where it sits: the estimation layer, above the kernel and the native density, which
:func:`sampler_cache_is_cold` imports on first use; imported by the fit, selection, warm, the
report and the command line.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["COLD_COMPILE_S", "COLD_EM_S", "COLD_PLAN_S", "COLD_THREADED_S", "detail",
           "em_first_run_notice", "enabled", "first_run_notice", "in_notebook", "live_bar",
           "sampler_cache_is_cold", "say", "set_enabled", "silenced", "step", "within"]

# Measured on 2 shared cores (issue 15): 66-70 s of numba compilation on a fresh clone.
COLD_COMPILE_S = 70
# ... and `bayesgmm warm`'s other two stages there: the EM kernels (every covariance type) and
# the row plan's kernels (missing values, weights, noise); twice as long under heavy load
COLD_EM_S = 10
COLD_PLAN_S = 25
# ... and the threaded E-step, which warm compiles beside the EM kernels (stop 69: the EM stage
# took 22.5 s with it on a fresh clone)
COLD_THREADED_S = 10

_state = {"enabled": os.environ.get("BAYESGMM_QUIET", "") in ("", "0")}
# Off a terminal, :func:`detail` prints a line at most this often (seconds): often enough that
# a log never sits silent for long, rarely enough that a quick step stays two lines.
DETAIL_EVERY_S = 5.0
# The shown steps, innermost last: (updater for :func:`detail`, whether only the step's own
# detail calls count: its inner_details=False). One entry per step, pushed and removed by
# identity, so that the updater and its flag never part.
_active: list[tuple[Any, bool]] = []


def set_enabled(on: bool) -> None:
    """Switch the status lines on or off for the whole process, and for the worker processes
    it starts afterwards (joblib's, Dask's): off sets ``BAYESGMM_QUIET=1`` in its environment,
    which they inherit, and on removes it (QA99: a sweep's workers printed 90 lines after
    ``set_enabled(False)``)."""
    _state["enabled"] = bool(on)
    if on:
        os.environ.pop("BAYESGMM_QUIET", None)
    else:
        os.environ["BAYESGMM_QUIET"] = "1"


def enabled() -> bool:
    """Whether status lines are printed (see :func:`set_enabled`, :func:`silenced`)."""
    return _state["enabled"]


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel: its stderr is no terminal, yet its front end
    draws nutpie's progress bar (as HTML), so the sampler's progress is told one way there,
    not both (notebook QA: a bar and text lines; a bar frozen at 8,895 of 44,000 when
    ``draws="auto"`` stopped at a checkpoint)."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython else None
    # by name along its classes: a kernel's own shell class (Colab's) derives from it
    return any(cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__)


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """No status lines inside the block (the previous state comes back after it)."""
    before = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = before



# Where a fit's closing line of checks sends its reader for every check and its advice: the
# API's ``diagnostics()``, the command line's own printout (QA152 L5: Python told to a shell).
_checks_where: contextvars.ContextVar[str] = contextvars.ContextVar(
    "checks_where",
    default="diagnostics() of the result (or estimator) says every check and what to do")


def checks_where() -> str:
    """Where every check and its advice are told (see :func:`checks_told`)."""
    return _checks_where.get()


@contextlib.contextmanager
def checks_told(where: str) -> Iterator[None]:
    """Inside the block the closing line of checks sends its reader to ``where``."""
    token = _checks_where.set(where)
    try:
        yield
    finally:
        _checks_where.reset(token)

# Set by the command line's signal handler: a stop was asked for (see :func:`stop_point`).
_stop = threading.Event()


def request_stop() -> None:
    """Ask the run to stop at its next status line (:func:`stop_point`); the command line's
    Ctrl-C / SIGTERM handler calls it besides raising KeyboardInterrupt."""
    _stop.set()


def clear_stop() -> None:
    """Forget a stop asked for (the next run in this process starts afresh)."""
    _stop.clear()


def stop_point() -> None:
    """Raise KeyboardInterrupt in the main thread if a stop was asked for. Every status line
    passes here, shown or not: a signal whose KeyboardInterrupt Python swallowed (it landed
    in a garbage collector's callback, JAX's: "Exception ignored") still stops the run at
    its next step. QA: such a Ctrl-C went on through sampling and the report, printed the
    results, then discarded them."""
    if _stop.is_set() and threading.current_thread() is threading.main_thread():
        raise KeyboardInterrupt("a stop was asked for")


def say(message: str, show: bool = True) -> None:
    """Print one status line (``bayesgmm: message``) on stderr, unless silenced or ``show`` is
    false (a stop asked for is raised here first: :func:`stop_point`)."""
    stop_point()
    if show and _state["enabled"]:
        _line(message)


def _line(message: str | None) -> None:
    """``message`` on stderr (None: nothing of its own), after the start lines a notebook's
    steps have not said yet (:data:`_PENDING`), so that no inner step's line comes before
    its outer step's start (QA107)."""
    with _PENDING_LOCK:  # written under the lock too: a start never after its "done" (QA108)
        lines = [*_PENDING, *([message] if message is not None else [])]
        _PENDING.clear()
        try:
            for text in lines:
                print(f"bayesgmm: {text}", file=sys.stderr, flush=True)
        except (OSError, ValueError):  # stderr's reader left (`2>&1 | head`) or closed:
            _state["enabled"] = False  # a status line is never worth the fit; no more


# In a notebook, the start lines of the steps running that have not been said yet, outer
# first: said when the step has taken NOTEBOOK_START_S, or before any other line.
_PENDING: list[str] = []
_PENDING_LOCK = threading.Lock()


@contextlib.contextmanager
def step(message: str, show: bool = True, *, inner_details: bool = True) -> Iterator[None]:
    """Announce a long step and, when it ends, how long it took.

    On a terminal rich's spinner runs beside ``message`` while the step works; elsewhere (a
    pipe, a log file, a test) one line when it starts and one when it ends; in a notebook
    the start only once the step has taken :data:`NOTEBOOK_START_S` (or before another line).
    ``inner_details=False``: only the step's own :func:`detail` calls (``own=True``) say where
    it is, not those of the code it runs (an EM sweep's cells, not each cell's restarts).
    """
    stop_point()
    # Inside a step that keeps to its own details, an inner step is one of those inner
    # details: silent too (a report's memberships, say; review).
    outer = _innermost()
    if not (show and _state["enabled"]) or (outer is not None and outer[1]):
        yield
        return
    with _shown(message, not inner_details):
        yield


def _innermost() -> tuple[Any, bool] | None:
    try:
        return _active[-1]
    except IndexError:  # none, or emptied meanwhile by another thread
        return None


@contextlib.contextmanager
def _pushed(entry: tuple[Any, bool]) -> Iterator[None]:
    _active.append(entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            _active.remove(entry)  # by identity of the tuple's updater, not the last one


@contextlib.contextmanager
def _shown(message: str, own_only: bool) -> Iterator[None]:
    """:func:`step`'s lines (or spinner) for ``message``."""
    t0 = time.perf_counter()
    if sys.stderr.isatty():
        try:
            from rich.console import Console
        except ImportError:  # rich comes with PyMC; without it, the plain lines below
            Console = None
        if Console is not None:
            console = _console()
            with console.status(f"{message}...") as status:
                shown = [f"{message}..."]

                def show(text: str | None = None) -> None:
                    # the seconds so far beside the text (QA136 M1: a cold compile's spinner
                    # stood 128 s under "about 70 s" with nothing that moved but the glyph)
                    if text is not None:
                        shown[0] = f"{message}: {text}..."
                    seconds = time.perf_counter() - t0
                    status.update(shown[0] + (f" {seconds:.0f} s" if seconds >= 2 else ""))

                with _pushed((show, own_only)), _ticking(show):
                    yield
            console.print(f"bayesgmm: {message}: {time.perf_counter() - t0:.1f} s",
                          highlight=False)
            return
    # In a notebook a step's start is said only once it has taken NOTEBOOK_START_S, or
    # before any other line (QA96: each quick step's two lines, "X..." then "X: done", made
    # 8-9 pink lines a fit); said whatever silences the step's inside (QA107: warm's
    # compile, its slowest, lost its start line), as the step itself was shown
    start, late = f"{message}...", None
    if not in_notebook():
        say(start)
    else:
        with _PENDING_LOCK:
            _PENDING.append(start)
        late = threading.Timer(NOTEBOOK_START_S, _line, [None])
        late.daemon = True
        late.start()
    last = [t0]

    def line(text: str) -> None:
        if time.perf_counter() - last[0] >= DETAIL_EVERY_S:
            last[0] = time.perf_counter()
            say(f"{message}: {text} ({last[0] - t0:.0f} s)")

    try:
        with _pushed((line, own_only)), _heartbeat(message, t0, last):
            yield
    finally:
        if late is not None:
            late.cancel()
            with _PENDING_LOCK, contextlib.suppress(ValueError):
                _PENDING.remove(start)  # not said: the "done" line alone
    say(f"{message}: done in {time.perf_counter() - t0:.1f} s")


# How long a step runs in a notebook before its start is said (its end always is).
NOTEBOOK_START_S = 3.0


# Off a terminal, a step that says nothing else (a cold compile: minutes under load, QA) gets
# a line this often, so that a log never goes silent for longer.
HEARTBEAT_S = 30.0


@contextlib.contextmanager
def _heartbeat(message: str, t0: float, last: list[float]) -> Iterator[None]:
    """While the block runs, "``message``: still working (N s)" whenever ``last[0]`` (the time
    of the step's last line) is :data:`HEARTBEAT_S` old: also while the block silences its
    inner lines (QA: `make run`'s cold "compiling the sampler" step, silenced inside, went
    192 s without a line), as the step itself was shown."""
    def beat(done: threading.Event) -> None:
        while not done.wait(max(0.0, last[0] + HEARTBEAT_S - time.perf_counter())):
            if time.perf_counter() - last[0] >= HEARTBEAT_S:
                last[0] = time.perf_counter()
                _line(f"{message}: still working ({last[0] - t0:.0f} s)")

    with _in_background(beat, "bayesgmm-heartbeat"):
        yield


@contextlib.contextmanager
def _ticking(show: Callable[[], None], every: float = 1.0) -> Iterator[None]:
    """While the block runs, ``show()`` every ``every`` seconds (a terminal's spinner text,
    with the seconds so far)."""
    def tick(done: threading.Event) -> None:
        while not done.wait(every):
            show()

    with _in_background(tick, "bayesgmm-ticker"):
        yield


@contextlib.contextmanager
def _in_background(loop: Callable[[threading.Event], None], name: str) -> Iterator[None]:
    """``loop(done)`` in a daemon thread while the block runs; ``done`` is set at its end,
    and the thread joined."""
    done = threading.Event()
    thread = threading.Thread(target=loop, args=(done,), name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


@functools.cache
def _console():
    """The one rich console of the status layer, on stderr (whatever ``sys.stderr`` is when it
    writes): spinners and bars share it, so that one live display nests in another instead of
    two drawing over each other."""
    from rich.console import Console

    return Console(stderr=True)


@contextlib.contextmanager
def live_bar(description: str, show: bool = True
             ) -> Iterator[Callable[[int, int, str], None] | None]:
    """A progress bar held at the foot of a terminal, for a long run whose status lines come
    while it runs (``draws="auto"``'s checkpoints): every line written to stderr meanwhile
    (:func:`say`, a warning) is printed above the bar, never under it.

    Why not nutpie's own bar there: it redraws by moving the cursor up over its last drawing,
    so a line printed below it is drawn over (TTY QA: the checkpoint lines "4,000 draws per
    chain: max R-hat ...: continuing to 6,900" were gone from the screen, and headers and bars
    in pieces stood in their place).

    Yields ``update(done, total, text)``, or ``None`` where no bar is shown: off a terminal,
    in a notebook, with the lines off or ``show`` false, without rich (it comes with PyMC), or
    inside a step's spinner with a rich older than 14.1 (one live display per console; newer
    ones draw the bar inside the spinner's). The caller then tells its progress its own way.
    The bar leaves the screen when the block ends; the lines stay.
    """
    if not (show and _state["enabled"] and sys.stderr.isatty() and not in_notebook()):
        yield None
        return
    try:
        from rich.errors import LiveError
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    except ImportError:
        yield None
        return
    bar = Progress(TextColumn(f"bayesgmm: {description}"), BarColumn(),
                   TextColumn("{task.fields[text]}"), TimeElapsedColumn(),
                   console=_console(), transient=True,
                   # stdout keeps the results: only the status stream goes above the bar
                   redirect_stdout=False, redirect_stderr=True)
    try:
        bar.start()
    except LiveError:
        yield None
        return
    task = bar.add_task(description, total=None, text="")
    try:
        yield lambda done, total, text: bar.update(task, completed=done, total=total,
                                                   text=text)
    finally:
        bar.stop()


def detail(text: str, *, own: bool = False) -> None:
    """Where the running :func:`step` has got to (e.g. "figure 3 of 9: trace"): the spinner's
    text on a terminal; elsewhere a line, at most every :data:`DETAIL_EVERY_S` seconds. Nothing
    outside a step, or when the step is not shown; ``own``: the step's own call (see its
    ``inner_details``)."""
    stop_point()
    innermost = _innermost()
    # not from a silenced block (QA136 M1: warm's inner fit's "EM restart 10 of 10" stood
    # on the spinner of the compile that followed it, for two minutes)
    if innermost is not None and (own or not innermost[1]) and _state["enabled"]:
        innermost[0](text)


@contextlib.contextmanager
def within(label: str) -> Iterator[None]:
    """The running step's inner :func:`detail` lines, prefixed by ``label`` for the duration:
    which part of a step they belong to (large-N QA: the start search's "EM restart 3 of 10"
    counted up three times, once per seeding family, and named none)."""
    innermost = _innermost()
    if innermost is None:
        yield
        return
    update, own_only = innermost
    with _pushed((lambda text: update(f"{label}: {text}"), own_only)):
        yield


# The EM kernels' cold-cache notice is said (or found needless) once a process: fit_em runs
# hundreds of times in a sweep, and within fit_bayes, whose own notice covers it.
_EM_CACHE_CHECKED: set[bool] = set()


def first_run_notice(show: bool = True, plan: bool = False) -> None:
    """Say that this run compiles the kernels (about :data:`COLD_COMPILE_S` s, once) when
    numba's disk cache does not hold them yet (``plan``: those of the row plan too, for data
    with missing values, weights, labels or a noise component)."""
    _EM_CACHE_CHECKED.update({False, plan})  # the EM fits within are covered by this notice
    if show and _state["enabled"] and sampler_cache_is_cold(plan):
        say(f"first run on this machine: compiling the sampler and EM kernels (numba), about "
            f"{COLD_COMPILE_S} s, once; later runs load them from the cache ('bayesgmm warm' "
            "does this ahead)")


def em_first_run_notice(plan: bool = False) -> None:
    """The EM kernels' notice, for ``fit_em`` called on its own (QA116: a notebook's first
    ``fit_em`` sat silent for 16-30 s compiling, where a fit said so): once a process."""
    if plan in _EM_CACHE_CHECKED or not _state["enabled"]:
        return
    _EM_CACHE_CHECKED.add(plan)
    from . import _numba_cache, kernels

    used = (kernels.estep_serial,) + ((kernels.plan_estep,) if plan else ())
    if not all(_numba_cache.has_cached_code(kernel) for kernel in used):
        seconds = COLD_EM_S + (COLD_PLAN_S if plan else 0)
        say(f"first run on this machine: compiling the EM kernels (numba), about {seconds} s, "
            "once; later runs load them from the cache ('bayesgmm warm' does this ahead)")


def sampler_cache_is_cold(plan: bool = False) -> bool:
    """True when numba would compile, not load, the kernels of a fit (the EM E-step and the
    native sampler's density; with ``plan``, the row plan's too: missing values, weights,
    labels, a noise component).

    Asks numba's own cache index, as numba does before it compiles
    (:func:`bayesgmm._numba_cache.has_cached_code`): the index must come from this numba
    version, hold the current source stamp (a content hash of the defining module and of every
    package module it imports, so an edited ``kernels.py`` reads as cold for the native
    density too) and an entry for this CPU, wherever numba keeps it (``NUMBA_CACHE_DIR``,
    ``__pycache__`` beside the source, or numba's per-user directory). File times play no
    part: numba ignores them. Imports the kernels (numba, seconds the callers pay next anyway)
    but compiles nothing.
    """
    from . import _numba_cache, kernels
    from .backends import native

    used = (kernels.estep_serial, native.logp_and_gradient) + (
        (kernels.plan_estep, native.logp_and_gradient_plan) if plan else ())
    return not all(_numba_cache.has_cached_code(kernel) for kernel in used)
