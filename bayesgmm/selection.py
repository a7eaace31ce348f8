"""Choosing the number of components: EM information criteria, Bayesian LOO, sparse mixtures.

Three routes, from cheapest to most complete:

- :func:`select_em` fits a grid of K x covariance types by EM (with restarts) and tabulates the
  log-likelihood, the number of free parameters, BIC, AIC and ICL, like mclust's BIC table.
  Every criterion is on the **-2 log L scale of scikit-learn: lower is better**

  - BIC = -2 log L + p log N
  - AIC = -2 log L + 2 p
  - ICL = BIC + 2 E, with E = -sum_n log r_{n, c(n)} the entropy of the MAP classification
    c(n) = argmax_k r_nk (Biernacki, Celeux & Govaert 2000; mclust's ``icl()``). mclust prints
    the same numbers with the opposite sign (higher is better).

- :func:`select_bayes` fits the posterior for each K (:func:`bayesgmm.sampling.fit_bayes`,
  EM-initialised) and :func:`compare` ranks the fits by PSIS-LOO (``az.loo``, ``az.compare``) on
  the pointwise marginal log-likelihood ``log p(x_n | theta) = log sum_k w_k N(x_n | mu_k, S_k)``,
  with elpd differences, their standard errors, Pareto-k diagnostics and a plain-language verdict.

- :func:`fit_sparse` fits one overfitted mixture with K_max components and a small Dirichlet
  concentration (Malsiner-Walli, Frühwirth-Schnatter & Grün 2016, "Model-based clustering based
  on sparse finite Gaussian mixtures", Statistics and Computing 26) and reports the posterior of
  the number of non-empty components K+ (defined in :func:`count_nonempty`).

Sweeps are embarrassingly parallel and run through joblib: local processes (loky) by default,
a Dask cluster inside ``with joblib.parallel_backend("dask"):`` (see ``examples/dask_sweep.py``).
Each worker is limited to one numba/BLAS thread so that n_jobs workers do not oversubscribe the
cores, and every grid cell is seeded from ``random_state``, (K, covariance type) alone, so results
do not depend on ``n_jobs``, the backend, or which other cells are in the grid.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
import pandas as pd
import xarray as xr
from joblib import Parallel, delayed
from scipy.special import xlogy
from threadpoolctl import threadpool_limits

from . import kernels
from ._validation import COVARIANCE_TYPES, check_covariance_type, check_data, check_n_components
from .em import EMResult, fit_em
from .settings import SamplerSettings

if TYPE_CHECKING:  # heavy imports (arviz, pymc, matplotlib) stay out of the EM workers
    from matplotlib.figure import Figure

    from .diagnostics import Diagnostics
    from .posterior import BayesResult
    from .priors import Priors
    from .relabel import LabelSwitchingReport

__all__ = [
    "CRITERIA",
    "BayesSelection",
    "EMSelection",
    "SparseMixture",
    "compare",
    "count_nonempty",
    "fit_sparse",
    "plot_criteria",
    "plot_loo",
    "plot_n_components",
    "select_bayes",
    "select_em",
]

CRITERIA = ("bic", "aic", "icl")
TABLE_COLUMNS = (
    "n_components", "covariance_type", "log_likelihood", "n_parameters", "bic", "aic", "icl",
    "entropy", "min_component_size", "degenerate", "converged", "n_iter", "warnings", "error",
)
# Vehtari et al.'s rule of thumb: |elpd_diff| < 4 is small whatever its standard error.
MIN_ELPD_DIFF = 4.0
# Below this many observations the normal approximation of elpd differences is rough
# (Sivula et al. 2025; az.compare flags it as "N < 100").
SMALL_N = 100


# --------------------------------------------------------------------------------------------
# parallel plumbing
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _single_threaded() -> Iterator[None]:
    """One BLAS/OpenMP thread and one numba thread inside a sweep worker.

    n_jobs workers each running multi-threaded kernels would oversubscribe the cores. numba's
    setting is per thread (so this is safe in thread-based backends such as Dask's threads);
    threadpoolctl's is per process.
    """
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        numba.set_num_threads(previous)


def _root_entropy(random_state: Any) -> int:
    """One integer that seeds the whole sweep (recorded so a sweep can be repeated)."""
    if isinstance(random_state, np.random.SeedSequence):  # its spawn key counts too
        return int(random_state.generate_state(1, np.uint64)[0])
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    if random_state is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer) \
            or random_state < 0:
        raise ValueError(
            f"random_state must be None, a non-negative int, a SeedSequence or a Generator; "
            f"got {random_state!r}"
        )
    return int(random_state)


def _cell_seed(entropy: int, n_components: int, covariance_type: str,
               stream: int = 0) -> np.random.SeedSequence:
    """The seed of one grid cell: a function of the root seed and the cell only."""
    key = (int(stream), int(n_components), COVARIANCE_TYPES.index(covariance_type))
    return np.random.SeedSequence(entropy, spawn_key=key)


def _check_grid(n_components: int | Iterable[int]) -> tuple[int, ...]:
    ks = [n_components] if isinstance(n_components, int | np.integer) else list(n_components)
    if not ks:
        raise ValueError("n_components must name at least one number of components")
    return tuple(sorted({check_n_components(k) for k in ks}))


def _check_covariance_types(covariance_types: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(covariance_types, str):
        covariance_types = COVARIANCE_TYPES if covariance_types == "all" else (covariance_types,)
    cts = [check_covariance_type(ct) for ct in covariance_types]
    if not cts:
        raise ValueError("covariance_types must name at least one covariance type")
    return tuple(ct for ct in COVARIANCE_TYPES if ct in cts)  # canonical order, no duplicates


# --------------------------------------------------------------------------------------------
# EM route
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class EMSelection:
    """Result of :func:`select_em`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (K, covariance type), sorted by covariance type then K, with columns
        ``n_components``, ``covariance_type``, ``log_likelihood``, ``n_parameters``, ``bic``,
        ``aic``, ``icl`` (all three lower is better, -2 log L scale), ``entropy`` (the MAP
        classification entropy E in ICL = BIC + 2 E), ``min_component_size`` (smallest N w_k),
        ``degenerate`` (a component holds too few points to estimate its covariance, see
        :func:`select_em`: its likelihood, hence every criterion, is inflated by a spurious
        near-singularity), ``converged``, ``n_iter``, ``warnings`` (EM's warnings, "; "-joined,
        "" when none) and ``error`` (why a cell could not be fitted; its numbers are then NaN).
    best : dict
        criterion -> (K, covariance_type) minimising it, over the non-degenerate cells unless
        ``exclude_degenerate=False`` (or every cell is degenerate).
    fits : dict
        (K, covariance_type) -> EMResult (failed cells are absent).
    n_samples : int
    random_state : int
        The root seed; passing it again reproduces every cell.
    """

    table: pd.DataFrame
    best: dict[str, tuple[int, str]]
    fits: dict[tuple[int, str], EMResult] = field(repr=False)
    n_samples: int
    random_state: int

    def pivot(self, criterion: str = "bic") -> pd.DataFrame:
        """mclust-style wide table: K (rows) x covariance type (columns) of one criterion."""
        if criterion not in (*CRITERIA, "log_likelihood", "n_parameters", "entropy"):
            raise ValueError(f"unknown criterion {criterion!r}; choose from {CRITERIA}")
        wide = self.table.pivot(index="n_components", columns="covariance_type", values=criterion)
        return wide[[ct for ct in COVARIANCE_TYPES if ct in wide.columns]]

    def best_fit(self, criterion: str = "bic") -> EMResult:
        """The fitted model that minimises ``criterion``."""
        return self.fits[self.best[criterion]]

    def __str__(self) -> str:
        lines = []
        for criterion in CRITERIA:
            lines += [f"{criterion.upper()} (lower is better)",
                      self.pivot(criterion).round(2).to_string(), ""]
        lines.append("Best: " + ", ".join(
            f"{c.upper()} -> K={k} {ct}" for c, (k, ct) in self.best.items()))
        degenerate = self.table[self.table["degenerate"]]
        if len(degenerate):
            cells = ", ".join(f"K={r.n_components} {r.covariance_type}"
                              for r in degenerate.itertuples())
            lines.append(f"  degenerate (a component too small for its covariance; not eligible "
                         f"as best): {cells}")
        failed = self.table[self.table["error"] != ""]
        for _, row in failed.iterrows():
            lines.append(f"  not fitted: K={row.n_components} {row.covariance_type}: {row.error}")
        return "\n".join(lines)


def select_em(
    X: Any,
    n_components: int | Iterable[int] = range(1, 9),
    covariance_types: str | Iterable[str] = COVARIANCE_TYPES,
    *,
    n_init: int = 5,
    init: str = "kmeans++",
    max_iter: int = 500,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    prior: str | None = None,
    exclude_degenerate: bool = True,
    random_state: Any = None,
    n_jobs: int | None = -1,
    verbose: int = 0,
) -> EMSelection:
    """Fit a grid of K x covariance types by EM and tabulate BIC, AIC and ICL.

    Parameters
    ----------
    X : array-like (N, D) or (N,), or pandas DataFrame
    n_components : int or iterable of int, default 1..8
    covariance_types : str or iterable of str, default all four
        Any of "full", "tied", "diag", "spherical"; "all" for the four.
    n_init, init, max_iter, tol, reg_covar
        Passed to :func:`bayesgmm.fit_em` for every cell (the best of ``n_init`` restarts is
        kept).
    prior : None or "default"
        ``"default"``: MAP-EM under mclust's conjugate prior (Fraley & Raftery 2007), which
        keeps components from collapsing; the criteria then use the log-likelihood at the MAP
        estimate, as mclust does with ``priorControl()``.
    exclude_degenerate : bool, default True
        Leave degenerate cells out of ``best``: the maximum likelihood is unbounded as a
        component shrinks onto too few points to span its covariance, so their criteria reward a
        spurious singularity. They stay in the table, flagged. A cell is degenerate when a
        component's effective size N w_k is below D + 1 (full), 2 (diag, spherical) or 1
        (tied: the pooled covariance cannot collapse, but an empty component is spurious), less
        0.5 so that soft memberships just under a whole point are not flagged.
    random_state : int, SeedSequence, Generator or None
        Root seed. Cell (K, covariance type) is seeded from it and the cell alone, so the table
        does not depend on ``n_jobs``, the joblib backend or the rest of the grid.
    n_jobs : int or None, default -1
        joblib workers; -1 uses all cores (or all Dask workers inside
        ``joblib.parallel_backend("dask")``); None defers to an enclosing
        ``joblib.parallel_config``. Each worker runs with one numba/BLAS thread.
    verbose : int
        joblib's progress messages.

    Returns
    -------
    EMSelection
        ``.table`` (tidy, one row per cell), ``.best`` (criterion -> (K, covariance type)),
        ``.fits`` and ``.pivot(criterion)`` for the mclust-style K x covariance-type view.

    Notes
    -----
    The criteria are lower-is-better: BIC = -2 log L + p log N, AIC = -2 log L + 2 p,
    ICL = BIC + 2 E with E = -sum_n log max_k r_nk (mclust's ``icl``, whose printed values are
    the negatives of these). p is scikit-learn's ``_n_parameters`` (:func:`bayesgmm.n_parameters`).
    Cells that cannot be fitted (e.g. more components than points) get NaN criteria and an
    ``error`` message instead of stopping the sweep.
    """
    Xv, names = check_data(X)
    ks = _check_grid(n_components)
    cts = _check_covariance_types(covariance_types)
    entropy = _root_entropy(random_state)
    if prior not in (None, "default"):
        raise ValueError(f"prior must be None or 'default'; got {prior!r}")
    options = {"n_init": n_init, "init": init, "max_iter": max_iter, "tol": tol,
               "reg_covar": reg_covar, "prior": prior}
    frame = pd.DataFrame(Xv, columns=list(names))
    # Most expensive cells first, so that the last cells to run are short ones.
    cells = sorted(((k, ct) for ct in cts for k in ks),
                   key=lambda cell: -_cost(cell[0], Xv.shape[1], cell[1]))
    out = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_fit_cell)(frame, k, ct, _cell_seed(entropy, k, ct), options) for k, ct in cells
    )
    rows = [row for row, _ in out]
    fits = {(row["n_components"], row["covariance_type"]): fit for row, fit in out
            if fit is not None}
    table = _tidy(rows)
    return EMSelection(table=table, best=_best(table, exclude_degenerate), fits=fits,
                       n_samples=Xv.shape[0], random_state=entropy)


def _cost(k: int, d: int, covariance_type: str) -> float:
    return k * (d * d if covariance_type == "full" else d)


def _fit_cell(frame: pd.DataFrame, n_components: int, covariance_type: str,
              seed: np.random.SeedSequence, options: dict) -> tuple[dict, EMResult | None]:
    """One grid cell, run in a joblib worker: the fit and its table row."""
    with _single_threaded(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = fit_em(frame, n_components, covariance_type=covariance_type,
                         random_state=seed, **options)
        except (ValueError, np.linalg.LinAlgError) as exc:
            return _failed_row(n_components, covariance_type, str(exc)), None
        row = _criteria_row(fit, frame.to_numpy())
    # Warnings raised in a worker process would be lost: keep them in the table instead.
    row["warnings"] = "; ".join(dict.fromkeys(str(w.message) for w in caught))
    return row, fit


def _criteria_row(fit: EMResult, X: np.ndarray) -> dict:
    """Log-likelihood, p, BIC, AIC, ICL and the classification entropy of one fit."""
    entropy = classification_entropy(fit.predict_proba(X), "map")
    bic = fit.bic(X)
    sizes = fit.weights * fit.n_samples
    return {
        "n_components": fit.n_components,
        "covariance_type": fit.covariance_type,
        "log_likelihood": fit.log_likelihood,
        "n_parameters": fit.n_parameters,
        "bic": bic,
        "aic": fit.aic(X),
        "icl": bic + 2.0 * entropy,
        "entropy": entropy,
        "min_component_size": float(sizes.min()),
        "degenerate": bool(sizes.min() < _points_needed(fit.covariance_type, fit.n_features)),
        "converged": fit.converged,
        "n_iter": fit.n_iter,
        "warnings": "",
        "error": "",
    }


def _points_needed(covariance_type: str, n_features: int) -> float:
    """Effective size below which a component's covariance estimate is singular (less 0.5)."""
    needed = {"full": n_features + 1, "diag": 2, "spherical": 2, "tied": 1}[covariance_type]
    return needed - 0.5


def _failed_row(n_components: int, covariance_type: str, error: str) -> dict:
    row = dict.fromkeys(TABLE_COLUMNS, math.nan)
    row.update(n_components=n_components, covariance_type=covariance_type, converged=False,
               degenerate=False, n_iter=0, warnings="", error=error)
    return row


def _tidy(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    order = {ct: i for i, ct in enumerate(COVARIANCE_TYPES)}
    table = table.sort_values(["covariance_type", "n_components"],
                              key=lambda s: s.map(order) if s.name == "covariance_type" else s)
    table = table.reset_index(drop=True).astype({"n_components": int, "n_iter": int,
                                                 "converged": bool, "degenerate": bool})
    table.attrs["criteria"] = ("lower is better: bic = -2 logL + p log N, aic = -2 logL + 2p, "
                               "icl = bic + 2 * entropy (MAP classification entropy)")
    return table


def _best(table: pd.DataFrame, exclude_degenerate: bool) -> dict[str, tuple[int, str]]:
    if exclude_degenerate and not table["degenerate"].all():
        table = table[~table["degenerate"]]
    best = {}
    for criterion in CRITERIA:
        values = table[criterion]
        if values.notna().any():
            row = table.loc[values.idxmin()]
            best[criterion] = (int(row["n_components"]), str(row["covariance_type"]))
    return best


def classification_entropy(resp: np.ndarray, kind: str = "map") -> float:
    """Entropy term of ICL from responsibilities (N, K).

    ``"map"`` (used by :func:`select_em`, mclust's ``icl``): -sum_n log max_k r_nk.
    ``"soft"`` (McLachlan & Peel 2000): -sum_n sum_k r_nk log r_nk; never smaller than "map".
    """
    resp = np.asarray(resp, dtype=np.float64)
    if kind == "map":
        return float(-np.sum(np.log(resp.max(axis=1))))
    if kind == "soft":
        return float(-np.sum(xlogy(resp, resp)))
    raise ValueError(f"kind must be 'map' or 'soft'; got {kind!r}")


# --------------------------------------------------------------------------------------------
# Bayesian route: PSIS-LOO
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class BayesSelection:
    """Result of :func:`compare` / :func:`select_bayes`.

    Attributes
    ----------
    comparison : pandas.DataFrame
        ``az.compare``'s table (unrounded), best model first: ``rank``, ``elpd_diff``
        (model minus best, so <= 0), ``dse`` (its standard error), ``p_worse``, ``diag_diff``,
        ``diag_elpd``, ``p`` (effective number of parameters), ``elpd`` (elpd_loo), ``se``,
        ``weight`` (stacking), plus ``within_noise`` (bool; see :func:`compare`).
    loo : dict
        Model name -> ArviZ ELPDData from ``az.loo(..., pointwise=True)``.
    pareto_k : pandas.DataFrame
        Per model: ``n_observations``, ``good_k`` (ArviZ's threshold for this many draws),
        ``n_high`` (k > good_k: that point's LOO estimate is unreliable), ``n_very_high``
        (k > 1) and ``max_k``.
    best : str
        Highest elpd_loo.
    within_noise : tuple of str
        Other models whose elpd is indistinguishable from the best one's.
    simplest_within_noise : str or None
        Among the best and those within noise, the one with the fewest components (None when
        the models' K is unknown).
    verdict : str
        The comparison in plain language, followed by any warnings.
    warnings : tuple of str
        Pareto-k, small-sample and convergence warnings (also part of ``verdict``).
    diagnostics : dict
        Model name -> one-line convergence verdict (:meth:`BayesResult.diagnostics`), for
        models given as BayesResult.
    results : dict
        Model name -> the fitted model (BayesResult or DataTree) that was compared.
    """

    comparison: pd.DataFrame
    loo: dict[str, Any] = field(repr=False)
    pareto_k: pd.DataFrame
    best: str
    within_noise: tuple[str, ...]
    simplest_within_noise: str | None
    verdict: str
    warnings: tuple[str, ...]
    diagnostics: dict[str, str] = field(repr=False)
    results: dict[str, Any] = field(repr=False)

    def __str__(self) -> str:
        cols = ["elpd", "se", "elpd_diff", "dse", "p", "weight", "within_noise", "diag_elpd"]
        table = self.comparison[cols].to_string(float_format=lambda v: f"{v:.2f}")
        return "\n".join([table, "", self.verdict])


def select_bayes(
    X: Any,
    n_components: int | Iterable[int] = range(1, 7),
    *,
    covariance_type: str = "full",
    priors: Priors | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    sampler: str = "nutpie",
    random_state: Any = None,
    n_jobs: int | None = -1,
    progressbar: bool = False,
    verbose: int = 0,
    min_elpd_diff: float = MIN_ELPD_DIFF,
    n_se: float = 2.0,
    settings: SamplerSettings | None = None,
    **fit_kwargs: Any,
) -> BayesSelection:
    """Fit the posterior for each K and compare the fits by PSIS-LOO.

    Parameters
    ----------
    X : array-like (N, D) or (N,), or pandas DataFrame
    n_components : int or iterable of int, default 1..6
    covariance_type : {"full", "tied", "diag", "spherical"}
    priors : Priors, optional
    draws, tune, chains, sampler, progressbar
        Passed to :func:`bayesgmm.sampling.fit_bayes` (each fit is EM-initialised there).
    random_state : int, SeedSequence, Generator or None
        Root seed; the fit for K is seeded from it and K alone.
    n_jobs : int or None, default -1
        joblib workers over K (-1: all cores, or all Dask workers under
        ``joblib.parallel_backend("dask")``). When more than one worker runs, each fit runs its
        chains one after another (``cores=1``) unless ``cores`` is given, so that workers x
        chains do not oversubscribe the cores.
    min_elpd_diff, n_se : float
        The "within noise" rule of :func:`compare`.
    settings : SamplerSettings, optional
        All sampler settings in one object, instead of ``draws``, ``tune``, ``chains``,
        ``sampler``, ``progressbar`` and those in ``fit_kwargs`` (not both).
    **fit_kwargs
        Any other argument of ``fit_bayes`` (``target_accept``, ``cores``, ...).

    Returns
    -------
    BayesSelection
        Models are named ``"K=<k>"``.
    """
    from joblib import effective_n_jobs

    Xv, names = check_data(X)
    ks = _check_grid(n_components)
    covariance_type = check_covariance_type(covariance_type)
    entropy = _root_entropy(random_state)
    ss = _sampler_settings(settings, fit_kwargs, draws=draws, tune=tune, chains=chains,
                           sampler=sampler, progressbar=progressbar)
    if effective_n_jobs(n_jobs) > 1 and len(ks) > 1 and ss.cores is None:
        ss = ss.replace(cores=1)
    options = {"covariance_type": covariance_type, "priors": priors, "settings": ss,
               **fit_kwargs}
    frame = pd.DataFrame(Xv, columns=list(names))
    seeds = {k: _int_seed(_cell_seed(entropy, k, covariance_type, stream=1)) for k in ks}
    fits = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_fit_bayes_cell)(frame, k, seeds[k], options) for k in sorted(ks, reverse=True)
    )
    results = {f"K={fit.n_components}": fit for fit in sorted(fits, key=_n_components)}
    return compare(results, min_elpd_diff=min_elpd_diff, n_se=n_se)


