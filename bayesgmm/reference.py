"""The textbook PyMC mixture: the oracle for the fast model and the benchmarks' baseline.

``pm.Mixture`` of K ``pm.MvNormal`` components, one ``pm.LKJCholeskyCov`` each, with priors
identical to :func:`bayesgmm.model.build_model` (full covariances): weights ~ Dirichlet(alpha),
means_z ~ Normal(0, means_sd), component sds ~ LogNormal(log sd_median, sd_log_sd), correlations
~ LKJ(eta), all on the standardised scale. This is how most users write a mixture in PyMC; it is
correct and slow, which is what makes it a good oracle.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from .priors import Priors

__all__ = ["build_textbook_model"]


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
