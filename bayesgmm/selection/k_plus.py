"""K+, the number of non-empty components of a sparse mixture: in each posterior draw, and
before any data.

:func:`count_nonempty` draws every posterior draw's assignments after the fact (NUTS samples
the marginal model) and counts the components that got a row. :func:`prior_counts` is the
prior that Dirichlet(e0, ..., e0) weights over K_max components imply on K+ with N rows, which
P(K+ | data) is read against: at the default e0 = 0.01 and K_max = 10 it puts P(K+ = 1) ~ 0.6
at N = 100-300 (Frühwirth-Schnatter, Malsiner-Walli & Grün 2021 report it beside the
posterior; QA118). It is exact: the rows' assignments, weights integrated out, are a Pólya
urn, in which row n + 1 opens a new component with probability (K_max - k) e0 / (n + K_max e0)
when k are occupied, so K+ after each row is a Markov chain (O(N K_max) work; 0.3 s at
N = 1e5).

Where it sits: the selection layer, below :mod:`bayesgmm.selection.sparse` (which calls it);
imports the kernel, the draws' arrays, the observations' noise ranges and the sweep engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln

from .. import kernels
from .._numba_cache import jit  # its cache keys cover imported sources
from .._scalars import check_number
from .._validation import check_data, check_int
from ..draw_arrays import categorical, flat_noise_weight, flatten_draws
from ..observations import noise_log_ranges
from .sweep import frequency_counts, seed_or_recorded

if TYPE_CHECKING:
    from ..posterior import BayesResult

__all__ = ["count_nonempty", "count_table", "draw_assignments", "prior_counts"]

# Draws per block when sampling allocations: bounds the (draws, N, K) responsibilities in memory.
_DRAW_BLOCK_VALUES = 4_000_000


def count_nonempty(
    result: BayesResult,
    X: Any = None,
    *,
    random_state: Any = None,
    return_occupied: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Number of non-empty components K+ in every posterior draw.

    NUTS samples the marginal model (assignments summed out), so assignments are drawn after
    the fact, as a Gibbs sampler would draw them: for draw s, z_n ~ Categorical(r_n^(s)) with
    r_n^(s) the responsibilities of point n under the draw's parameters (the E-step kernel);
    K+^(s) is the number of distinct components among z_1..z_N, i.e. those with at least one
    point assigned (Malsiner-Walli et al. 2016). A component with weight 1e-4 and N = 100 points
    is therefore usually empty, whereas thresholding the weights would need an arbitrary cut.

    For the fitted data (``X`` None) the fit's observations count as the fit saw them: missing
    values marginalised (the row plan), a labelled point in its own component, a point drawn
    to the noise component in no Gaussian one, and a row of frequency weight w as w rows,
    each drawing its own z (whole numbers; weight 0: no row).

    Parameters
    ----------
    result : BayesResult
    X : array-like (N, D), optional
        Default: the observed data stored in ``result``.
    random_state : int, Generator or None
        Seeds the assignment draws (K+ is itself random given the parameters); None: the
        fit's own recorded seed, so that repeated calls agree.
    return_occupied : bool
        Also return which components are non-empty.

    Returns
    -------
    n_nonempty : ndarray (chain, draw), int
    occupied : ndarray (chain, draw, K), bool
        Only with ``return_occupied``.
    """
    counts, occupied, _ = draw_assignments(result, X, seed_or_recorded(result, random_state))
    if return_occupied:
        return counts, occupied
    return counts