def _sampler_settings(settings: SamplerSettings | None, fit_kwargs: dict[str, Any],
                      **keywords: Any) -> SamplerSettings:
    """The sweep's settings (taking the sampler settings out of ``fit_kwargs``)."""
    keywords.update({k: fit_kwargs.pop(k) for k in SamplerSettings.names() if k in fit_kwargs})
    return SamplerSettings.resolve(settings, defaults=SamplerSettings(progressbar=False),
                                   **keywords)


def _int_seed(seed: np.random.SeedSequence) -> int:
    """fit_bayes takes an int seed: 31 bits of the cell's SeedSequence."""
    return int(seed.generate_state(1)[0] >> 1)


def _n_components(result: Any) -> int:
    return int(result.n_components)


def _fit_bayes_cell(frame: pd.DataFrame, n_components: int, seed: int,
                    options: dict) -> BayesResult:
    """One posterior fit, run in a joblib worker."""
    from .sampling import fit_bayes

    with _single_threaded():
        return fit_bayes(frame, n_components, random_state=seed, **options)


def compare(
    models: Mapping[Any, Any],
    *,
    min_elpd_diff: float = MIN_ELPD_DIFF,
    n_se: float = 2.0,
    method: str = "stacking",
) -> BayesSelection:
    """Compare posterior fits by PSIS-LOO (``az.loo`` and ``az.compare``).

    Parameters
    ----------
    models : mapping
        Name -> BayesResult (or an ArviZ DataTree with a ``log_likelihood`` group holding the
        pointwise marginal log-likelihood ``x`` with dims (chain, draw, observation)). All must
        be fitted to the same observations.
    min_elpd_diff, n_se : float
        A model is *within noise* of the best when
        ``|elpd_diff| < max(min_elpd_diff, n_se * dse)``: differences below 4 are small whatever
        their standard error (Vehtari et al., "Cross-validation FAQ"; Sivula et al. 2025), and
        larger ones need to exceed about two standard errors to be credible.
    method : str
        ``az.compare``'s weighting method.

    Returns
    -------
    BayesSelection
    """
    import arviz as az

    if len(models) < 2:
        raise ValueError(f"compare needs at least two models; got {len(models)}")
    names = [str(name) for name in models]
    if len(set(names)) != len(names):
        raise ValueError(f"model names must be distinct as strings; got {names}")
    results = dict(zip(names, models.values(), strict=True))
    trees = {name: _tree(name, model) for name, model in results.items()}
    _check_same_data(trees)
    loos, loo_warnings = {}, []
    for name, tree in trees.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loos[name] = az.loo(tree, pointwise=True, var_name="x")
        loo_warnings += [f"{name}: {w.message}" for w in caught
                         if "pareto" not in str(w.message).lower()]  # ours are clearer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the verdict carries the diagnostics
        table = az.compare(loos, method=method, round_to="none")
    bound = np.maximum(min_elpd_diff, n_se * table["dse"].to_numpy())
    table["within_noise"] = np.abs(table["elpd_diff"].to_numpy()) < bound
    best = str(table.index[0])
    within = tuple(str(n) for n in table.index[1:] if table.loc[n, "within_noise"])
    simplest = _simplest((best, *within), results)
    pareto = _pareto_table(loos)
    diagnostics = {name: _convergence_line(model) for name, model in results.items()
                   if hasattr(model, "diagnostics")}
    notes = (_pareto_warnings(pareto) + _small_n_warning(pareto) + loo_warnings
             + _convergence_warning(diagnostics))
    verdict = _verdict(table, best, within, simplest, notes)
    return BayesSelection(
        comparison=table,
        loo=loos,
        pareto_k=pareto,
        best=best,
        within_noise=within,
        simplest_within_noise=simplest,
        verdict=verdict,
        warnings=tuple(notes),
        diagnostics=diagnostics,
        results=results,
    )


