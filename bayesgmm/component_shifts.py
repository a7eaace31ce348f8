"""Which well-placed components move with a component that has no single place.

A relabelled component whose draws sit in two places (a small group the data barely tell
apart from a larger one: "mixed components") takes rows from another component in some
draws and gives them back in others, so the other's weight and mean shift with it. Saying
that the other components "are not affected" was then false (QA162 H1: Old Faithful K=3,
component 2 in component 1's cluster in 17% of draws, component 1's weight 0.574 there against
0.636 in the rest; galaxies K=3, 0.773 against 0.851). :func:`shifted_with` measures it: the
moving component's draws split in two along their principal axis (two-means), and each other
component's weight and means compared between the two sets, in posterior sds.

Where it sits: the posterior layer, under :mod:`bayesgmm.diagnostics` (its "mixed
components" advice and the report's list of usable summaries); imports NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ComponentShift", "shifted_with"]

# A place holds at least this share of the draws, or the split says nothing.
MIN_SHARE = 0.05
# A summary shifts where its means over the two places differ by this many posterior sds: a
# mode's effect, not the posterior correlation any two parameters have (on Old Faithful K=3
# and galaxies K=3 the shifts named above are 1.1-1.2 sd; a component's other, unimodal
# neighbour 0.1-0.7).
MIN_SHIFT_SD = 1.0


@dataclass(frozen=True)
class ComponentShift:
    """One component's largest shift with a moving component: ``component`` (int) shifts
    with ``moving`` (int, the component without a single place); ``what`` (str) is the
    summary ("weight", or "mean of FEATURE"), ``there`` and ``elsewhere`` (float) its means
    over the draws where ``moving`` is in its less frequent place and over the rest, and
    ``share`` (float) that place's share of the draws."""

    component: int
    moving: int
    what: str
    there: float
    elsewhere: float
    share: float

    def describe(self) -> str:
        """The shift as a clause ("component 1's weight averages 0.585 in the 22% of draws
        where component 2 is in its other place, against 0.637 in the rest")."""
        return (f"component {self.component}'s {self.what} averages {self.there:.4g} in the "
                f"{self.share:.0%} of draws where component {self.moving} is in its other "
                f"place, against {self.elsewhere:.4g} in the rest")


def shifted_with(post: Any, moving: tuple[int, ...]) -> dict[int, ComponentShift]:
    """The components not in ``moving`` whose weight or a mean shifts with a moving one.

    Parameters
    ----------
    post : xarray.Dataset
        Relabelled draws: ``weights`` (chain, draw, K) and ``means`` (chain, draw, K, D).
    moving : tuple of int
        The components without a single place (the diagnostics' unreported components).

    Returns
    -------
    dict of int to ComponentShift
        Each shifting component's largest shift (in posterior sds), over every moving one.
    """
    weights = np.asarray(post["weights"].values, dtype=np.float64)
    K = weights.shape[-1]
    weights = weights.reshape(-1, K)
    means_da = post["means"]
    means = np.asarray(means_da.values, dtype=np.float64)
    means = means.reshape(weights.shape[0], K, -1)
    features = [str(f) for f in (means_da.coords[means_da.dims[-1]].values
                                 if means_da.dims[-1] in means_da.coords
                                 else range(means.shape[-1]))]
    found: dict[int, tuple[float, ComponentShift]] = {}
    for m in moving:
        minority = _other_place(means[:, m, :])
        if minority is None:
            continue
        share = float(minority.mean())
        for j in (j for j in range(K) if j not in moving):
            summaries = [("weight", weights[:, j])] + [
                (f"mean of {name}", means[:, j, d]) for d, name in enumerate(features)]
            for what, values in summaries:
                sd = float(values.std())
                if not sd > 0:
                    continue
                there, elsewhere = float(values[minority].mean()), float(values[~minority].mean())
                size = abs(there - elsewhere) / sd
                if size >= MIN_SHIFT_SD and size > found.get(j, (0.0, None))[0]:
                    found[j] = (size, ComponentShift(j, m, what, there, elsewhere, share))
    return {j: shift for j, (_, shift) in sorted(found.items())}


def _other_place(draws: np.ndarray) -> np.ndarray | None:
    """(S,) mask of the draws (S, D) in the less frequent of two places, split by two-means
    along their principal axis; None where a place would hold under :data:`MIN_SHARE`."""
    sd = draws.std(axis=0)
    z = (draws - draws.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    if not np.any(z):
        return None
    axis = np.linalg.svd(z, full_matrices=False)[2][0]
    t = z @ axis
    cut = float(np.median(t))
    for _ in range(50):  # Lloyd's iterations in 1-D: the cut halfway between the two means
        low, high = t[t <= cut], t[t > cut]
        if not low.size or not high.size:
            return None
        new = 0.5 * (low.mean() + high.mean())
        if new == cut:
            break
        cut = new
    side = t > cut
    minority = side if side.mean() < 0.5 else ~side
    return minority if minority.mean() >= MIN_SHARE else None
