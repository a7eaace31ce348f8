"""A sweep's cells restarted from their neighbours' fits: K + 1's with two components merged,
K - 1's with one split.

EM restarts from k-means++ and random data points can all miss a K's optimum that the K + 1
fit of the same sweep has found, plus one component split in two (QA: six well-separated
clusters, N = 20,000, D = 4: every one of the ten restarts of the K = 6 full cell ended 3,100
log-likelihood units below the optimum, which the K = 7 fit held with one cluster split; BIC
and ICL then chose K = 7 and K = 5). Merging K + 1's two closest components (moment-matched
weight and mean) or dropping its lightest one gives K a start in that optimum's basin.

A cell is restarted so only where its log-likelihood gain over K - 1 is below K + 1's gain
over it (the maximised log-likelihood's gains shrink with K; a larger gain after a smaller one
is the mark of a local optimum at K), and the restart replaces the cell only when it reaches a
higher objective (log posterior under a prior, else log-likelihood). Not with known labels or
a noise component (their components have a fixed meaning the merge would break).

Where every cell from some K on holds two clusters under one component, no merge reaches the
optimum and the gains do not flag a cell (six clusters, seed 1: K=5..8 all so, BIC chose
K=5, 180 units below K=6's optimum). So the cell above each covariance type's BIC choice is
also restarted from the choice's fit with one of its widest components split along its
longest axis: :data:`MAX_SPLITS` EM runs per type; an improvement is judged like the others,
and may make another cell a candidate.

Where it sits: the selection layer, below :mod:`bayesgmm.selection.criteria` (which calls
it); imports :mod:`bayesgmm.em`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..em import EMResult

__all__ = ["NOTED_GAIN", "merged_starts", "objective", "restart_candidates",
           "restart_from_neighbours", "restart_reason", "split_starts"]

# Merges tried per restarted cell at most (the closest pairs first): each is one EM run from a
# start near an optimum, a few iterations.
MAX_MERGES = 10
# Components split per restart of the cell above a type's BIC choice (the largest first).
MAX_SPLITS = 3
# Log-likelihood units by which K + 1's gain must exceed K's before K is restarted (EM's
# own precision; below it the gains are the same).
_GAIN_SLACK = 1.0
# A restart that improved its cell by less than this (EM's own convergence is ~1e-3 a point)
# is kept without a note: it changes no criterion's choice and reads as noise.
NOTED_GAIN = 0.1


def merged_starts(fit: EMResult) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Starts for ``fit.n_components - 1`` components, each (how it was made, ``weights`` and
    ``means``; EM takes the covariances from the data around them): each of the
    :data:`MAX_MERGES` pairs of components closest in Mahalanobis distance (under their
    average covariance) merged, closest first, then the lightest component dropped. (The
    closest pair alone missed the optimum in 4 of 30 sweeps of six clusters: EM's extra
    component need not sit beside the one it split from.)"""
    w, m, C = fit.weights / fit.weights.sum(), fit.means, fit.full_covariances
    K = len(w)
    pairs = []
    for i in range(K):
        for j in range(i + 1, K):
            d = m[i] - m[j]
            pairs.append((float(d @ np.linalg.solve(0.5 * (C[i] + C[j]), d)), i, j))
    starts = []
    for _, i, j in sorted(pairs)[:MAX_MERGES]:
        rest = [k for k in range(K) if k not in (i, j)]
        merged_w = w[i] + w[j]
        merged_m = (w[i] * m[i] + w[j] * m[j]) / merged_w
        starts.append(("two components merged", {"weights": np.r_[w[rest], merged_w],
                                                  "means": np.vstack([m[rest], merged_m])}))
    keep = np.delete(np.arange(K), np.argmin(w))
    starts.append(("its lightest component dropped",
                   {"weights": w[keep] / w[keep].sum(), "means": m[keep]}))
    return starts