def _tree(name: str, model: Any) -> xr.DataTree:
    tree = getattr(model, "idata", model)
    if "log_likelihood" not in getattr(tree, "children", {}):
        raise ValueError(
            f"model {name!r} has no log_likelihood group; refit with log_likelihood=True "
            "(PSIS-LOO needs the pointwise log-likelihood)"
        )
    return tree


def _check_same_data(trees: Mapping[str, xr.DataTree]) -> None:
    """LOO differences only mean something on the same observations."""
    ref_name, ref = None, None
    for name, tree in trees.items():
        if "observed_data" not in tree.children:
            continue
        x = tree["observed_data"]["x"].to_numpy()
        if ref is None:
            ref_name, ref = name, x
        elif x.shape != ref.shape or not np.array_equal(x, ref):
            raise ValueError(
                f"models {ref_name!r} and {name!r} were fitted to different data; LOO "
                "comparisons need the same observations"
            )


def _simplest(candidates: Sequence[str], results: Mapping[str, Any]) -> str | None:
    ks = {name: getattr(results[name], "n_components", None) for name in candidates}
    if any(k is None for k in ks.values()):
        return None
    return min(candidates, key=lambda name: (ks[name], candidates.index(name)))


def _pareto_table(loos: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for name, loo in loos.items():
        k = np.asarray(loo.pareto_k).ravel()
        good = float(loo.good_k)
        rows.append({"model": name, "n_observations": k.size, "good_k": good,
                     "n_high": int(np.sum(k > good)), "n_very_high": int(np.sum(k > 1)),
                     "max_k": float(np.max(k))})
    return pd.DataFrame(rows).set_index("model")


def _pareto_warnings(pareto: pd.DataFrame) -> list[str]:
    out = []
    for name, row in pareto.iterrows():
        if row["n_high"]:
            out.append(
                f"{name}: {row['n_high']} of {row['n_observations']} observations have Pareto "
                f"k > {row['good_k']:.2f} (max {row['max_k']:.2f}); their PSIS-LOO terms are "
                "unreliable and this model's elpd_loo is likely optimistic. Use more draws, "
                "moment matching or K-fold cross-validation for it."
            )
    return out


def _small_n_warning(pareto: pd.DataFrame) -> list[str]:
    n = int(pareto["n_observations"].iloc[0])
    if n >= SMALL_N:
        return []
    return [f"only N={n} observations (< {SMALL_N}): the normal approximation to the elpd "
            "differences is rough, so treat the standard errors as indicative."]


def _fmt_diff(table: pd.DataFrame, name: str) -> str:
    return f"{table.loc[name, 'elpd_diff']:.1f} +- {table.loc[name, 'dse']:.1f}"


def _verdict(table: pd.DataFrame, best: str, within: Sequence[str], simplest: str | None,
             notes: Sequence[str]) -> str:
    head = f"{best} is best (elpd_loo {table.loc[best, 'elpd']:.1f} +- {table.loc[best, 'se']:.1f})"
    worse = [n for n in table.index[1:] if n not in within]
    parts = [head]
    if within:
        listed = ", ".join(f"{n} (elpd_diff {_fmt_diff(table, n)})" for n in within)
        verb = "is" if len(within) == 1 else "are"
        parts.append(f"{listed} {verb} within noise of it")
    else:
        parts.append("every other model is clearly worse")
    if within and worse:
        parts.append("clearly worse: " + ", ".join(f"{n} ({_fmt_diff(table, n)})" for n in worse))
    text = "; ".join(parts) + "."
    if within and simplest is not None:
        text += (f" The simplest model within noise of the best is {simplest}"
                 + (" itself." if simplest == best else " (prefer it unless the extra "
                    "components are wanted for a reason)."))
    if notes:
        text += " Warnings: " + " ".join(notes)
    return text


def _convergence_warning(diagnostics: Mapping[str, str]) -> list[str]:
    failed = [name for name, line in diagnostics.items() if line.startswith("PROBLEMS")]
    if not failed:
        return []
    return [f"convergence problems in {', '.join(failed)} (see .diagnostics): their elpd_loo "
            "rests on draws that may not represent the posterior."]


def _convergence_line(model: Any) -> str:
    try:
        return model.diagnostics().verdict
    except (ValueError, KeyError) as exc:  # e.g. no sampler statistics
        return f"not diagnosed: {exc}"


# --------------------------------------------------------------------------------------------
# Sparse finite ("overfitted") mixtures
# --------------------------------------------------------------------------------------------
# Draws per block when sampling allocations: bounds the (draws, N, K) responsibilities in memory.
_DRAW_BLOCK_VALUES = 4_000_000


@dataclass(frozen=True, eq=False)
class SparseMixture:
    """Result of :func:`fit_sparse`: an overfitted mixture and its number of non-empty components.

    Attributes
    ----------
    result : BayesResult
        The K_max-component fit. Its per-component summaries mix filled and empty components
        (an empty component's parameters are draws from the prior, and they switch labels
        freely), so use ``identified`` for component parameters.
    max_components : int
    concentration : float
        The Dirichlet concentration e0 of the weights.
    n_nonempty : ndarray (chain, draw), int
        K+ of every draw (see :func:`count_nonempty`).
    posterior_counts : pandas.Series
        P(K+ = k | data) for k = 1..K_max (index ``n_nonempty``).
    per_chain : pandas.DataFrame
        The same, chain by chain (rows: chain); chains that disagree have not mixed over K+.
    mode : int
        The posterior mode of K+, the estimated number of clusters.
    identified : xarray.Dataset
        Draws with K+ = ``mode``, reduced to their non-empty components (weights renormalised)
        and relabelled to an EM fit with ``mode`` components; dims (sample, component, ...).
    label_switching : LabelSwitchingReport
        Relabelling of ``identified`` (one pooled "chain").
    diagnostics : Diagnostics
        Sampler checks plus R-hat/ESS of label-invariant quantities only: K+ and the total
        log-likelihood (per-component R-hat is meaningless when components empty and refill).
    """

    result: BayesResult = field(repr=False)
    max_components: int
    concentration: float
    n_nonempty: np.ndarray = field(repr=False)
    posterior_counts: pd.Series
    per_chain: pd.DataFrame = field(repr=False)
    mode: int
    identified: xr.Dataset = field(repr=False)
    label_switching: LabelSwitchingReport = field(repr=False)
    diagnostics: Diagnostics = field(repr=False)

    def __str__(self) -> str:
        probs = ", ".join(f"{k}: {p:.3f}" for k, p in self.posterior_counts.items() if p > 0)
        return (f"Sparse mixture, K_max={self.max_components}, Dirichlet e0="
                f"{self.concentration:g}: posterior mode K+={self.mode}; P(K+=k) {{{probs}}}\n"
                f"{self.diagnostics.verdict}")


def fit_sparse(
    X: Any,
    max_components: int = 10,
    *,
    concentration: float = 0.01,
    covariance_type: str = "full",
    priors: Priors | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    sampler: str = "nutpie",
    random_state: int | None = None,
    progressbar: bool = False,
    settings: SamplerSettings | None = None,
    **fit_kwargs: Any,
) -> SparseMixture:
    """Sparse finite mixture: K_max components, Dirichlet(e0) weights with a small e0.

    With e0 well below 1 the prior pushes superfluous components' weights to zero, so the
    posterior of the number of *non-empty* components K+ estimates the number of clusters
    (Malsiner-Walli, Frühwirth-Schnatter & Grün 2016, who recommend K_max around 10 and
    e0 = 0.01; Rousseau & Mengersen 2011 for the asymptotics of emptying).

    Parameters
    ----------
    X : array-like (N, D) or (N,), or pandas DataFrame
    max_components : int, default 10
    concentration : float, default 0.01
        e0; overrides ``priors.weights_concentration``.
    covariance_type : str
    priors : Priors, optional
        The other priors (default ``Priors()``).
    draws, tune, chains, sampler, random_state, progressbar, **fit_kwargs
        Passed to :func:`bayesgmm.sampling.fit_bayes`.
    settings : SamplerSettings, optional
        All sampler settings in one object, instead of the sampling keywords (not both).

    Returns
    -------
    SparseMixture

    Notes
    -----
    NUTS finds small e0 hard, unlike the Gibbs sampler of Malsiner-Walli et al.: on the
    sampler's unconstrained scale an empty component's log-weight has a long, flat tail
    (density ~ w^e0), and moving a component between empty and filled crosses steep ridges.
    On the galaxies data (K_max = 10, 4 x 2000 draws) e0 = 0.01 gave about 14% divergent
    transitions and 19% of draws at the maximum tree depth (raising ``target_accept`` to 0.95
    made it worse: two chains stuck at different K+), whereas e0 = 0.1 sampled cleanly (4
    divergences in 8000) but, being less sparse, put its mode at K+ = 5 instead of 3. Read
    ``diagnostics`` and ``per_chain`` before trusting ``posterior_counts``, and report e0 with
    the answer: the posterior of K+ depends on it.
    """
    from .priors import Priors
    from .sampling import fit_bayes

    K = check_n_components(max_components)
    priors = dataclasses.replace(priors or Priors(), weights_concentration=concentration)
    ss = _sampler_settings(settings, fit_kwargs, draws=draws, tune=tune, chains=chains,
                           sampler=sampler, progressbar=progressbar)
    result = fit_bayes(X, K, covariance_type=covariance_type, priors=priors,
                       random_state=random_state, settings=ss, **fit_kwargs)
    return summarise_sparse(result, random_state=random_state)


def summarise_sparse(result: BayesResult, *, random_state: Any = None) -> SparseMixture:
    """K+ posterior, identified posterior and diagnostics of an (overfitted) BayesResult."""
    from .diagnostics import diagnose

    X = result.idata["observed_data"]["x"].to_numpy()
    counts, occupied = count_nonempty(result, X, random_state=random_state,
                                      return_occupied=True)
    K = result.n_components
    table = _count_table(counts, K)
    mode = int(table.loc["all"].idxmax())
    identified, report = _identify(result, X, counts, occupied, mode, random_state)
    invariant = _invariant_posterior(result, counts)
    diagnostics = diagnose(result.idata, var_names=tuple(invariant.data_vars),
                           posterior=invariant)
    return SparseMixture(
        result=result,
        max_components=K,
        concentration=float(result.priors.weights_concentration),
        n_nonempty=counts,
        posterior_counts=table.loc["all"].rename("probability"),
        per_chain=table.drop(index="all"),
        mode=mode,
        identified=identified,
        label_switching=report,
        diagnostics=diagnostics,
    )


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

    Parameters
    ----------
    result : BayesResult
    X : array-like (N, D), optional
        Default: the observed data stored in ``result``.
    random_state : int, Generator or None
        Seeds the assignment draws (K+ is itself random given the parameters).
    return_occupied : bool
        Also return which components are non-empty.

    Returns
    -------
    n_nonempty : ndarray (chain, draw), int
    occupied : ndarray (chain, draw, K), bool
        Only with ``return_occupied``.
    """
    post = result.idata["posterior"].to_dataset()
    Xv = result.idata["observed_data"]["x"].to_numpy() if X is None else \
        check_data(X, n_features=post["means"].shape[-1])[0]
    w, m, L = _full_draws(post, result.covariance_type)
    C, S = post["weights"].shape[:2]
    rng = np.random.default_rng(random_state)
    occupied = np.zeros(w.shape, dtype=bool)
    block = max(1, _DRAW_BLOCK_VALUES // (Xv.shape[0] * w.shape[1]))
    for start in range(0, w.shape[0], block):
        sl = slice(start, start + block)
        _, resp = kernels.pointwise_over_draws(Xv, w[sl], m[sl], L[sl], True)
        occupied[sl] = _sample_occupied(resp, rng)
    counts = occupied.sum(axis=1).reshape(C, S)
    if return_occupied:
        return counts, occupied.reshape(C, S, -1)
    return counts


def _full_draws(post: xr.Dataset, covariance_type: str):
    """Flattened draws in full form: weights (S, K), means (S, K, D), cov. Cholesky (S, K, D, D)."""
    w = post["weights"].transpose("chain", "draw", ...).to_numpy()
    m = post["means"].transpose("chain", "draw", ...).to_numpy()
    cov = post["covariances"].transpose("chain", "draw", ...).to_numpy()
    C, S, K, D = m.shape
    cov = cov.reshape(C * S, *cov.shape[2:])
    full = np.stack([kernels.to_full_covariances(c, covariance_type, K, D) for c in cov])
    return (np.ascontiguousarray(w.reshape(C * S, K)), np.ascontiguousarray(m.reshape(-1, K, D)),
            np.ascontiguousarray(np.linalg.cholesky(full)))


def _sample_occupied(resp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw z_n ~ Cat(resp[s, n]) for every draw s; return which components got a point (S, K)."""
    S, N, K = resp.shape
    cdf = np.cumsum(resp, axis=2)
    u = rng.random((S, N, 1)) * cdf[:, :, -1:]  # scale by the row sum: rounding-proof
    z = (u > cdf[:, :, :-1]).sum(axis=2)
    occupied = np.zeros((S, K), dtype=bool)
    occupied[np.repeat(np.arange(S), N), z.ravel()] = True
    return occupied


def _count_table(counts: np.ndarray, K: int) -> pd.DataFrame:
    """P(K+ = k) per chain and pooled ("all"), columns k = 1..K."""
    ks = np.arange(1, K + 1)
    rows = {str(c): [np.mean(counts[c] == k) for k in ks] for c in range(counts.shape[0])}
    rows["all"] = [np.mean(counts == k) for k in ks]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=ks)
    table.columns.name = "n_nonempty"
    table.index.name = "chain"
    return table


