"""The sweep engine shared by the selection routes: seeds per grid cell, one thread per worker.

Sweeps are embarrassingly parallel and run through joblib: local processes (loky) by default,
a Dask cluster inside ``with joblib.parallel_backend("dask"):`` (see ``examples/dask_sweep.py``).
Each worker is limited to one numba/BLAS thread so that n_jobs workers do not oversubscribe the
cores, and every grid cell is seeded from ``random_state``, (K, covariance type) alone, so results
do not depend on ``n_jobs`` or the backend. (A route may improve a cell from its neighbours in the
grid afterwards, as :func:`bayesgmm.select_em` does; it then says so.)

Where it sits: the selection layer's base; imports the input checks, the sampler settings
and (inside a function) :mod:`bayesgmm.progress`; imported by every route.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numba
import numpy as np
from threadpoolctl import ThreadpoolController

from .._validation import (
    COVARIANCE_TYPES,
    check_n_components,
    check_random_state,
    check_seed,
    draw_seed,
    whole_numbers,
)
from .._warn import ignored, recorded
from ..covariance import has_correlations, mclust_hint
from ..formatting import duration_words
from ..settings import SamplerSettings


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """One BLAS/OpenMP thread and one numba thread inside a sweep worker.

    n_jobs workers each running multi-threaded kernels would oversubscribe the cores. numba's
    setting is per thread; threadpoolctl's is per process, so the first worker in limits it
    and the last one out restores it (QA145 M1: on a thread-based backend two workers
    restored each other's limits out of order, and the process's BLAS kept one thread for
    good).
    """
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with _blas_limited():
            yield
    finally:
        numba.set_num_threads(previous)


@functools.cache
def _threadpools() -> ThreadpoolController:
    """The process's thread pools, found once: threadpool_limits looks for them in every
    loaded library at each call (1% of the selection tests' time, py-spy, stop 71); the BLAS
    libraries are loaded with NumPy and SciPy, before any sweep."""
    return ThreadpoolController()


_blas_lock = threading.Lock()
_blas_state: dict = {"users": 0, "limits": None}


@contextlib.contextmanager
def _blas_limited() -> Iterator[None]:
    """``threadpool_limits(limits=1)`` for the process while any thread is inside."""
    with _blas_lock:
        if _blas_state["users"] == 0:
            _blas_state["limits"] = _threadpools().limit(limits=1)
        _blas_state["users"] += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_state["users"] -= 1
            if _blas_state["users"] == 0:
                _blas_state["limits"].restore_original_limits()


def root_entropy(random_state: Any) -> int:
    """One integer that seeds the whole sweep (recorded so a sweep can be repeated)."""
    if isinstance(random_state, np.random.RandomState):  # scikit-learn's kind: a Generator
        random_state = check_random_state(random_state)
    if isinstance(random_state, np.random.SeedSequence):  # its spawn key counts too
        return int(random_state.generate_state(1, np.uint64)[0])
    if isinstance(random_state, np.random.BitGenerator):  # as fit_em and fit_bayes take it
        random_state = np.random.Generator(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    try:
        seed = check_seed(random_state)
    except ValueError:
        raise ValueError(
            f"random_state must be None, a non-negative int, a SeedSequence, BitGenerator or "
            f"Generator; "
            f"got {random_state!r}"
        ) from None
    return draw_seed() if seed is None else seed  # drawn: short enough to retype (QA86)


def seed_or_recorded(result: Any, random_state: Any) -> Any:
    """``random_state``, or where it is None the integer seed ``result`` (a fit) recorded,
    else 0: a summary of a saved fit that draws anew gives the same numbers every time."""
    if random_state is not None:
        return random_state
    recorded = (getattr(result, "settings", None) or {}).get("random_state")
    return recorded if isinstance(recorded, int) and not isinstance(recorded, bool) else 0


def cell_seed(entropy: int, n_components: int, covariance_type: str,
               stream: int = 0, n_features: int | None = None) -> np.random.SeedSequence:
    """The seed of one grid cell: a function of the root seed and the cell only. With one
    feature (``n_features`` 1) diag and spherical are full's model, and take its seed: the
    same fit, not three (QA105: BIC 446.59, 443.39 and 443.41 for one model)."""
    if n_features == 1 and not has_correlations(covariance_type):
        covariance_type = "full"
    key = (int(stream), int(n_components), COVARIANCE_TYPES.index(covariance_type))
    return np.random.SeedSequence(entropy, spawn_key=key)


def check_grid(n_components: int | Iterable[int]) -> tuple[int, ...]:
    """The numbers of components of a sweep, in increasing order; a one-line error for a
    string (QA: "1-3" was read a character at a time, "got '1'"), none, or one given twice
    (QA: [2, 2, 3] ran as [2, 3], unsaid)."""
    if isinstance(n_components, str | bytes):
        raise ValueError(f"n_components must be an integer or integers, e.g. range(1, 4) or "
                         f"[1, 2, 3]; got the string {n_components!r}")
    # one number is one K (2.5 refused by check_n_components, by name; QA64: "'float'
    # object is not iterable"); any iterable (a set, a generator) is a grid
    ks = list(n_components) if isinstance(n_components, Iterable) else [n_components]
    if not ks:
        raise ValueError("n_components must name at least one number of components")
    checked = [check_n_components(k) for k in ks]
    _once(checked, "n_components", "K")
    return tuple(sorted(checked))


def check_n_jobs(n_jobs: Any) -> None:
    """joblib's ``n_jobs``: None, or a whole number other than 0 (-1: every core); one line
    with the fix (QA: joblib's "n_jobs == 0 in Parallel has no meaning" named none)."""
    if n_jobs is None:
        return
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a positive number of workers, -1 for every core, or "
                         f"None; got {n_jobs!r}")


def one_feature_types(cts: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """With one feature, full, diag and spherical are one model (a variance per component;
    tied, one variance for all, stays distinct): keep the first of them asked for, so that the
    tables and the choice do not list the same fit three times. Returns (types, notes)."""
    per_component = [ct for ct in cts if ct in ("full", "diag", "spherical")]
    if len(per_component) < 2:
        return cts, ()
    keep, dropped = per_component[0], per_component[1:]
    kept = tuple(ct for ct in cts if ct not in dropped)
    return kept, (f"with one feature, {' and '.join(dropped)} {'is' if len(dropped) == 1 else
                  'are'} the same model as {keep} (a variance per component): fitted once, "
                  f"as {keep}",)


def check_covariance_types(covariance_types: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(covariance_types, str):
        covariance_types = COVARIANCE_TYPES if covariance_types == "all" else (covariance_types,)
    unknown = [ct for ct in covariance_types if ct not in COVARIANCE_TYPES]
    if unknown:  # in its own name, with 'all' (QA92: "al" was told of covariance_type)
        raise ValueError(f"covariance_types: unknown type(s) {unknown}; give 'all' or any of "
                         f"{', '.join(COVARIANCE_TYPES)}{mclust_hint(unknown[0])}")
    cts = list(covariance_types)
    if not cts:
        raise ValueError("covariance_types must name at least one covariance type")
    _once(cts, "covariance_types", "type")
    return tuple(ct for ct in COVARIANCE_TYPES if ct in cts)  # canonical order


def _once(values: list, name: str, what: str) -> None:
    """A one-line error when ``values`` names one more than once."""
    twice = sorted({v for v in values if values.count(v) > 1}, key=values.index)
    if twice:
        listed = ", ".join(map(str, twice))
        raise ValueError(f"{name} names {what} {listed} more than once; give each once")



def sampler_settings(settings: SamplerSettings | None, fit_kwargs: dict[str, Any],
                      **keywords: Any) -> SamplerSettings:
    """The sweep's settings (taking the sampler settings out of ``fit_kwargs``)."""
    keywords.update({k: fit_kwargs.pop(k) for k in SamplerSettings.names() if k in fit_kwargs})
    # The draws default is the signature's: "auto" for select_bayes (LOO of posteriors that
    # passed their checks), a fixed 1,000 for fit_sparse (Default(1000): a sparse mixture's
    # empty components never converge, by design; "auto" is honoured when asked).
    resolved = SamplerSettings.resolve(settings, **keywords)
    resolved.check_runnable()  # before any fit starts, not in a worker
    return resolved


def worker_settings(settings: SamplerSettings, workers: int, n_jobs: int | None
                    ) -> SamplerSettings:
    """Each posterior fit's settings when ``workers`` fits run at once: no progress bars
    (they would garble each other); with ``n_jobs=-1`` (only as many fits as the cores hold)
    each fit's chains in parallel, with another ``n_jobs`` one after another (``cores=1``),
    so that workers x chains do not oversubscribe the cores, unless ``cores`` is given.
    nutpie's ``draws="auto"`` gives every chain a thread whatever ``cores`` says (and the fit
    would warn that cores=1 is not honoured): ``cores=chains`` there."""
    if workers <= 1:
        return settings
    serial = n_jobs != -1 and not (settings.adaptive and settings.sampler == "nutpie")
    return settings.replace(progressbar=False,
                            cores=settings.cores or (1 if serial else settings.chains))


# Rows that frequency weights may stand for where a computation repeats them (each one's
# pointwise elpd, say): beyond it the repeated arrays alone take gigabytes.
MAX_COUNTED_ROWS = 10_000_000


def frequency_counts(sample_weight: Any, what: str) -> np.ndarray | None:
    """Frequency weights as whole counts (row n stands for ``counts[n]`` identical rows), or
    None without weights; ``what`` names the computation that needs them whole.

    PSIS-LOO (each row's elpd counted w times) and the number of non-empty components (each
    of the w rows drawing its own assignment) are defined for the rows the weights stand for,
    which only whole numbers are.
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    fractional = np.flatnonzero(~whole_numbers(w))
    if fractional.size:
        n = int(fractional[0])
        raise ValueError(
            f"{what} counts a row with weight w as w identical rows, so the weights must be "
            f"whole numbers; row {n} has weight {w[n]:.15g} (round the weights, or choose K by "
            "BIC with select_em / bayesgmm select without --bayes/--sparse, which take any "
            "weights)")
    if w.sum() > MAX_COUNTED_ROWS:  # review: 100 rows of weight 1e5 took 720 MB, then died
        raise ValueError(
            f"{what} counts a row with weight w as w identical rows, and these weights stand "
            f"for {w.sum():,.0f} rows, more than {MAX_COUNTED_ROWS:,}: rescale the weights, "
            "or choose K by BIC with select_em / bayesgmm select without --bayes/--sparse")
    return np.round(w).astype(np.int64)  # 2.000000000004 is 2, 1.999999999996 too


# --------------------------------------------------------------------------------------------
# warnings of the grid cells: caught in the workers, reported once each by the caller
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def caught_warnings() -> Iterator[list[tuple[type[Warning], str]]]:
    """Record the warnings raised inside the block as (category, message), each once.

    A warning raised in a worker process is printed there by Python's default hook (a
    ``file:line`` header and the source line, past any formatting the caller set up), once per
    cell: the cell returns what this records instead, for the caller to report.
    """
    found: list[tuple[type[Warning], str]] = []
    with recorded() as caught:
        try:
            yield found
        finally:
            found += dict.fromkeys((w.category, str(w.message)) for w in caught)


# The cell-specific parts of a message: bracketed lists ("[1, 3]") and whole numbers, in
# scientific notation too ("1e-06", "2.5e+03": never split at the exponent). A number right
# after "=" or "+" is a setting's value ("D+1=3", "reg_covar=1e-06"), part of the text.
_SPECIFIC = re.compile(r"\[[^\[\]]*\]|(?<![\w.\-])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_GAP = "\u2026"
# What names a value: the word just before it ("component 3", "(variance 1e-06", "N_k = [1.0]")
_LABEL = re.compile(r"(\w+(?:\(s\))?(?: ?[=:])?) ?$")


def _split(message: str) -> tuple[tuple[str, ...], list[str]]:
    """A message as its text around the cell-specific values, and those values:
    ``message == texts[0] + values[0] + texts[1] + ... + texts[-1]``."""
    texts, values, start = [], [], 0
    for match in _SPECIFIC.finditer(message):
        if not match.group().startswith("[") and message[match.start() - 1:match.start()] in (
                "=", "+"):
            continue  # a setting's value
        texts.append(message[start:match.start()])
        values.append(match.group())
        start = match.end()
    texts.append(message[start:])
    return tuple(texts), values


def _labelled(texts: Sequence[str], values: Mapping[str, list[str]]
              ) -> tuple[str, dict[str, str]] | None:
    """One kind of message (its ``texts``; each cell's ``values``) as a template and each cell's
    values named by the word before them; None when a value that differs has no such word
    (the cells' values would read as bare numbers)."""
    columns = list(zip(*values.values(), strict=True))
    differ = [len(set(column)) > 1 for column in columns]
    parts, labels = [texts[0]], []
    for i, column in enumerate(columns):
        if differ[i]:
            label = _LABEL.search(parts[-1])
            if label is None:
                return None
            labels.append(label.group(1))
            parts += [_GAP, texts[i + 1]]
        else:  # the same in every cell: part of the common text
            parts[-1] += column[0] + texts[i + 1]
    shown = {cell: "; ".join(f"{label} {value}" for label, value in
                             zip(labels, [v for v, d in zip(vals, differ, strict=True) if d],
                                 strict=True))
             for cell, vals in values.items()}
    return "".join(parts), shown


def group_warnings(by_cell: Mapping[str, Sequence[str]]) -> list[tuple[str, list[str]]]:
    """The cells' warnings with each kind of message once, and the cells that raised it.

    Parameters
    ----------
    by_cell : mapping
        Cell label (e.g. ``"K=3 full"``) -> its messages.

    Returns
    -------
    list of (text, cells)
        In order of first appearance. Messages that differ only in cell-specific values
        (component indices, sizes) are one kind: ``text`` is the message with the values that
        differ as "…" (those every cell shares are kept), and each cell's label is followed by
        its values in parentheses, each named by the word before it in the message
        (``"K=3 full (component(s) [1, 2]; N_k = [1.0, 2.01])"``). Where a differing value has
        no such word, the kind is listed message by message, each whole with the cells that
        raised it verbatim. A message that every listed cell raised verbatim is ``text``
        itself, with bare labels.
    """
    groups: dict[tuple[str, ...], dict[str, str]] = {}
    for cell, messages in by_cell.items():
        # a message that names its cell already ("K=3: chain 3 found ...", fit_bayes') is
        # named once, by the label this grouping puts in front
        for message in dict.fromkeys(m.removeprefix(f"{cell}: ") for m in messages):
            groups.setdefault(_split(message)[0], {})[cell] = message
    out = []
    for texts, cells in groups.items():
        labelled = (None if len(set(cells.values())) == 1 else
                    _labelled(texts, {cell: _split(m)[1] for cell, m in cells.items()}))
        if labelled is None:  # one message, or values that would read as bare numbers
            verbatim: dict[str, list[str]] = {}
            for cell, message in cells.items():
                verbatim.setdefault(message, []).append(cell)
            out += list(verbatim.items())
        else:
            template, shown = labelled
            out.append((template, [f"{cell} ({shown[cell]})" for cell in cells]))
    return out


def describe_group(text: str, cells: Sequence[str]) -> str:
    """One warning kind as a line: ``"K=2 full, K=3 diag: message"``."""
    return f"{', '.join(cells)}: {text}"


def run_cells(tasks: Sequence[Any], n_jobs: int | None, verbose: int,
              done: Callable[[Any], str], tell: Callable[[str], None] | None = None,
              counted: tuple[int, int] | None = None,
              costs: Sequence[float] | None = None) -> list[Any]:
    """Run joblib ``tasks`` (``delayed`` calls); the results in the order they finished.

    ``verbose`` > 0: one status line (:func:`bayesgmm.progress.say`, or ``tell``: e.g.
    :func:`bayesgmm.progress.detail` for many quick cells inside a step) as each task
    finishes, ``done(result)`` naming it; joblib's own messages (a backend banner and a line
    per batch) only above 10, at that level, since they say less and interleave with ours.
    ``counted``: (tasks already done, all tasks) when these are the rest of a larger sweep.
    ``costs``: the tasks' relative costs, in their order (dispatched so, most expensive
    first), from which each line says about how long is left.
    """
    from joblib import Parallel
    from joblib.parallel import get_active_backend

    from .. import progress

    # In the order they finish, so that each line comes when its task does; a backend without
    # result generators (multiprocessing) gives them all at the end.
    backend, _ = get_active_backend()
    unordered = getattr(backend, "supports_return_generator", False)
    out, start = [], time.perf_counter()
    with quiet_workers():
        results = Parallel(n_jobs=n_jobs, verbose=verbose if verbose > 10 else 0,
                           return_as="generator_unordered" if unordered else "list")(tasks)
        before, total = counted or (0, len(tasks))
        for result in results:
            out.append(result)
            if verbose > 0 and tell is not None:  # the step says the time
                tell(f"{done(result)} ({before + len(out)} of {total}"
                     f"{_time_left(costs, len(out), time.perf_counter() - start)})")
            elif verbose > 0:
                # the time since the first started: each line's alone would mislead with
                # several at once (QA: "(3 of 4, 13 s)" read as that model's time)
                progress.say(f"{done(result)} ({before + len(out)} of {total}; "
                             f"{time.perf_counter() - start:,.0f} s so far)")
    return out


# Workers take seconds to start (a process each, importing bayesgmm and loading the kernels:
# ~5-10 s on 2 cores), so a sweep whose cells would take less than this in one process runs
# there. QA: Old Faithful's default EM grid took 12.9 s with n_jobs=-1 against 5.6 s in one.
_WORKERS_PAY_FROM_S = 15.0


def _time_left(costs: Sequence[float] | None, done: int, elapsed: float) -> str:
    """"; about 2 min left" after ``done`` of the tasks of ``costs`` in ``elapsed`` seconds,
    taking the first ``done`` (the order they were dispatched in) as the ones finished; ""
    without costs or once all are done (QA158 M2: 24 cells over 4.6 min, "13 of 24" and no
    idea of the end)."""
    if not costs or done >= len(costs) or elapsed <= 0:
        return ""
    spent = float(sum(costs[:done]))
    if spent <= 0:
        return ""
    return f"; about {duration_words(elapsed * (float(sum(costs)) - spent) / spent)} left"


def run_sweep(tasks: Sequence[Any], costs: Sequence[float], n_jobs: int | None,
              verbose: int, done: Callable[[Any], str]) -> tuple[list[Any], int]:
    """Many quick cells (``tasks``, most expensive first, ``costs`` their relative costs) as one
    step that says where it is (:func:`bayesgmm.progress.detail`, with ``verbose``). With
    ``n_jobs=-1`` the first cell runs here, timed: the rest runs here too when its time,
    extrapolated by ``costs``, is below :data:`_WORKERS_PAY_FROM_S`, else on every core. The
    results (in any order) do not depend on where a cell ran (each has its own seed).
    Returns the results and how many workers ran them (1: this process)."""
    from joblib import effective_n_jobs

    from .. import progress

    # the cells' progress, not each cell's EM restarts (fit_em tells those to a step of its
    # caller's, e.g. the command line's em)
    tell = functools.partial(progress.detail, own=True)
    with progress.step(f"fitting {len(tasks)} cell(s) by EM", show=verbose > 0,
                       inner_details=False):
        if n_jobs != -1 or len(tasks) < 2:
            return (run_cells(tasks, n_jobs, verbose, done, tell=tell, costs=costs),
                    min(len(tasks), effective_n_jobs(n_jobs)))
        t0 = time.perf_counter()
        function, args, kwargs = tasks[0]
        first = function(*args, **kwargs)
        first_s = time.perf_counter() - t0
        if verbose > 0:
            tell(f"{done(first)} (1 of {len(tasks)}{_time_left(costs, 1, first_s)})")
        left = first_s * sum(costs[1:]) / costs[0]
        workers = -1 if left >= _WORKERS_PAY_FROM_S else 1
        return ([first, *run_cells(tasks[1:], workers, verbose, done, tell=tell,
                                   counted=(1, len(tasks)), costs=costs[1:])],
                min(len(tasks) - 1, effective_n_jobs(workers)))


@contextlib.contextmanager
def quiet_workers():
    """joblib's note that an idle worker was stopped (loky ends workers idle for 300 s, e.g.
    while the parent samples): nothing a user can act on, and it came once per sweep."""
    with ignored(message="A worker stopped while some jobs"):
        yield


def posterior_workers(n_jobs: int | None, n_fits: int, chains: int) -> int:
    """How many posterior fits run at once. ``n_jobs=-1`` (the default): as many as the
    cores (or a Dask cluster's threads) hold at ``chains`` each, at least one: each fit
    samples its chains in parallel already, and on 2 cores two fits at once, each with
    its chains one after another, took 2.5x as long as one after another (QA). Another
    ``n_jobs``: that many (joblib's reading of it), each fit's chains then one after another."""
    from joblib import effective_n_jobs

    if n_jobs == -1:
        return max(1, min(n_fits, effective_n_jobs(-1) // max(chains, 1)))
    return min(n_fits, effective_n_jobs(n_jobs))