def split_starts(fit: EMResult) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Starts for ``fit.n_components + 1`` components: each of the :data:`MAX_SPLITS`
    components of the largest volume (det of the covariance; two clusters under one component
    make it long) split in two along its longest axis, the halves one sd either side of its
    mean with half its weight each."""
    w, m, C = fit.weights / fit.weights.sum(), fit.means, fit.full_covariances
    starts = []
    for k in np.argsort([-np.linalg.slogdet(c)[1] for c in C])[:MAX_SPLITS]:
        values, vectors = np.linalg.eigh(C[k])
        step = np.sqrt(max(values[-1], 0.0)) * vectors[:, -1]
        rest = np.delete(np.arange(len(w)), k)
        starts.append((f"its component {k} split in two",
                       {"weights": np.r_[w[rest], w[k] / 2, w[k] / 2],
                        "means": np.vstack([m[rest], m[k] - step, m[k] + step])}))
    return starts


def restart_candidates(table: Any) -> list[tuple[int, str]]:
    """The cells (K, covariance type) to restart from K + 1's fit, largest K first (a better
    K then helps K - 1): fitted cells with a fitted K + 1 whose gain over K exceeds K's gain
    over K - 1 (or K is the smallest fitted, K >= 2)."""
    fitted = table[table["error"] == ""]
    cells = []
    for ct, rows in fitted.groupby("covariance_type", sort=False):
        ll = dict(zip(rows["n_components"].astype(int), rows["log_likelihood"], strict=True))
        for k in sorted(ll, reverse=True):
            if k + 1 not in ll or k < 2:  # K=1's optimum is EM's first step: no basin to miss
                continue
            gain_above = ll[k + 1] - ll[k]
            gain_below = ll[k] - ll[k - 1] if k - 1 in ll else -np.inf
            if gain_above > max(gain_below, 0.0) + _GAIN_SLACK:
                cells.append((k, ct))
    return sorted(cells, key=lambda cell: -cell[0])


def restart_reason(k: int, source: int, covariance_type: str) -> str:
    """Why cell K is restarted from K = ``source``'s fit of ``covariance_type``, for its
    status line (QA160 L9: "restarting EM from K=3's fit" said no reason)."""
    if source > k:
        return (f"two of its components merged: the log-likelihood gained more from K={k} to "
                f"K={source} than up to K={k}, the mark of an optimum missed")
    return (f"one of its components split: K={source} is BIC's choice among the "
            f"{covariance_type} fits, and a component may hold two clusters")


def objective(fit: EMResult) -> float:
    """What EM maximised: the log posterior under a prior, else the log-likelihood."""
    return float(fit.log_posterior if fit.prior is not None else fit.log_likelihood)


def restart_from_neighbours(fits: dict, table: Any,
                            refit: Callable[[int, str, dict, int], EMResult | None]
                            ) -> list[tuple[int, str, EMResult, float, str, int]]:
    """Restart :func:`restart_candidates` from K + 1's current fit, and the cell above each
    type's BIC choice from the choice's fit split (``refit(K, ct, start, source K)`` fits one
    start, None if it fails); returns (K, ct, better fit, the old objective, how its start was
    made, the K it came from) for each cell improved, and updates ``fits`` as it goes.

    The candidates are judged again after each improvement, with the improved cell's
    log-likelihood: a better K + 1 can make K a candidate in turn (six clusters, seed 10:
    K=7 restarted from K=8 reached the optimum, and K=6, 190 units below its own, was left
    because its gain had been judged against K=7's old fit)."""
    improved: list = []
    table = table.copy()
    # (cell's K, the K restarted from, type, that fit's objective): again once it improved
    tried: set[tuple[int, int, str, float | None]] = set()
    while True:
        todo = [(k, k + 1, ct) for k, ct in restart_candidates(table)]
        todo += [(k + 1, k, ct) for k, ct in _bic_choices(table)]
        todo = [(k, source, ct, None if fits.get((source, ct)) is None
                 else objective(fits[(source, ct)])) for k, source, ct in todo]
        todo = [cell for cell in todo if cell not in tried]
        if not todo:
            return improved
        k, source, ct, _ = todo[0]
        tried.add(todo[0])
        if fits.get((source, ct)) is None or fits.get((k, ct)) is None:
            continue
        own = objective(fits[(k, ct)])
        starts = merged_starts if source > k else split_starts
        for how, start in starts(fits[(source, ct)]):
            fit = refit(k, ct, start, source)
            current = objective(fits[(k, ct)])
            if fit is not None and objective(fit) > current + 1e-6 * max(1.0, abs(current)):
                if improved and improved[-1][:2] == (k, ct):
                    improved.pop()
                improved.append((k, ct, fit, own, how, source))
                fits[(k, ct)] = fit
                cell = (table["n_components"] == k) & (table["covariance_type"] == ct)
                table.loc[cell, "bic"] -= 2 * (fit.log_likelihood
                                               - table.loc[cell, "log_likelihood"])
                table.loc[cell, "log_likelihood"] = fit.log_likelihood


def _bic_choices(table: Any) -> list[tuple[int, str]]:
    """Per covariance type, the fitted cell of the lowest BIC that has a fitted K + 1: its
    components split give K + 1 a start (two clusters under one component at every K:
    merging never reaches the optimum, and BIC chose one K too few). Degenerate cells count
    (a restart may have made one proper: the table does not say; any fit is a start)."""
    fitted = table[table["error"] == ""]
    cells = []
    for ct, rows in fitted.groupby("covariance_type", sort=False):
        k = int(rows.loc[rows["bic"].idxmin(), "n_components"])
        if k + 1 in set(table.loc[(table["covariance_type"] == ct)
                                  & (table["error"] == ""), "n_components"]):
            cells.append((k, ct))
    return cells