def _identify(result: BayesResult, X: np.ndarray, counts: np.ndarray, occupied: np.ndarray,
              mode: int, random_state: Any):
    """Draws with K+ = mode, cut to their non-empty components, relabelled to EM with K = mode.

    Malsiner-Walli et al. cluster the non-empty components' draws (k-means in the point-process
    representation); matching each draw to a mode-component EM fit by the Hungarian algorithm
    is the same idea with this package's relabelling.
    """
    from .relabel import LabelSwitchingReport, relabel_draws

    post = result.idata["posterior"].to_dataset()
    ct = result.covariance_type
    keep = (counts == mode).ravel()
    # The indices of the non-empty components, in their stored order, for every kept draw.
    order = np.argsort(~occupied.reshape(-1, occupied.shape[-1])[keep], axis=1, kind="stable")
    idx = order[:, :mode]
    rows = np.arange(idx.shape[0])[:, None]
    w = post["weights"].transpose("chain", "draw", ...).to_numpy()
    w = w.reshape(-1, w.shape[-1])[keep][rows, idx]
    w = w / w.sum(axis=1, keepdims=True)
    m = post["means"].transpose("chain", "draw", ...).to_numpy()
    m = m.reshape(-1, *m.shape[2:])[keep][rows, idx]
    cov_da = post["covariances"].transpose("chain", "draw", ...)
    cov = cov_da.to_numpy().reshape(-1, *cov_da.shape[2:])[keep]
    if ct != "tied":
        cov = cov[rows, idx]
    # The reference only names the components: MAP-EM (mclust's prior) keeps a small cluster
    # from collapsing, and its warnings are not the user's business here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = fit_em(X, mode, covariance_type=ct, n_init=10, prior="default",
                           random_state=_root_entropy(random_state))
    perms, w, m, cov = relabel_draws(w[None], m[None], cov[None], ct, reference.weights,
                                     reference.means, reference.covariances)
    report = LabelSwitchingReport.from_permutations(perms, ("pooled",))
    dims = {name: ("sample", *post[name].dims[2:]) for name in ("weights", "means",
                                                                 "covariances")}
    coords = {d: post.coords[d].values for d in post.dims
              if d not in ("chain", "draw", "component")}
    coords["component"] = np.arange(mode)
    identified = xr.Dataset(
        {"weights": (dims["weights"], w[0]), "means": (dims["means"], m[0]),
         "covariances": (dims["covariances"], cov[0])}, coords=coords)
    identified.attrs.update(n_nonempty=mode, fraction_of_draws=float(keep.mean()))
    return identified, report


