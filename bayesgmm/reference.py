"""The textbook PyMC mixture: the oracle for the fast model and the benchmarks' baseline.

``pm.Mixture`` of K ``pm.MvNormal`` components, one ``pm.LKJCholeskyCov`` each, with priors
identical to :func:`bayesgmm.model.build_model` (full covariances): weights ~ Dirichlet(alpha),
means_z ~ Normal(0, means_sd), component sds ~ LogNormal(log sd_median, sd_log_sd), correlations
~ LKJ(eta), all on the standardised scale. This is how most users write a mixture in PyMC; it is
correct and slow, which is what makes it a good oracle.

Where it sits: the model layer, beside :mod:`bayesgmm.model` (imports the priors at once, the
model and the layout inside its functions); used by the tests and the benchmarks only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from .priors import Priors

__all__ = ["build_observations_oracle", "build_textbook_model", "observations_loglik"]


def build_textbook_model(
    X_std: np.ndarray,
    n_components: int,
    priors: Priors | None = None,
    *,
    center: np.ndarray,
    scale: np.ndarray,
    feature_names: Sequence[str] | None = None,
) -> pm.Model:
    """Full-covariance mixture as ``pm.Mixture`` of ``pm.MvNormal`` (D >= 2).

    Deterministics ``weights``, ``means`` and ``covariances`` are in data units with the same
    dims as the fast model's, so the two posteriors compare directly.
    """
    priors = Priors() if priors is None else priors
    N, D = X_std.shape
    if D < 2:
        raise ValueError("the textbook reference model needs D >= 2 (LKJCholeskyCov)")
    K = int(n_components)
    names = list(feature_names) if feature_names is not None else list(range(D))
    coords = {"component": list(range(K)), "feature": names, "feature_bis": names}
    with pm.Model(coords=coords) as model:
        weights = pm.Dirichlet("weights", a=np.full(K, priors.weights_concentration),
                               dims="component")
        means_z = pm.Normal("means_z", 0.0, priors.means_sd, dims=("component", "feature"))
        chols, components = [], []
        for k in range(K):
            sd_dist = pm.LogNormal.dist(np.log(priors.sd_median), priors.sd_log_sd, shape=D)
            chol, _, _ = pm.LKJCholeskyCov(f"chol_{k}", n=D, eta=priors.lkj_eta,
                                           sd_dist=sd_dist, compute_corr=True)
            chols.append(chol)
            components.append(pm.MvNormal.dist(mu=means_z[k], chol=chol))
        pm.Mixture("x", w=weights, comp_dists=components, observed=X_std)
        scale = np.asarray(scale, dtype=np.float64)
        pm.Deterministic("means", np.asarray(center) + scale * means_z,
                         dims=("component", "feature"))
        chol_x = scale[:, None] * pt.stack(chols)
        pm.Deterministic("covariances", chol_x @ pt.swapaxes(chol_x, -1, -2),
                         dims=("component", "feature", "feature_bis"))
    return model


# --------------------------------------------------------------------------------------------
# Missing values, observation weights, known labels and a noise component, written plainly
# --------------------------------------------------------------------------------------------
def observations_loglik(X, weights, noise_weight, means, chol, *, n_components,
                        sample_weight=None, labels=None, noise_log_density=-np.inf,
                        noise_log_ranges=None):
    """The per-point log-likelihood g_n ll_n (N,) in data units, as plain PyMC/PyTensor.

    Row by row what :class:`bayesgmm.kernels.RowPlan` computes in one kernel: the mixture
    density of each row's observed coordinates (``pm.logp`` of a ``pm.MvNormal`` with the
    sub-mean and sub-covariance, per missingness pattern), a labelled row's own component only
    (log w_j + log N_j(x)), a uniform noise component of log-density ``noise_log_density`` and
    weight ``noise_weight`` for unlabelled rows, each row's value times its weight g_n.

    Parameters
    ----------
    X : ndarray (N, D)
        Data units; NaN = missing.
    weights : tensor (K,); noise_weight : tensor (); means : tensor (K, D)
    chol : tensor (K, D, D)
        Lower Cholesky factors of the covariances (data units).
    sample_weight : ndarray (N,), optional
    labels : ndarray (N,) of int, optional
        -1 unknown.
    n_components : int
        K.
    noise_log_density : float
        -inf: no noise component.
    noise_log_ranges : ndarray (D,), optional
        Log side lengths of the noise box: a row with missing values gets the box's marginal
        over its observed coordinates, -sum of theirs (default: a cube,
        -noise_log_density / D each).
    """
    X = np.asarray(X, dtype=np.float64)
    N, D = X.shape
    K = int(n_components)
    labels = np.full(N, -1) if labels is None else np.asarray(labels)
    cov = pt.matmul(chol, pt.swapaxes(chol, -1, -2))
    missing = np.isnan(X)
    patterns, pattern_of = np.unique(missing, axis=0, return_inverse=True)
    pattern_of = pattern_of.reshape(-1)
    parts, rows = [], []
    for p, pattern in enumerate(patterns):
        idx = np.flatnonzero(pattern_of == p)
        obs = np.flatnonzero(~pattern)
        x_o = X[np.ix_(idx, obs)]
        terms = []
        for k in range(K):
            dist = pm.MvNormal.dist(mu=means[k][obs], cov=cov[k][obs][:, obs])
            allowed = np.where((labels[idx] < 0) | (labels[idx] == k), 0.0, -np.inf)
            terms.append(pt.log(weights[k]) + pm.logp(dist, x_o) + allowed)
        if noise_log_density != -np.inf:
            allowed = np.where(labels[idx] < 0, 0.0, -np.inf)
            sides = np.full(D, -noise_log_density / D) if noise_log_ranges is None else \
                np.asarray(noise_log_ranges, dtype=np.float64)
            log_density = noise_log_density if obs.size == D else -sides[obs].sum()
            terms.append(pt.log(noise_weight) + log_density + allowed
                         + pt.zeros(len(idx)))
        parts.append(pm.math.logsumexp(pt.stack(terms, axis=1), axis=1).reshape((-1,)))
        rows.append(idx)
    order = np.concatenate(rows)
    inverse = np.empty(N, dtype=np.int64)
    inverse[order] = np.arange(N)
    ll = pt.concatenate(parts)[inverse]
    return ll if sample_weight is None else ll * np.asarray(sample_weight, dtype=np.float64)


def build_observations_oracle(X_std, n_components, covariance_type="full",
                              priors: Priors | None = None, *, center, scale,
                              sample_weight=None, labels=None, noise_log_density=None,
                              noise_log_ranges=None) -> pm.Model:
    """The model of :func:`bayesgmm.model.build_model` with its likelihood written plainly.

    Same free variables (the layout's blocks, so the two models' log densities compare at any
    point), the likelihood :func:`observations_loglik` as a ``pm.Potential``: the oracle for
    the row-plan kernel inside the PyMC model and the native density.
    """
    from . import layout
    from .model import _as_priors, _cholesky

    X_std = np.asarray(X_std, dtype=np.float64)
    N, D = X_std.shape
    K = int(n_components)
    priors = _as_priors(priors)
    center = np.asarray(center, dtype=np.float64)
    scale = np.asarray(scale, dtype=np.float64)
    noise = noise_log_density is not None and noise_log_density != -np.inf
    coords = {"component": list(range(K)), "feature": list(range(D)),
              "feature_bis": list(range(D))}
    if noise:
        coords["mixing_component"] = list(range(K + 1))
    with pm.Model(coords=coords) as oracle:
        free = {b.name: b.make() for b in layout.blocks(K, D, covariance_type, priors,
                                                         noise=noise)}
        w = free[layout.MIXING][:K] if noise else free["weights"]
        nw = free[layout.MIXING][K] if noise else pt.constant(0.0)
        chol = _cholesky(covariance_type, K, D, free["sd_z"], free.get("corr_chol_z"))
        pm.Potential("loglik", observations_loglik(
            center + scale * X_std, w, nw, center + scale * free["means_z"],
            scale[:, None] * chol, n_components=K, sample_weight=sample_weight, labels=labels,
            noise_log_density=noise_log_density if noise else -np.inf,
            noise_log_ranges=noise_log_ranges).sum())
    return oracle
