"""Where each chain starts: the places, and the start function nutpie calls per chain.

Where it sits: estimation layer, in :mod:`bayesgmm.backends`. Imports the native nutpie model
(:mod:`bayesgmm.backends.nutpie_model`, for how nutpie seeds each chain's call, behind its
version check); imported by :mod:`bayesgmm.backends.nutpie` (``compile_nutpie``'s
``chain_starts``) and :mod:`bayesgmm.sampling` (which chains started where).

Chains that all start at one point lower R-hat's power to see what they do not reach; started
at two solutions of the start search, chains that never meet fail R-hat. nutpie has no public
per-chain start and tells the start function only a seed, which is a pure function of the run's
seed and the chain (:func:`~bayesgmm.backends.nutpie_model.init_seed_chains`), so the chain is
read from it, in any order the threads call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .._warn import IN_PACKAGE, warn
from .nutpie_model import init_seed_chains, nutpie_checked

__all__ = ["ChainStarts", "chains_apart", "start_function", "startable_point"]


@dataclasses.dataclass(frozen=True, eq=False)
class ChainStarts:
    """Other places for some chains to start than ``compile_nutpie``'s ``start``.

    Chain ``c`` of the run seeded ``seed`` starts at ``start`` when ``c % (len(points) + 1)``
    is 0 (chain 0 always: the reference of the relabelling and of the re-anchoring checks)
    and exactly at ``points[c % (len(points) + 1) - 1]`` otherwise. nutpie tells the start
    function only a seed, so the chain is read from it (:func:`init_seed_chains`); ``asked``
    collects the chains that asked, so that a run can tell whether the mapping held.

    Parameters
    ----------
    points : tuple of dict
        Constrained values keyed by free-variable names (``initial_point``), one per place.
    seed : int
        The seed given to ``nutpie.sample`` for the run.
    chains : int
        The run's number of chains.
    asked : set of int
        Filled in by the start function: the chains whose start it gave.
    """

    points: tuple[Mapping[str, np.ndarray], ...]
    seed: int
    chains: int
    asked: set[int] = dataclasses.field(default_factory=set)

    def chains_at(self, place: int) -> list[int]:
        """The chains that start at ``points[place]``.

        Parameters
        ----------
        place : int
            An index into ``points``.

        Returns
        -------
        list of int
        """
        return [c for c in range(self.chains) if c % (len(self.points) + 1) == place + 1]


def start_function(start: Callable[[int | None], np.ndarray], others: Sequence[np.ndarray],
                   chain_starts: ChainStarts | None) -> Callable[[int | None], np.ndarray]:
    """nutpie's start function (seed -> a chain's start in the sampler's coordinates).

    Parameters
    ----------
    start : callable
        seed -> the start of a chain at the start (exact, jittered or whitened: the caller's).
    others : sequence of ndarray
        The other places, in the sampler's coordinates, as ``chain_starts.points``.
    chain_starts : ChainStarts or None
        Which chain starts where; None: every chain at ``start``.

    Returns
    -------
    callable
    """
    chain_of = (init_seed_chains(chain_starts.seed, chain_starts.chains)
                if chain_starts is not None and others else {})

    def initial_point(seed=None):
        chain = chain_of.get(seed)
        if chain is not None:
            chain_starts.asked.add(chain)  # set.add holds the GIL: any thread order
            place = chain % (len(others) + 1)
            if place:
                return np.array(others[place - 1])
        return start(seed)

    return initial_point


def chains_apart(chain_starts: ChainStarts) -> list[int]:
    """The chains that started at the first other place, as nutpie's calls of the start
    function showed: only those whose seeds were mapped to them (none on nutpie's public
    route; a nutpie that derives them otherwise now is said).

    Parameters
    ----------
    chain_starts : ChainStarts
        After the run.

    Returns
    -------
    list of int
    """
    # a chain whose seed was mapped started where its place is; the others at the start
    apart = [c for c in chain_starts.chains_at(0) if c in chain_starts.asked]
    if chain_starts.asked < set(range(chain_starts.chains)) and nutpie_checked():
        # (on nutpie's public route, one start for all, said already)
        warn("nutpie asked for some chains' starts with seeds that bayesgmm cannot map to "
             "chains (has nutpie changed how it derives them?): those chains started at the "
             f"start; at the second start: {apart or 'none'} (result.settings['start']"
             "['second_start'])", RuntimeWarning, skip_file_prefixes=IN_PACKAGE)
    return apart


# startable_point: the probe step for the curvature, and how far (in local posterior sds) a
# coordinate with a zero gradient is moved.
_CURVATURE_STEP = 1e-4
_START_NUDGE_SD = 0.1


def startable_point(flat: np.ndarray, density) -> np.ndarray:
    """``flat``, moved off an exact zero of the gradient where it sits on one.

    nuts-rs (nutpie's sampler) refuses an initial point where any component of the gradient is
    zero or not finite (its first diagonal mass matrix is 1 / |gradient|), and nutpie, retrying
    the same exact start, stops with "All initialization points failed". An exact EM start can
    be such a point on tiny data, by symmetry rather than by chance: two components with one
    point each have equal weights, so the weights' coordinate is stationary; with K=1 the mean
    of the standardised data is exactly 0 for a few rows. Each such coordinate is moved by a
    tenth of its local posterior sd (from the curvature, by a finite difference of the
    gradient; by the probe step where the curvature is not positive): far too little to change
    the labelling the chains start in.

    Parameters
    ----------
    flat : ndarray (n_dim,)
        The unconstrained start.
    density : callable
        theta (n_dim,) -> (log density, gradient (n_dim,)).

    Returns
    -------
    ndarray (n_dim,)
        ``flat`` itself when its gradient is finite and nonzero everywhere (or its density is
        not finite, which no small move mends), else the moved copy.
    """
    with np.errstate(all="ignore"):
        value, grad = density(flat)
        stuck = ~np.isfinite(grad) | (grad == 0)
        if not np.isfinite(value) or not stuck.any():
            return flat
        point = np.array(flat, dtype=np.float64)
        for i in np.flatnonzero(stuck):
            probe = np.array(flat, dtype=np.float64)
            probe[i] += _CURVATURE_STEP
            curvature = -density(probe)[1][i] / _CURVATURE_STEP
            point[i] += (_START_NUDGE_SD / np.sqrt(curvature)
                         if np.isfinite(curvature) and curvature > 0 else _CURVATURE_STEP)
    return point