def _invariant_posterior(result: BayesResult, counts: np.ndarray) -> xr.Dataset:
    """Label-invariant quantities per draw: K+ and the total log-likelihood."""
    post = result.idata["posterior"]
    data = {"n_nonempty": (("chain", "draw"), counts.astype(np.float64))}
    if "log_likelihood" in result.idata.children:
        data["total_log_likelihood"] = result.idata["log_likelihood"]["x"].sum("observation")
    return xr.Dataset(data, coords={"chain": post["chain"].values,
                                    "draw": post["draw"].values})


# --------------------------------------------------------------------------------------------
# plots (matplotlib; each returns its figure and never calls show())
# --------------------------------------------------------------------------------------------
def _axes(ax: Any, n: int, width: float = 5.0, height: float = 3.6) -> list:
    """``n`` axes: new ones in one row when ``ax`` is None, else the given one(s)."""
    if ax is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False,
                                 layout="constrained")
        return list(axes[0])
    axes = list(np.ravel(ax)) if isinstance(ax, Sequence | np.ndarray) else [ax]
    if len(axes) != n:
        raise ValueError(f"this plot needs {n} axes; got {len(axes)}")
    return axes


def plot_criteria(table: EMSelection | pd.DataFrame, ax: Any = None, *,
                  criteria: Sequence[str] = ("bic", "icl")) -> Figure:
    """Information criteria against K, one line per covariance type, one panel per criterion.

    Parameters
    ----------
    table : EMSelection or its ``.table`` DataFrame
    ax : matplotlib Axes or sequence of Axes, optional
        One Axes per criterion; a new figure when None.
    criteria : sequence of {"bic", "aic", "icl"}

    Returns
    -------
    matplotlib.figure.Figure
        Lower is better on every panel; the best non-degenerate cell is circled and
        degenerate cells are crossed.
    """
    frame = table.table if isinstance(table, EMSelection) else table
    criteria = [criteria] if isinstance(criteria, str) else list(criteria)
    for criterion in criteria:
        if criterion not in CRITERIA:
            raise ValueError(f"unknown criterion {criterion!r}; choose from {CRITERIA}")
    axes = _axes(ax, len(criteria))
    for axis, criterion in zip(axes, criteria, strict=True):
        for ct, group in frame.groupby("covariance_type", sort=False):
            group = group.sort_values("n_components")
            axis.plot(group["n_components"], group[criterion], marker="o", label=ct)
        degenerate = frame["degenerate"] if "degenerate" in frame else \
            pd.Series(False, index=frame.index)
        if degenerate.any():
            axis.plot(frame.loc[degenerate, "n_components"], frame.loc[degenerate, criterion],
                      marker="x", color="black", ls="none", label="degenerate")
        eligible = frame[~degenerate] if not degenerate.all() else frame
        if eligible[criterion].notna().any():
            best = eligible.loc[eligible[criterion].idxmin()]
            axis.plot(best["n_components"], best[criterion], marker="o", ms=14, mfc="none",
                      mec="black", ls="none", label=f"best: K={best['n_components']} "
                      f"{best['covariance_type']}")
        axis.set_xlabel("number of components K")
        axis.set_ylabel(f"{criterion.upper()} (lower is better)")
        axis.set_xticks(sorted(frame["n_components"].unique()))
        axis.legend(fontsize="small")
    return axes[0].figure


