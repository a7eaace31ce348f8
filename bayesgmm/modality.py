"""Which Gaussian components make one mode between them: components are not clusters.

A mixture's K counts Gaussian components. A skewed or heavy-tailed cluster takes two or more
of them, which then sit side by side (a skewed one) or one inside the other (a heavy-tailed
one), and the mixture of the pair has a single mode: the data show them as one group. Ray &
Lindsay (2005) showed that every mode of a mixture of two Gaussians lies on its ridgeline,

    x*(a) = [(1 - a) S_j^-1 + a S_k^-1]^-1 [(1 - a) S_j^-1 mu_j + a S_k^-1 mu_k],  a in [0, 1],

so counting the maxima of the pair's density along that curve tells whether it is unimodal;
merging the components whose pairs are (Hennig 2010, "ridgeline unimodal") is the standard
way to count clusters from a mixture fitted by BIC. The selection routes and reports use it
to say that a chosen K may count components, not clusters.

Where it sits: the math layer; imports :mod:`bayesgmm.covariance` and the E-step kernel
(:mod:`bayesgmm.kernels`: the mixture's log-density, one implementation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import kernels
from .covariance import to_full

__all__ = ["RIDGELINE_CUTOFF", "one_mode_groups", "ridgeline_ratios", "shape_note"]

# Pairs joined when their ridgeline ratio reaches this: one mode (ratio 1), or a dip of
# under 10% of the lower peak, which no sample of the sizes mixtures are fitted to shows
# (a skewed cluster's EM fit put two components 1.6 sd apart at 0.92). Hennig's ratio rule
# (0.2: a dip of under 80%) joined true clusters: normals 5 units apart (sds 0.7 and 1.5) at
# 0.22, two rounded normals at 0.56; at the true K the panel's ratios stay below 0.6.
RIDGELINE_CUTOFF = 0.9
# Points of the ridgeline evaluated (a in [0, 1]); two modes closer than 1/_RIDGE_POINTS of
# the ridgeline apart would be missed, far below any two the data could show.
_RIDGE_POINTS = 801


def ridgeline_ratios(weights: np.ndarray, means: np.ndarray, covariances: np.ndarray
                     ) -> np.ndarray:
    """Hennig's (2010) ridgeline ratio of every pair of components, (K, K), symmetric: the
    lowest density of the pair's two-component mixture (weights ``w_j``, ``w_k``) along its
    ridgeline, between its first and last maximum, over the lower of those two maxima; 1
    where the pair has a single mode, near 0 where the data show two clearly apart. The
    diagonal is 1.

    Parameters
    ----------
    weights : ndarray (K,)
    means : ndarray (K, D)
    covariances : ndarray (K, D, D)
        Full matrices (:func:`bayesgmm.covariance.to_full` gives them for every type).
    """
    weights, means = np.asarray(weights, float), np.asarray(means, float)
    covariances = np.asarray(covariances, float)
    precisions = np.linalg.inv(covariances)
    K = len(weights)
    ratios = np.eye(K)
    for j in range(K):
        for k in range(j + 1, K):
            if weights[j] > 0 and weights[k] > 0:
                pair = [j, k]
                ratios[j, k] = ratios[k, j] = _dip_ratio(_log_mixture(
                    _ridgeline(means[pair], precisions[pair]), weights[pair], means[pair],
                    covariances[pair]))
    return ratios


def _ridgeline(mu: np.ndarray, prec: np.ndarray) -> np.ndarray:
    """Ray & Lindsay's ridgeline of two components, (P, D): x*(a) for a in [0, 1]."""
    a = np.linspace(0.0, 1.0, _RIDGE_POINTS)[:, None, None]
    blend = (1.0 - a) * prec[0] + a * prec[1]  # (P, D, D)
    target = (1.0 - a[..., 0]) * (prec[0] @ mu[0]) + a[..., 0] * (prec[1] @ mu[1])
    return np.linalg.solve(blend, target[..., None])[..., 0]


def _log_mixture(x: np.ndarray, weights: np.ndarray, means: np.ndarray,
                 full: np.ndarray) -> np.ndarray:
    """The log-density at ``x`` (P, D) of the mixture of ``weights`` (need not sum to 1),
    ``means`` and ``full`` covariances: the package's one E-step kernel."""
    return kernels.estep(np.ascontiguousarray(x), weights, means,
                         kernels.precisions_cholesky(full, "full"), "full",
                         return_pointwise=True).pointwise


def one_mode_groups(weights: np.ndarray, means: np.ndarray, covariances: np.ndarray,
                    covariance_type: str, cutoff: float = RIDGELINE_CUTOFF
                    ) -> list[list[int]]:
    """The components the data do not show apart, in groups of two or more, each sorted.

    Pairs whose ridgeline ratio (:func:`ridgeline_ratios`) reaches ``cutoff`` (default 0.9:
    one mode between them, or a dip of under 10%; 0.2 is Hennig's ratio rule) are joined,
    most alike first, as Hennig's (2010) merging does, but a group grows only while its own
    mixture (its members, weighted as fitted) shows no dip deeper than ``cutoff`` allows on
    the segment between any two of its means (QA: two clusters 8 sd apart, each one mode
    with a broad component between them, were chained into "one group"). The groups are a
    partition, as a count of clusters needs: a component joins one group at most (the broad
    one above joins the cluster it is most alike, and the other cluster stays apart).
    [] when every pair shows two modes. ``covariances`` in
    ``covariance_type``'s shape; a noise component's weight, if any, is not among
    ``weights``.
    """
    K, D = np.shape(means)
    weights, means = np.asarray(weights, float), np.asarray(means, float)
    full = to_full(np.asarray(covariances, float), covariance_type, K, D)
    ratios = ridgeline_ratios(weights, means, full)
    pairs = sorted(((ratios[j, k], j, k) for j in range(K) for k in range(j + 1, K)
                    if ratios[j, k] >= cutoff), reverse=True)
    groups: list[set[int]] = []  # a partition: each component in one group at most
    for _, j, k in pairs:
        touched = [g for g in groups if g & {j, k}]
        merged = set().union({j, k}, *touched)
        if _shows_one_group(sorted(merged), weights, means, full, cutoff):
            groups = [g for g in groups if not g & {j, k}] + [merged]
    return sorted(sorted(g) for g in groups)


