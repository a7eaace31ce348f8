"""Sampling until converged: how many draws a fit takes when ``draws="auto"``.

The chains are started once, for at most ``max_draws`` draws after warm-up, and inspected at
checkpoints (``min_draws`` first). At each checkpoint the first ``n`` draws of every chain are
relabelled and checked with the verdict's own mixing checks (R-hat and bulk/tail ESS of the
relabelled parameters, rank uniformity, the label-invariant quantities, chains in agreement);
when they hold, sampling stops and exactly those ``n`` draws are kept. Otherwise the next
checkpoint is the number of draws that the measured ESS rate says is needed (with a margin), at
least ``growth`` times the current one, unless the evidence says more draws of these chains
cannot reach the targets within the budget (:func:`futile`: R-hat far above the limit and the
ESS rate asking for far more draws than ``max_draws`` leaves): then the run stops there
(``stopped_by="futile"``, the reason recorded). More draws cannot cure divergences either:
once the draws hold more than the verdict allows (``max_divergences``), the run is checked
where they passed that number (rounded up to a multiple of 100 draws, not waiting for the
next checkpoint) and, unless that check passes, ends there, futile too. A caller that would
rather start again with smaller steps asks for the run to end at its first divergence
(``stop_on_divergence``: the earliest divergent draw of any chain, so that point too depends
only on the seed). The rank test, the
costliest check, runs only at a checkpoint that passed every other one (the caller's check
decides that).

Why checkpoints at fixed draw counts and not "whatever has been drawn when the check runs": a
chain's n-th draw depends only on the seed, so deciding on exactly the first ``n`` draws makes
the result reproducible (the same seed gives the same draws and the same stopping point) even
though the checks run while the chains go on. Only a time budget (``max_time``) can make the
stopping point depend on the machine's speed; the run records when that happened.

Stopping when convergence diagnostics pass (a rule that looks at mixing, never at parameter
values) is an optional-stopping rule of a benign kind; ``benchmarks/sbc.py --draws auto`` checks
that it leaves the posterior calibrated.

Where it sits: the estimation layer, with the samplers (it imports nothing from the model or
the results; :mod:`bayesgmm.settings` for the defaults): the caller gives the convergence check as
a function of the posterior draws.
(Over 500 lines: the rules that decide where to look next and when to stop, beside the nutpie
driver they steer, whose waits, pauses and divergence stops are most of it.)
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from ._validation import check_int
from ._warn import ignored
from .formatting import duration_words
from .settings import DiagnosticThresholds, SamplerSettings

_THRESHOLDS, _SAMPLER = DiagnosticThresholds(), SamplerSettings()

__all__ = ["HEARTBEAT_S", "AdaptiveDraws", "Checkpoint", "DrawsRun", "futile",
           "next_checkpoint", "sample_nutpie_until"]


@dataclass(frozen=True)
class AdaptiveDraws:
    """When to stop drawing: the targets of ``draws="auto"`` and its budget.

    Attributes
    ----------
    rhat_max : float
        Largest acceptable rank-normalised split R-hat of any relabelled parameter.
    ess_min : float
        Smallest acceptable bulk and tail ESS (all chains together) of any relabelled parameter.
    min_draws : int
        Draws per chain at the first checkpoint (also the least a run keeps).
    max_draws : int
        Draws per chain at most; the run stops there, converged or not.
    max_time : float or None
        Seconds of sampling (warm-up included) after which the run stops at the draws every chain
        has reached (at least one); ``None``: no time limit. A warm-up still running then has
        :data:`WARMUP_GRACE_S` (10 s, or 10% of ``max_time`` if more) to end, else the run
        stops with a ValueError (no posterior draw to keep).
    growth : float
        Each checkpoint is at least this many times the previous one.
    max_divergences : int or None
        The divergent transitions (after warm-up, all chains) that the verdict allows: a
        failed checkpoint whose draws hold more ends the run (:func:`futile`), since more
        draws cannot remove a divergence and the verdict can then never pass. None:
        divergences never end a run here. A run with ``stop_on_divergence`` ends (for a
        retry) once they exceed this number, or at the first one when it is None.
    """

    # the defaults stated once, where the settings are (review: max_draws was 20,000 here,
    # 10,000 there)
    rhat_max: float = _THRESHOLDS.rhat_max
    ess_min: float = _THRESHOLDS.ess_min
    min_draws: int = 1000
    max_draws: int = _SAMPLER.max_draws
    max_time: float | None = None
    growth: float = 1.5
    max_divergences: int | None = None

    def __post_init__(self) -> None:
        if not self.rhat_max > 1:
            raise ValueError(f"rhat_max must be > 1; got {self.rhat_max!r}")
        if not self.ess_min > 0:
            raise ValueError(f"ess_min must be > 0; got {self.ess_min!r}")
        for name in ("min_draws", "max_draws"):
            value = getattr(self, name)
            check_int(value, name)
        if self.max_draws < self.min_draws:
            raise ValueError(f"max_draws ({self.max_draws}) must be >= min_draws "
                             f"({self.min_draws})")
        if self.max_time is not None and not self.max_time > 0:
            raise ValueError(f"max_time must be > 0 seconds or None; got {self.max_time!r}")
        if not self.growth > 1:
            raise ValueError(f"growth must be > 1; got {self.growth!r}")
        if self.max_divergences is not None:
            check_int(self.max_divergences, "max_divergences", 0)


# The checks whose values a Checkpoint states (diagnostics.diagnose's names).
_STATED = ("max R-hat", "min bulk ESS", "min tail ESS")


@dataclass(frozen=True)
class Checkpoint:
    """One look at the chains: the first ``draws`` draws of each, and what the checks said
    (``failed``: the names of the checks that failed, e.g. the rank test)."""

    draws: int
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    converged: bool
    elapsed_s: float = field(compare=False)  # wall time varies; the rest is reproducible
    failed: tuple[str, ...] = ()  # empty in records saved before the checks were listed
    # divergent transitions among the draws checked (None: not counted, as in records saved
    # before they were)
    divergences: int | None = None

    @property
    def other_failed(self) -> tuple[str, ...]:
        """The failed checks beyond the R-hat and ESS that the checkpoint states as numbers."""
        return tuple(name for name in self.failed if name not in _STATED)

    def to_dict(self) -> dict:
        out = {**vars(self), "failed": list(self.failed)}
        if self.divergences is None:
            del out["divergences"]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Checkpoint:
        return cls(**{**data, "failed": tuple(data.get("failed", ()))})


@dataclass(frozen=True)
class DrawsRun:
    """How an adaptive run ended.

    Attributes
    ----------
    draws : int
        Draws per chain kept.
    stopped_by : {"converged", "max_draws", "max_time", "abandoned", "diverged", "futile"}
    checkpoints : tuple of Checkpoint
    reason : str
        Why a ``"futile"`` run stopped (:func:`futile`, or a divergence that came with a
        collapsed component, which ``fit_bayes`` does not retry); empty otherwise (and not in
        the record).
    warmup_s : float or None
        Seconds from the start until every chain had finished its warm-up (None: not
        measured, or a run that stopped before; not in the record then).
    """

    draws: int
    stopped_by: str
    checkpoints: tuple[Checkpoint, ...]
    reason: str = ""
    warmup_s: float | None = field(default=None, compare=False)  # the machine's, not the seed's

    def to_dict(self) -> dict:
        out = {"draws": self.draws, "stopped_by": self.stopped_by,
               "checkpoints": [c.to_dict() for c in self.checkpoints]}
        if self.reason:
            out["reason"] = self.reason
        if self.warmup_s is not None:
            out["warmup_s"] = self.warmup_s
        return out

    @classmethod
    def from_dict(cls, data: dict) -> DrawsRun:
        return cls(draws=int(data["draws"]), stopped_by=str(data["stopped_by"]),
                   checkpoints=tuple(Checkpoint.from_dict(c) for c in data["checkpoints"]),
                   reason=str(data.get("reason", "")),
                   warmup_s=None if data.get("warmup_s") is None else float(data["warmup_s"]))


# The convergence check: the first n draws of the posterior -> (max R-hat, min bulk ESS, min
# tail ESS) of the quantities that must converge, optionally followed by the names of the
# checks that failed (e.g. rank uniformity); any such name means "not converged".
ConvergenceCheck = Callable[[xr.Dataset], tuple]

# Checkpoints fall on multiples of this many draws (readable numbers in the record).
_ROUND = 100
# How often nutpie reports the chains' progress (ms): a small model draws ~1,000 draws per chain
# in 0.1 s, and a checkpoint is noticed only at a report, so a slower rate lets the chains run
# far past it (draws a converged run throws away). With its progress bar shown nutpie redraws it
# at the same rate (in a notebook, an HTML update each time): then nutpie's own 100 ms.
_PROGRESS_MS = 20
_PROGRESS_BAR_MS = 100
# Margin on the ESS-rate prediction: ESS per draw measured on short chains is noisy.
_MARGIN = 1.2


def next_checkpoint(draws: int, point: Checkpoint, target: AdaptiveDraws) -> int:
    """The next number of draws per chain to look at, after ``point`` failed.

    ESS grows about linearly with the number of draws once chains have mixed, so the draws
    needed for ``ess_min`` are predicted from the measured rate (with a 20% margin); R-hat
    failures with enough ESS (chains not yet agreeing) get the geometric ``growth`` step.
    """
    needed = draws * target.growth
    ess = min(point.min_ess_bulk, point.min_ess_tail)
    if np.isfinite(ess) and ess > 0:
        needed = max(needed, draws * _MARGIN * target.ess_min / ess)
    # Never more than 4x at once: a tiny ESS on short chains is a poor predictor.
    needed = min(needed, 4 * draws, target.max_draws)
    return int(min(target.max_draws, _ROUND * math.ceil(needed / _ROUND)))


# When sampling on is futile (:func:`futile`): R-hat at least this (the chains' means lie
# more than one within-chain sd apart: R-hat^2 - 1 ~ between-chain / within-chain variance),
# and the ESS rate asking for more than this many times the draws the budget has left.
_FAR_RHAT = 1.5
_FUTILE_FACTOR = 4.0
# The different-mode check's name (diagnostics.diagnose's), when the caller's check lists it.
_MODES = "max chain mode shift (sd)"


def futile(draws: int, point: Checkpoint, target: AdaptiveDraws) -> str:
    """Why drawing on from ``point`` (a failed checkpoint at ``draws`` per chain) cannot reach
    ``target`` within ``max_draws``; empty when it may.

    The rule: the chains disagree far beyond the limit (max R-hat >= 1.5) *and* the measured
    ESS rate (ESS grows about linearly in the draws once chains mix, and no faster) asks for
    more than 4 times the draws the budget has left. Then the chains sit apart (in different
    modes, or a component degenerates) and the whole budget would give about a quarter of
    the ESS target at best: more of the same chains is wasted time, and the cause needs
    fixing (a QA fit drew on to 4,000, then 10,000 draws at R-hat 4.5 and 4.4: 6 minutes).
    Chains that agree (R-hat near 1) never stop here, however far the ESS target is: their
    draws still sharpen the estimates, up to ``max_draws``. The factor 4 leaves room for the
    ESS rate of short chains, which is rough (the same margin :func:`next_checkpoint` caps a
    step at).

    Also when the checkpoint's draws hold more divergent transitions than the verdict allows
    (``target.max_divergences``): a divergence stays in the draws whatever follows it, so
    the verdict cannot pass, and drawing on (an unbalanced D=3, K=4 fit, retried, diverged by
    draw 3,200 and drew on to 10,000 draws per chain: 254 s in all) only refines estimates the
    verdict calls unreliable; the cause (a component near a small weight or variance, mostly)
    needs fixing.
    """
    if (target.max_divergences is not None and point.divergences is not None
            and point.divergences > target.max_divergences):
        n = point.divergences
        return (f"{n:,} divergent transition{'s' if n != 1 else ''} in the first {draws:,} "
                f"draws per chain, more than the {target.max_divergences} the verdict allows: "
                "more draws cannot remove a divergence, so the verdict cannot pass however "
                "long the chains run")
    left = target.max_draws - draws
    ess = min(point.min_ess_bulk, point.min_ess_tail)
    if not (left > 0 and point.max_rhat >= _FAR_RHAT and np.isfinite(ess) and ess > 0):
        return ""
    needed = draws * target.ess_min / ess  # per chain, at the measured rate
    if needed - draws <= _FUTILE_FACTOR * left:
        return ""
    modes = "; chains sit in different modes" if _MODES in point.failed else ""
    return (f"more draws of these chains cannot reach the targets within max_draws="
            f"{target.max_draws}: R-hat {point.max_rhat:.3g} is far above {target.rhat_max:g}"
            f"{modes}, and at the measured rate (ESS {ess:.0f} from {draws} draws per chain) "
            f"ESS {target.ess_min:g} needs about {_ROUND * math.ceil(needed / _ROUND):,} draws "
            f"per chain, over {_FUTILE_FACTOR:g} times the {left:,} the budget has left")


def _finished(is_finished: Callable[[], bool]) -> bool:
    # nutpie answers TimeoutError when its sampler lock is busy: that means "still running".
    try:
        return bool(is_finished())
    except TimeoutError:
        return False


# Seconds between ``waiting`` status lines: a log (CI, a pipe, a notebook) sees the chains
# move at least this often (a 1e5-row fit had 53 s without a line).
HEARTBEAT_S = 10.0
# A run out of time before its warm-up has ended waits this long past max_time (at least; 10%
# of max_time for longer budgets) for a first draw, then stops with an error: a warm-up that
# crawls (an overfitted K took 300 s for 130 of 1,000 tuning draws) would otherwise hold the
# run far past its budget, silently.
WARMUP_GRACE_S = 10.0


class _Progress:
    """Draws finished per chain, updated by nutpie's progress callback (a background thread),
    and whether a chain has reported a divergence since warm-up ended (a hint: the trace says
    where)."""

    def __init__(self, chains: int, tune: int):
        self._tune = tune
        self._t0 = time.monotonic()
        self.warmup_s: float | None = None  # when the slowest chain ended its warm-up
        self._done = np.zeros(chains, dtype=np.int64)
        self._finished = np.zeros(chains, dtype=np.int64)  # warm-up included
        self._divergences = np.zeros(chains, dtype=np.int64)  # as last reported
        self._diverged = False
        self._cond = threading.Condition()

    def update(self, progress) -> None:
        with self._cond:
            for i, chain in enumerate(progress):
                self._finished[i] = int(chain.finished_draws)
                done = int(chain.finished_draws) - self._tune
                self._done[i] = max(0, done)
                # A new divergence after warm-up raises the hint once (warm-up divergences,
                # and any counted after the last warm-up report, the trace then tells apart).
                divergences = int(getattr(chain, "divergences", 0))
                if done > 0 and divergences > self._divergences[i]:
                    self._diverged = True
                self._divergences[i] = divergences
            if self.warmup_s is None and self._finished.min() >= self._tune:
                self.warmup_s = time.monotonic() - self._t0
            self._cond.notify_all()

    def take_divergence_hint(self) -> bool:
        """Whether a chain reported a divergence after warm-up since the last call."""
        with self._cond:
            hint, self._diverged = self._diverged, False
            return hint

    def wait_for(self, draws: int, deadline: float | None, is_finished: Callable[[], bool],
                 divergence: bool = False, beat: Callable[[], None] | None = None) -> str:
        """Block until every chain has ``draws`` draws ("reached"), the deadline passes
        ("late") or, with ``divergence``, a chain reports a divergence after warm-up
        ("diverged"; never once the deadline has passed: then the run keeps what it has).

        ``is_finished`` is called without holding the lock: nutpie's sampler takes its own lock
        around the callback, so asking it while holding ours could deadlock; so is ``beat``
        (a status line now and then), at every wake-up.
        """
        while True:
            with self._cond:
                if int(self._done.min()) >= draws:
                    return "reached"
                timeout = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
                if timeout <= 0:
                    return "late"
                if divergence and self._diverged:
                    return "diverged"
                self._cond.wait(timeout)
                if int(self._done.min()) >= draws:
                    return "reached"
            if _finished(is_finished):
                return "reached"
            if beat is not None:
                beat()

    def reached(self) -> int:
        with self._cond:
            return int(self._done.min())

    def finished(self) -> int:
        """Draws the slowest chain has finished, warm-up included."""
        with self._cond:
            return int(self._finished.min())


# Seconds per tuning draw above which the warm-up's pace, not its length, is the problem (a
# well-posed fit's tuning draws take milliseconds at 1e5 rows).
_SLOW_TUNING_DRAW_S = 0.1


def _check_warmup_grace(finished: int, tune: int, t0: float, max_time: float) -> None:
    """Raise once the warm-up has outlived ``max_time`` by its grace (:data:`WARMUP_GRACE_S`):
    there is no posterior draw to keep."""
    elapsed = time.monotonic() - t0
    if elapsed <= max_time + max(WARMUP_GRACE_S, 0.1 * max_time):
        return
    pace = ""
    if finished:
        per_draw = elapsed / finished
        pace = f" (it needs ~{duration_words((tune - finished) * per_draw)} more at this pace"
        if per_draw > _SLOW_TUNING_DRAW_S:  # a hard posterior, not just a long warm-up
            pace += (f"; {per_draw:.1f} s a tuning draw, which often means more components "
                     "than the data support")
        pace += ")"
    raise ValueError(
        f"max_time={max_time:g} s ran out in the warm-up: after {elapsed:.0f} s the slowest "
        f"chain had {finished:,} of its {tune:,} tuning draws{pace}, so there is no posterior "
        "draw to keep; allow more time (max_time, --max-time) or fewer tuning draws (tune, "
        "--tune)")


def _first(tree: xr.DataTree, draws: int) -> dict[str, xr.Dataset] | None:
    """The posterior and sample_stats groups cut to each chain's first ``draws`` draws.

    ``None`` if some chain has not stored ``draws`` draws yet (nutpie pads with NaN).
    """
    if "posterior" not in tree or tree["posterior"].sizes.get("draw", 0) < draws:
        return None
    out = {}
    for group in ("posterior", "sample_stats"):
        ds = tree[group].to_dataset().isel(draw=slice(0, draws))
        out[group] = ds.assign_coords(draw=np.arange(draws))
    last = out["posterior"].isel(draw=-1)
    if any(bool(np.isnan(last[v].to_numpy()).any()) for v in last.data_vars):
        return None
    return out


def _inspect(sampler) -> xr.DataTree:
    """The draws a running nutpie sampler has stored. While a chain has fewer draws than there
    are chains ArviZ's naming check warns "Found chain dimension to be longer than draw
    dimension" on every look (QA: 14 times in a run stopped by max_time): the names are
    nutpie's own and right, so that warning is not the user's."""
    with ignored(message="Found chain dimension to be longer than"):
        return sampler.inspect()


def _cut(groups: dict[str, xr.Dataset], draws: int) -> xr.DataTree:
    """The groups of :func:`_first`, cut further to each chain's first ``draws`` draws."""
    return xr.DataTree.from_dict({name: ds.isel(draw=slice(0, draws))
                                  for name, ds in groups.items()})