def plot_loo(comparison: BayesSelection | pd.DataFrame, ax: Any = None) -> Figure:
    """PSIS-LOO comparison: elpd_loo +- se per model, and elpd_diff +- dse relative to the best.

    Parameters
    ----------
    comparison : BayesSelection or an ``az.compare`` DataFrame
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Filled circles: elpd_loo with its standard error; open triangles (offset below):
        the difference from the best model with the standard error of the difference.
        Models within noise of the best are labelled so.
    """
    table = comparison.comparison if isinstance(comparison, BayesSelection) else comparison
    (axis,) = _axes(ax, 1, width=6.0, height=0.6 * len(table) + 1.5)
    y = np.arange(len(table))[::-1].astype(float)
    axis.errorbar(table["elpd"], y, xerr=table["se"], fmt="o", color="C0", label="elpd_loo +- se")
    best = table["elpd"].iloc[0]
    diff_x = best + table["elpd_diff"].to_numpy()
    axis.errorbar(diff_x[1:], y[1:] - 0.25, xerr=table["dse"].to_numpy()[1:], fmt="^",
                  mfc="none", color="C1", label="best + elpd_diff +- dse")
    axis.axvline(best, color="grey", ls="--", lw=1)
    noise = table["within_noise"] if "within_noise" in table else pd.Series(False, table.index)
    labels = [f"{name}{' (within noise)' if noise.iloc[i] and i else ''}"
              for i, name in enumerate(table.index)]
    axis.set_yticks(y, labels)
    axis.set_xlabel("elpd_loo (higher is better)")
    # Above the axes: inside, it would hide a model's point.
    axis.legend(fontsize="small", loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
                frameon=False)
    return axis.figure


def plot_n_components(posterior_counts: SparseMixture | pd.Series | np.ndarray,
                      ax: Any = None) -> Figure:
    """Posterior distribution of the number of non-empty components K+.

    Parameters
    ----------
    posterior_counts : SparseMixture, pandas Series (index k, value P(K+ = k)), or an array
        of K+ values per draw
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(posterior_counts, SparseMixture):
        probs = posterior_counts.posterior_counts
    elif isinstance(posterior_counts, pd.Series):
        probs = posterior_counts
    else:
        values = np.asarray(posterior_counts).ravel().astype(int)
        ks = np.arange(1, values.max() + 1)
        probs = pd.Series([np.mean(values == k) for k in ks], index=ks)
    (axis,) = _axes(ax, 1)
    axis.bar(probs.index.astype(int), probs.to_numpy(), color="C0")
    axis.set_xticks(probs.index.astype(int))
    axis.set_xlabel("number of non-empty components K+")
    axis.set_ylabel("posterior probability")
    return axis.figure