def _shows_one_group(members: list[int], weights: np.ndarray, means: np.ndarray,
                     full: np.ndarray, cutoff: float) -> bool:
    """Whether the members' own mixture dips by no more than ``cutoff`` allows on the segment
    between any two of their means (for two members with one covariance, the segment is the
    ridgeline; otherwise a probe where a second mode shows)."""
    if len(members) < 3:
        return True  # a pair: its ridgeline ratio decided
    t = np.linspace(0.0, 1.0, _RIDGE_POINTS // 4)[:, None]
    for a in range(len(members)):
        for b in range(a + 1, len(members)):
            x = (1 - t) * means[members[a]] + t * means[members[b]]  # (P, D)
            if _dip_ratio(_log_mixture(x, weights[members], means[members],
                                       full[members])) < cutoff:
                return False
    return True


def _dip_ratio(f: np.ndarray) -> float:
    """A log-density curve's lowest point between its first and last maximum over the lower
    of the two (1: one maximum)."""
    left = np.concatenate([[-np.inf], f[:-1]])
    right = np.concatenate([f[1:], [-np.inf]])
    peaks = np.flatnonzero((f > left) & (f >= right))
    if len(peaks) < 2:
        return 1.0
    first, last = peaks[0], peaks[-1]
    return float(np.exp(f[first:last + 1].min() - min(f[first], f[last])))


def shape_note(fits: Sequence[tuple[str, list[list[int]]]], one_feature: bool = False) -> str:
    """One note for fits whose components make one mode between them: ``fits`` lists
    (what, groups), e.g. ("K=4 full (BIC's choice)", [[0, 2, 3]]); fits without groups are
    left out; "" when none has any. The explanation is said once, whatever the number of
    fits (QA: three notes that repeated it word for word); of 1-D data (``one_feature``)
    without the covariance types' tilt and correlations, which 1-D data have none of."""
    listed = [f"{what}: components {_groups_words(groups)}" for what, groups in fits if groups]
    if not listed:
        return ""
    reading = _SHAPE_READING_1D if one_feature else _SHAPE_READING
    return f"{_SHAPE_HEAD} {'; '.join(listed)}. {reading}"


def shape_note_again(text: str) -> str:
    """``text`` with a :func:`shape_note`'s explanation, said earlier on the same page,
    replaced by a pointer to it (QA67: the select report's EM and LOO sections each gave
    the whole paragraph)."""
    return text.replace(_SHAPE_HEAD, "Components the data show as one group (as explained "
                                     "above):").replace(f" {_SHAPE_READING}", "").replace(
                                         f" {_SHAPE_READING_1D}", "")


_SHAPE_HEAD = ("K counts Gaussian components, not clusters. Components the data show as one "
               "group (each joined to another with one mode, or nearly, between them: their "
               "mixture has one peak along its ridgeline, or a dip of under 10%; Ray & Lindsay "
               "2005):")
# both readings, neither prescribed (QA: three clusters 2.5 sds apart, rightly chosen as
# K=3, were told "to count clusters, merge each group")
_SHAPE_READING = (
    "Such a group is either one cluster whose shape Gaussians of this covariance type cannot "
    "take alone (skewed, heavy-tailed, or tilted where the type has no correlations: diag, "
    "spherical) or clusters too close to show apart, and the data alone cannot tell which. "
    "If it is one cluster, merge the group to count clusters (Hennig 2010), or describe it "
    "with one component: try full covariances or a transform of the data (a log for a skewed "
    "positive variable) and choose K again; if what you know of the data says its components "
    "are distinct groups, keep them.")
_SHAPE_READING_1D = (
    "Such a group is either one cluster whose shape a Gaussian cannot take alone (skewed or "
    "heavy-tailed) or clusters too close to show apart, and the data alone cannot tell which. "
    "If it is one cluster, merge the group to count clusters (Hennig 2010), or describe it "
    "with one component: try a transform of the data (a log for a skewed positive variable) "
    "and choose K again; if what you know of the data says its components are distinct "
    "groups, keep them.")


def _groups_words(groups: list[list[int]]) -> str:
    """"0 and 1"; "{0, 1, 4}, {1, 3} and {2, 3}" (a component may be in two groups)."""
    if len(groups) == 1:
        g = groups[0]
        return " and ".join(map(str, g)) if len(g) == 2 else \
            ", ".join(map(str, g[:-1])) + f" and {g[-1]}"
    sets = ["{" + ", ".join(map(str, g)) + "}" for g in groups]
    return ", ".join(sets[:-1]) + f" and {sets[-1]}"