def _divergence_past(stats: xr.Dataset, allowed: int = 0) -> int | None:
    """The draw index at which the divergent transitions after warm-up, counted over every
    chain's draws up to it, first exceed ``allowed`` (0: the earliest divergent draw of any
    chain); None if they never do. Exact once every chain has stored that draw."""
    diverging = np.asarray(stats["diverging"].to_numpy(), dtype=bool)  # (chain, draw)
    past = np.flatnonzero(np.cumsum(diverging.sum(axis=0)) > allowed)
    return int(past[0]) if past.size else None


def _look(check: ConvergenceCheck, groups: dict[str, xr.Dataset], draws: int,
          target: AdaptiveDraws, t0: float) -> Checkpoint:
    """Run ``check`` on the first ``draws`` draws and judge them against ``target``."""
    rhat, bulk, tail, *failed = check(groups["posterior"])
    failed = tuple(str(name) for name in (failed[0] if failed else ()))
    rhat, bulk, tail = float(rhat), float(bulk), float(tail)
    converged = (rhat < target.rhat_max and min(bulk, tail) >= target.ess_min and not failed)
    diverging = groups["sample_stats"]["diverging"].to_numpy()[:, :draws]
    return Checkpoint(draws, rhat, bulk, tail, converged, time.monotonic() - t0,
                      failed=failed, divergences=int(np.count_nonzero(diverging)))


