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

Layer: selection (above the posterior, below the report and CLI). Modules: :mod:`.sweep` (seeds
and threads of the parallel engine), :mod:`.criteria` (EM route), :mod:`.loo` (Bayesian route),
:mod:`.sparse` (sparse mixtures), :mod:`.plots` (their figures, bare matplotlib Figures).
Importing the package loads neither ArviZ, PyMC nor matplotlib (EM sweep workers import it).
"""


from .criteria import CRITERIA, TABLE_COLUMNS, EMSelection, classification_entropy, select_em
from .k_plus import count_nonempty, prior_counts
from .loo import MIN_ELPD_DIFF, SMALL_N, BayesSelection, compare, select_bayes
from .plots import plot_criteria, plot_loo, plot_n_components
from .sparse import SparseMixture, fit_sparse, summarise_sparse

__all__ = [
    "CRITERIA",
    "MIN_ELPD_DIFF",
    "SMALL_N",
    "TABLE_COLUMNS",
    "BayesSelection",
    "EMSelection",
    "SparseMixture",
    "classification_entropy",
    "compare",
    "count_nonempty",
    "fit_sparse",
    "plot_criteria",
    "plot_loo",
    "plot_n_components",
    "prior_counts",
    "select_bayes",
    "select_em",
    "summarise_sparse",
]
