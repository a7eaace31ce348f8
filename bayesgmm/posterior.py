"""The Bayesian fit's result: posterior draws plus everything needed to use and judge them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import logsumexp

from . import kernels
from ._validation import check_data
from .diagnostics import Diagnostics, diagnose
from .draw_arrays import categorical, flatten_draws
from .em import EMResult
from .priors import Priors, Standardisation
from .relabel import LabelSwitchingReport
from .settings import SamplerSettings

__all__ = ["BayesResult", "MembershipProbabilities"]

PARAMETERS = ("weights", "means", "covariances")


@dataclass(frozen=True, eq=False)
class MembershipProbabilities:
    """Posterior membership probabilities of each point.

    Attributes
    ----------
    mean : ndarray (N, K)
        Posterior mean of r_nk; rows sum to 1.
    lower, upper : ndarray (N, K)
        Equal-tailed ``interval`` credible bounds of r_nk over the posterior draws.
    interval : float
    """

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    interval: float


@dataclass(frozen=True, eq=False)
class BayesResult:
    """A posterior over a Gaussian mixture, relabelled to the EM solution.

    Attributes
    ----------
    idata : xarray.DataTree
        ArviZ groups ``posterior`` (relabelled, data units: ``weights`` (component),
        ``means`` (component, feature), ``covariances`` (sklearn shape per covariance type)),
        ``posterior_unrelabelled`` (the raw draws), ``sample_stats``, ``log_likelihood``
        (``x``: (chain, draw, observation), the marginal mixture log-density of each point),
        ``observed_data`` and ``em`` (the EM estimate used as reference and start).
    em : EMResult
    priors : Priors
        The priors used (standardised scale).
    standardisation : Standardisation
        The data centre and scale that the priors are relative to.
    covariance_type : str
    label_switching : LabelSwitchingReport
    settings : dict
        The record of the run: sampler, the nutpie back end that actually ran, draws, tune,
        chains, cores used, seed, target_accept, ``timing`` and the rest needed to reproduce
        the fit.
    sampler_settings : SamplerSettings or None
        The sampler settings the fit was asked for (typed); for results saved before they
        were typed, read back from ``settings``. None only for a result built by hand.
    """

    idata: Any
    em: EMResult
    priors: Priors
    standardisation: Standardisation
    covariance_type: str
    label_switching: LabelSwitchingReport
    settings: dict = field(default_factory=dict)
    sampler_settings: SamplerSettings | None = None

    # -- basic accessors --------------------------------------------------------------------
    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.em.feature_names

    @property
    def n_components(self) -> int:
        return self.em.n_components

    @property
    def posterior(self) -> xr.Dataset:
        return self.idata["posterior"].to_dataset()

    def posterior_mean(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Posterior means of (weights, means, covariances) in sklearn shapes."""
        post = self.posterior
        return tuple(post[name].mean(("chain", "draw")).to_numpy() for name in PARAMETERS)

    def _draws(self, max_draws: int | None = None, random_state: Any = 0):
        """Flattened draws (S, ...) in full form, thinned to at most ``max_draws``."""
        return flatten_draws(self.posterior, self.covariance_type, max_draws=max_draws,
                             random_state=random_state)

    def _check(self, X: Any) -> np.ndarray:
        # NaN is a missing value: the row's observed coordinates are used (see _over_draws)
        Xv, _ = check_data(X, n_features=len(self.feature_names),
                           feature_names=self.feature_names, allow_nan=True)
        return Xv

    def _noise_draws(self, max_draws: int | None, random_state: Any = 0) -> np.ndarray | None:
        """The noise weight's draws (S,), thinned as :meth:`_draws` thins; None without noise."""
        if "noise_weight" not in self.posterior:
            return None
        nw = self.posterior["noise_weight"].transpose("chain", "draw").to_numpy().reshape(-1)
        if max_draws is not None and nw.size > max_draws:  # flatten_draws' choice of draws
            nw = nw[np.sort(np.random.default_rng(random_state).choice(nw.size, max_draws,
                                                                        replace=False))]
        return nw

    def _over_draws(self, Xv: np.ndarray, want_resp: bool, max_draws: int | None
                    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-draw pointwise log-density (S, N) and responsibilities (S, N, K [+ 1]).

        Complete rows without a noise component: the parallel kernel over draws. Rows with
        missing values (the marginal density of their observed coordinates) or a noise
        component (one more column, last): the row plan, draw by draw.
        """
        w, m, L = self._draws(max_draws)
        nw = self._noise_draws(max_draws)
        missing = np.isnan(Xv)
        if nw is None and not missing.any():
            return kernels.pointwise_over_draws(Xv, w, m, L, want_resp)
        if missing.all(axis=1).any():
            raise ValueError("X has rows with every value missing; they have no density (drop "
                             "them)")
        log_noise = self.em.noise_log_density if nw is not None else -np.inf
        plan = kernels.RowPlan.build(Xv, log_noise=log_noise)
        cov = L @ np.swapaxes(L, -1, -2)
        S, N = w.shape[0], Xv.shape[0]
        pointwise = np.empty((S, N))
        resp = np.empty((S, N, w.shape[1] + (nw is not None))) if want_resp else None
        for s in range(S):
            e = kernels.estep_plan(plan, w[s], m[s], cov[s], "full",
                                   noise_weight=0.0 if nw is None else float(nw[s]),
                                   return_pointwise=True, return_resp=want_resp)
            pointwise[s] = e.pointwise
            if want_resp:
                resp[s] = e.resp
        return pointwise, resp

    def save(self, path: Any, overwrite: bool = False) -> Any:
        """Save to the directory ``path`` (NetCDF + npz + JSON); reload with ``bayesgmm.load``.

        The write is atomic and an existing result is only replaced with ``overwrite=True``;
        see :func:`bayesgmm.save`. Returns the path.
        """
        # Through the public facade, at call time: persistence imports the result types, so
        # the result types must not import persistence (no import circle).
        from . import save

        return save(self, path, overwrite=overwrite)

    # -- the user-facing methods -------------------------------------------------------------
    def summary(self, var_names: Any = PARAMETERS, ci_prob: float = 0.94, **kwargs
                ) -> pd.DataFrame:
        """ArviZ summary (mean, sd, equal-tailed interval, R-hat, bulk/tail ESS, MCSE)."""
        return az.summary(self.idata, var_names=list(var_names), ci_prob=ci_prob, **kwargs)

    def diagnostics(self, **thresholds) -> Diagnostics:
        """R-hat, ESS, divergences, E-BFMI, tree depth, label switching, and a verdict.

        Keyword arguments are the thresholds of :func:`bayesgmm.diagnostics.diagnose`
        (``rhat_max``, ``ess_min``, ``ebfmi_min``).
        """
        return diagnose(self.idata, label_report=self.label_switching, **thresholds)

    def compare_em(self, interval: float = 0.94) -> pd.DataFrame:
        """EM estimate beside the posterior mean, sd and equal-tailed interval, per parameter.

        Returns a DataFrame indexed by parameter name (e.g. ``means[1, waiting]``) with columns
        ``em``, ``mean``, ``sd``, ``lower``, ``upper``, ``em_in_interval``.
        """
        q = (1 - interval) / 2
        em_values = {"weights": self.em.weights, "means": self.em.means,
                     "covariances": self.em.covariances}
        rows = []
        post = self.posterior
        for name in PARAMETERS:
            draws = post[name]
            flat = draws.stack(sample=("chain", "draw"))
            mean, sd = flat.mean("sample"), flat.std("sample", ddof=1)
            lo, hi = flat.quantile(q, "sample"), flat.quantile(1 - q, "sample")
            dims = [d for d in draws.dims if d not in ("chain", "draw")]
            for idx in np.ndindex(*[draws.sizes[d] for d in dims]):
                sel = dict(zip(dims, idx, strict=True))
                labels = [str(draws[d].values[i]) for d, i in sel.items()]
                em_val = float(em_values[name][idx])
                lo_v, hi_v = float(lo.isel(sel)), float(hi.isel(sel))
                rows.append({
                    "parameter": f"{name}[{', '.join(labels)}]" if labels else name,
                    "em": em_val,
                    "mean": float(mean.isel(sel)),
                    "sd": float(sd.isel(sel)),
                    "lower": lo_v,
                    "upper": hi_v,
                    "em_in_interval": bool(lo_v <= em_val <= hi_v),
                })
        return pd.DataFrame(rows).set_index("parameter")

    def predict_proba(self, X: Any, interval: float = 0.94, max_draws: int = 1000
                      ) -> MembershipProbabilities:
        """Posterior membership probabilities with an equal-tailed interval per point/component.

        Responsibilities are computed by the E-step kernel for each posterior draw (thinned to
        ``max_draws``), then averaged. A row with missing values (NaN) is classified by its
        observed values; with a noise component the last column is P(noise | x).
        """
        Xv = self._check(X)
        _, resp = self._over_draws(Xv, True, max_draws)
        q = (1 - interval) / 2
        lower, upper = np.quantile(resp, [q, 1 - q], axis=0)
        return MembershipProbabilities(resp.mean(axis=0), lower, upper, interval)

    def predict(self, X: Any) -> np.ndarray:
        """Component with the highest posterior mean membership probability, shape (N,)."""
        return np.argmax(self.predict_proba(X).mean, axis=1)

    def score_samples(self, X: Any, max_draws: int | None = None) -> np.ndarray:
        """Posterior predictive log-density log( mean_s p(x | theta_s) ), shape (N,)."""
        Xv = self._check(X)
        pointwise, _ = self._over_draws(Xv, False, max_draws)
        return logsumexp(pointwise, axis=0) - np.log(pointwise.shape[0])

    def sample_posterior_predictive(self, n_samples: int | None = None, *,
                                    max_draws: int | None = 500,
                                    random_state: Any = None) -> xr.Dataset:
        """Replicated data sets from the posterior predictive distribution.

        For each of (at most ``max_draws``) posterior draws, simulate ``n_samples`` points
        (default: as many as the observed data) from that draw's mixture.

        Returns
        -------
        xarray.Dataset with ``x`` (sample, observation, feature) and ``component``
        (sample, observation), the latent label of each simulated point.
        """
        n = int(self.em.n_samples) if n_samples is None else int(n_samples)
        if n < 1:
            raise ValueError(f"n_samples must be >= 1; got {n}")
        rng = np.random.default_rng(random_state)
        w, m, L = self._draws(max_draws, random_state=rng)
        S, K = w.shape
        D = m.shape[2]
        labels = categorical(w[:, None, :], rng.random((S, n)))  # (S, n)
        z = rng.standard_normal((S, n, D))
        s_idx = np.arange(S)[:, None]
        x = m[s_idx, labels] + np.einsum("snij,snj->sni", L[s_idx, labels], z)
        coords = {"feature": list(self.feature_names)}
        return xr.Dataset(
            {"x": (("sample", "observation", "feature"), x),
             "component": (("sample", "observation"), labels)},
            coords=coords,
        )