def draw_assignments(result: BayesResult, X: Any, random_state: Any):
    """:func:`count_nonempty`'s work: K+ (chain, draw), the occupied components (chain, draw,
    K) and, from the same E-step pass, each draw's total log-likelihood (chain, draw), the sum
    of the pointwise values over the rows (a row's frequency weight not applied, as in the
    stored ``log_likelihood`` group)."""
    post = result.idata["posterior"].to_dataset()
    observed = result.idata["observed_data"].to_dataset()
    labels = counts = None
    if X is None:
        Xv = observed["x"].to_numpy()
        if "labels" in observed.data_vars:
            labels = observed["labels"].to_numpy()
        if "sample_weight" in observed.data_vars:
            counts = frequency_counts(observed["sample_weight"].to_numpy(),
                                      "the number of non-empty components")
    else:
        Xv = check_data(X, n_features=post["means"].shape[-1], allow_nan=True)[0]
    w, m, L = flatten_draws(post, result.covariance_type)
    C, S = post["weights"].shape[:2]
    K = w.shape[1]
    noise = "noise_weight" in post.data_vars
    plan = None
    if noise or labels is not None or np.isnan(Xv).any():
        noise_weight = flat_noise_weight(post) if noise else np.zeros(w.shape[0])
        plan = kernels.RowPlan.build(
            Xv, labels=labels, log_noise=result.noise_log_density,
            noise_log_ranges=noise_log_ranges(result.noise_log_density, result.em.noise_bounds,
                                              Xv.shape[1]) if noise else None)
    rng = np.random.default_rng(random_state)
    occupied = np.zeros(w.shape, dtype=bool)
    total = np.empty(w.shape[0])
    n_rows = Xv.shape[0] if counts is None else max(int(counts.sum()), 1)
    block = max(1, _DRAW_BLOCK_VALUES // (n_rows * (K + noise)))
    for start in range(0, w.shape[0], block):
        sl = slice(start, start + block)
        if plan is None:
            pointwise, resp = kernels.pointwise_over_draws(Xv, w[sl], m[sl], L[sl], True)
        else:  # (S, N, K [+ 1]): the noise column last
            pointwise, resp = kernels.plan_pointwise_over_draws(plan, w[sl], noise_weight[sl],
                                                                m[sl], L[sl], True)
        total[sl] = pointwise.sum(axis=1)
        if counts is not None:  # row n stands for counts[n] rows, each with its own z
            resp = np.repeat(resp, counts, axis=1)
        occupied[sl] = sample_occupied(resp, rng)[:, :K]  # the noise is no component
    return (occupied.sum(axis=1).reshape(C, S), occupied.reshape(C, S, -1), total.reshape(C, S))


def sample_occupied(resp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw z_n ~ Cat(resp[s, n]) for every draw s; return which components got a point (S, K)."""
    S, N, K = resp.shape
    z = categorical(resp, rng.random((S, N)))
    occupied = np.zeros((S, K), dtype=bool)
    occupied[np.repeat(np.arange(S), N), z.ravel()] = True
    return occupied


def count_table(counts: np.ndarray, K: int) -> pd.DataFrame:
    """P(K+ = k) per chain and pooled ("all"), columns k = 1..K."""
    ks = np.arange(1, K + 1)
    rows = {str(c): [np.mean(counts[c] == k) for k in ks] for c in range(counts.shape[0])}
    rows["all"] = [np.mean(counts == k) for k in ks]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=ks)
    return table.rename_axis(index="chain", columns="n_nonempty")


def prior_counts(max_components: int, concentration: float, n_rows: int, *,
                 noise: bool = False, labelled_rows: int = 0,
                 labelled_components: int = 0) -> pd.Series:
    """P(K+ = k) before any data: K_max components with Dirichlet(e0) weights and N rows.

    Parameters
    ----------
    max_components : int
        K_max.
    concentration : float
        The Dirichlet concentration e0 of the weights.
    n_rows : int
        N, the rows (a row of frequency weight c counts as c rows).
    noise : bool
        A noise component shares the Dirichlet (e0 too) and takes rows from the Gaussians:
        the number M of rows that reach them is Beta-binomial (N, K e0, e0) and, given M, the
        Gaussians' weights are Dirichlet(e0) among themselves, so P(K+ = k) is the urn's
        P(K+ = k | M) averaged over M; K+ = 0 where every row is noise (QA122: the prior for
        all N rows overstated P(K+ = 1) by up to 0.1).
    labelled_rows, labelled_components : int
        Rows with known components (counted as rows), and how many components they name:
        those are occupied whatever the rest do, and the urn goes on from them (QA122: with
        labels naming two components, P(K+ = 1) = 0.85 was printed).

    Returns
    -------
    pandas.Series
        P(K+ = k) for k = 1..K_max (index ``n_nonempty``; from 0 with a noise component), as
        ``posterior_counts``.
    """
    K = check_int(max_components, "max_components")
    e0 = check_number(concentration, "concentration", lambda v: np.isfinite(v) and v > 0,
                      "a number > 0")
    N = check_int(n_rows, "n_rows")
    n_l = check_int(labelled_rows, "labelled_rows", 0)
    m = check_int(labelled_components, "labelled_components", 0)
    if n_l > N or m > min(K, n_l) or (n_l > 0) != (m > 0):
        raise ValueError(f"labelled_rows={n_l} and labelled_components={m} do not fit "
                         f"{N} rows and K_max = {K}: the labelled rows are some of the rows, "
                         "and name at least one and at most K_max components")
    unlabelled = N - n_l
    if noise:  # M of the unlabelled rows reach the Gaussians: Beta-binomial (see above)
        M = np.arange(unlabelled + 1)
        a, b = K * e0 + n_l, e0  # the labelled rows are in Gaussian components
        reach = np.exp(gammaln(unlabelled + 1) - gammaln(M + 1) - gammaln(unlabelled - M + 1)
                       + betaln(M + a, unlabelled - M + b) - betaln(a, b))
    else:  # all of them
        reach = np.zeros(unlabelled + 1)
        reach[-1] = 1.0
    p = _urn(K, e0, n_l, m, reach)
    first = 0 if noise else 1
    return pd.Series(p[first:], index=pd.RangeIndex(first, K + 1, name="n_nonempty"),
                     name="prior probability")


@jit()
def _urn(K: int, e0: float, start: int, occupied: int, reach: np.ndarray) -> np.ndarray:
    """The Pólya urn's K+ (0..K) after ``start`` + M rows, from ``occupied`` components
    after the first ``start``, averaged over M with the weights ``reach`` (M = 0..len - 1):
    row n + 1 opens a component with probability (K - k) e0 / (n + K e0), else joins one
    (O(N K); a Python loop took 11 s at N = 1e6, QA122)."""
    p = np.zeros(K + 1)
    p[occupied] = 1.0
    out = reach[0] * p
    for i in range(1, reach.shape[0]):
        n = start + i - 1  # rows before this one
        total = n + K * e0
        for k in range(K, 0, -1):  # in place, from the top: p[k - 1] is still the old one
            p[k] = p[k] * ((n + k * e0) / total) + p[k - 1] * ((K - k + 1) * e0 / total)
        p[0] = p[0] * (n / total)
        if reach[i] != 0.0:
            out += reach[i] * p
    return out