def sample_nutpie_until(
    compiled,
    check: ConvergenceCheck,
    target: AdaptiveDraws,
    *,
    tune: int,
    chains: int,
    seed: int | None,
    progressbar: bool,
    target_accept: float,
    report: Callable[[Checkpoint, int | None], None] | None = None,
    abandon: Callable[[xr.DataTree], bool] | None = None,
    stop_on_divergence: bool = False,
    waiting: Callable[[int, float, int], None] | None = None,
    waiting_every: float | None = None,
    **sample_kwargs,
) -> tuple[xr.DataTree, DrawsRun]:
    """Sample a compiled nutpie model until ``check`` passes or the budget runs out.

    Parameters
    ----------
    compiled : nutpie compiled model
    check : callable
        ``check(posterior)`` with ``posterior`` the first ``n`` draws of every chain (an
        ``xarray.Dataset`` with dims (chain, draw, ...)) returns (max R-hat, min bulk ESS,
        min tail ESS) of the quantities that must converge (e.g. the relabelled parameters),
        optionally followed by a sequence of the names of the checks that failed.
    target : AdaptiveDraws
    tune, chains, seed, progressbar, target_accept
        As for ``nutpie.sample``.
    report : callable, optional
        ``report(checkpoint, next_draws)`` after every check (``next_draws`` None when the run
        stops there): the progress a user sees between nutpie's bars.
    abandon : callable, optional
        ``abandon(draws)`` at every checkpoint, before the check, with the draws so far (the
        posterior and sample_stats groups): True ends the run there, ``stopped_by="abandoned"``
        (e.g. a chain found a better mode than the start, so the caller starts again from it
        rather than sample on from a poor start).
    stop_on_divergence : bool, default False
        End the run at the first divergent transition after warm-up that falls before the
        run would stop (``stopped_by="diverged"``, the draws cut just after it), instead of
        drawing on to the next checkpoint: for a caller that starts again with smaller steps.
        A chain's report of a divergence wakes the run at once; the stopping point is the
        earliest divergent draw of any chain, so it does not depend on the machine's speed.
        With ``target.max_divergences`` = k > 0, the draw at which the divergences of all
        chains first exceed k instead (the verdict allows k: no reason to start again).
        Once ``max_time`` has passed, the run stops by time instead (it keeps its draws).
    waiting : callable, optional
        ``waiting(finished, elapsed_s, next_check)`` every ``waiting_every`` seconds while the
        chains run (``finished``: the slowest chain's draws, warm-up included; ``next_check``:
        the draws per chain, warm-up excluded, at which the next check is due): a status line
        or a bar of the caller's where nutpie's progress bar does not show.
    waiting_every : float, optional
        Seconds between ``waiting`` calls (at most every 0.2 s: the wait's own wake-ups);
        default ``HEARTBEAT_S``.

    Returns
    -------
    idata : xarray.DataTree
        ``posterior`` and ``sample_stats`` groups, each chain cut to the same number of draws.
    run : DrawsRun
    """
    import nutpie

    progress = _Progress(chains, tune)
    t0 = time.monotonic()
    deadline = None if target.max_time is None else t0 + target.max_time
    # The warm-up draws are not kept: every look at the trace converts what it holds (a
    # 3,000-draw warm-up of a retried run took most of each look's 0.16 s on galaxies K=4).
    sample_kwargs.setdefault("save_warmup", False)
    # Every chain gets a thread (cores=chains): checkpoints need all chains to advance together;
    # with fewer threads the last chains would start only when the first ones had finished
    # max_draws. The kernel is serial inside the sampler, so this only time-slices the cores.
    sampler = nutpie.sample(
        compiled, draws=target.max_draws, tune=tune, chains=chains, cores=chains, seed=seed,
        progress_bar=progressbar, target_accept=target_accept, blocking=False,
        progress_callback=progress.update,
        progress_rate=_PROGRESS_BAR_MS if progressbar else _PROGRESS_MS, **sample_kwargs,
    )
    beat = None
    if waiting is not None:
        waiting_every = HEARTBEAT_S if waiting_every is None else waiting_every
        due = [t0 + waiting_every]

        def beat() -> None:
            now = time.monotonic()
            if now >= due[0]:
                due[0] = now + waiting_every
                waiting(progress.finished(), now - t0, draws)

    checkpoints: list[Checkpoint] = []
    draws = target.min_draws
    # With no core to spare, the chains pause while a checkpoint is checked: else the check
    # (relabelling, ESS, rank tests: seconds) runs at a fraction of a core while the chains
    # draw past the checkpoint, draws a converged run then throws away (measured on 2 cores,
    # iris K=3, 4 chains: the checkpoint added 16.5 s to 5 s of sampling).
    pause = (os.cpu_count() or 1) <= chains
    # Divergences end the run before its next checkpoint: with stop_on_divergence just after
    # the earliest divergent draw (``stopped_by="diverged"``); with target.max_divergences
    # where they first exceed it, rounded up to a checkpoint's multiple (and at least
    # min_draws), which is then checked as a checkpoint is (and found futile, unless it
    # converged): sampling on to the next checkpoint would be time spent on a verdict the
    # divergences have already decided.
    allowed = (target.max_divergences or 0) if stop_on_divergence else target.max_divergences

    def stop_point(at: int) -> int:
        if stop_on_divergence:
            return at + 1
        return max(target.min_draws, _ROUND * math.ceil((at + 1) / _ROUND))

    stop_at: int | None = None  # the draws per chain at which divergences end the run
    seen_at: int | None = None  # where they were located so far (any checkpoint)
    watch = allowed is not None  # wake on a chain's report of a divergence
    out_of_time = False
    try:
        while True:
            reason = progress.wait_for(draws if stop_at is None else stop_at, deadline,
                                       lambda: sampler.is_finished, divergence=watch,
                                       beat=beat)
            if reason == "diverged":
                # Locate it in the chains' stored draws. A divergence past the checkpoint
                # does not end a run that may converge there: stop watching until then.
                progress.take_divergence_hint()
                at = _divergence_past(_inspect(sampler)["sample_stats"], allowed)
                if at is not None:
                    seen_at, watch = at, False
                    stop_at = stop_point(at) if stop_point(at) <= draws else None
                continue
            if pause:
                # Pause before reading the trace: on a small model the chains would otherwise
                # draw thousands of draws past the checkpoint while it is read and checked.
                sampler.pause()
            # The draws to look at: the next checkpoint's, or fewer where divergences end the
            # run; once late, always late: another pass of this loop (when the stored trace
            # lags the progress reports) still stops by time with what the chains have.
            stopped_by, look_at = None, draws if stop_at is None else stop_at
            out_of_time = out_of_time or reason == "late"
            if out_of_time:
                # Out of time: keep what every chain has (at least one draw), and say so.
                look_at = max(1, progress.reached())
                stopped_by = "max_time"
            groups = _first(_inspect(sampler), look_at)
            if groups is None:
                # The callback runs ahead of the stored trace, or the sampler stopped early.
                if _finished(lambda: sampler.is_finished):
                    sampler.wait()  # raises nutpie's error, if it failed
                    raise RuntimeError(f"nutpie finished before every chain had {look_at} "
                                       "draws")
                if out_of_time and progress.finished() < tune:
                    _check_warmup_grace(progress.finished(), tune, t0, target.max_time)
                if beat is not None:
                    beat()
                if pause:
                    sampler.resume()
                time.sleep(0.1)
                continue
            # Never a later window: the chains start at the EM mode and are tuned before the
            # first draw, so an early excursion is the posterior (e.g. a minor mode one chain
            # visited), not a start to discard; dropping it could turn a true "not mixed" into OK.
            # Where the divergences pass the allowance among these draws is exact (every chain
            # has them: a slower chain may have diverged before the one that reported, or no
            # report came in time), so the stopping point depends only on the seed; not once
            # the time budget is spent: then the run keeps what it has, and the verdict
            # reports the divergences.
            at = (_divergence_past(groups["sample_stats"], allowed)
                  if allowed is not None and stopped_by is None else None)
            if at is not None and stop_point(at) <= look_at:
                if stop_on_divergence:
                    return _cut(groups, at + 1), DrawsRun(at + 1, "diverged",
                                                          tuple(checkpoints))
                look_at = stop_point(at)  # checked there (futile, unless it converged)
                groups = {name: ds.isel(draw=slice(0, look_at)) for name, ds in groups.items()}
            elif at is None and stopped_by is None and stop_at is not None:
                # no divergence by stop_at after all: a padded draw in the trace misled
                stop_at, seen_at, watch = None, None, True
                if pause:
                    sampler.resume()
                continue
            draws, stop_at = look_at, None
            if abandon is not None and abandon(xr.DataTree.from_dict(groups)):
                return xr.DataTree.from_dict(groups), DrawsRun(draws, "abandoned",
                                                               tuple(checkpoints))
            point = _look(check, groups, draws, target, t0)
            checkpoints.append(point)
            converged = point.converged
            why = ""
            if converged:
                stopped_by = "converged"
            elif stopped_by is None and draws >= target.max_draws:
                stopped_by = "max_draws"
            elif stopped_by is None and (why := futile(draws, point, target)):
                stopped_by = "futile"
            if stopped_by is not None:
                if report is not None:
                    report(point, None)
                return xr.DataTree.from_dict(groups), DrawsRun(
                    draws, stopped_by, tuple(checkpoints), reason=why,
                    warmup_s=progress.warmup_s)
            draws = next_checkpoint(draws, point, target)
            watch = allowed is not None and seen_at is None
            if seen_at is not None and stop_point(seen_at) <= draws:  # located past the last
                stop_at = stop_point(seen_at)                           # checkpoint
            if report is not None:
                report(point, draws)
            if pause:
                sampler.resume()
    finally:
        if not _finished(lambda: sampler.is_finished):
            sampler.cancel()
