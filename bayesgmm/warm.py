"""Fill numba's disk cache ahead of the first real run (``bayesgmm warm``, run by ``make install``).

The E-step kernels, the native sampler's density and its C callbacks are compiled with
``cache=True``: the first process on a machine compiles them (about a minute on 2 cores), every
later one loads them in a fraction of a second. :func:`warm` runs each of them once on a tiny
simulated data set (every covariance type through EM, the threaded E-step, one short NUTS run
through the native sampler), so that the first ``make run`` after ``make install`` is a warm one.

Where it sits: the fit layer; imports :mod:`bayesgmm.progress` and, inside :func:`warm`, EM,
the kernels and :mod:`bayesgmm.sampling`; imported by the command line.
"""

from __future__ import annotations

import time

import numpy as np

from . import progress
from ._validation import COVARIANCE_TYPES

__all__ = ["warm"]


def warm(show: bool = True) -> dict[str, float]:
    """Compile (or load from the cache) every numba kernel a fit and its report use.

    Parameters
    ----------
    show : bool
        Print what is being compiled (stderr).

    Returns
    -------
    dict
        Seconds per stage: ``em`` (EM, every covariance type), ``sampler`` (a short NUTS run
        with the native density, pointwise log-likelihood and membership probabilities),
        ``row plan`` (the same for data with missing values and a noise component: the row
        plan's EM and density, which such fits compile otherwise).
    """
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-2.0, 1.0, (30, 2)), rng.normal(2.0, 1.0, (30, 2))])
    out = {}
    cold = progress.sampler_cache_is_cold()
    # each stage with its time on a cold cache (QA: the first had none, 20 s of silence)
    # each silenced inside: warm's own tiny fits are no news (QA136 L1: the EM fits' "first
    # run on this machine ... 'bayesgmm warm' does this ahead" during warm itself)
    with progress.step("compiling the EM kernels (about "
                       f"{progress.COLD_EM_S + progress.COLD_THREADED_S} s, once)" if cold
                       else "loading the EM kernels", show), progress.silenced():
        t0 = time.perf_counter()
        from .em import fit_em

        for covariance_type in COVARIANCE_TYPES:
            em = fit_em(X, 2, covariance_type=covariance_type, n_init=1, random_state=0)
            em.predict_proba(X)
        # the threaded E-step too, which only data of some thousand rows reach (its first
        # large fit compiled it in silence)
        from .kernels import estep

        estep(X, em.weights, em.means, em.precisions_cholesky, em.covariance_type,
              parallel=True)
        out["em"] = time.perf_counter() - t0
    what = (f"compiling the sampler (about {progress.COLD_COMPILE_S} s, once)" if cold
            else "loading the sampler")
    with progress.step(what, show), progress.silenced():
        t0 = time.perf_counter()
        from .sampling import fit_bayes

        result = fit_bayes(X, 2, draws=20, tune=20, chains=1, random_state=0,
                           progressbar=False)
        result.predict_proba(X)
        out["sampler"] = time.perf_counter() - t0
    gappy = X.copy()
    gappy[::7, 0] = np.nan  # missing values and a noise component: the row plan's kernels
    # (a cold cache at the start is cold for these too; the check looks at two of them only)
    cold_plan = cold or progress.sampler_cache_is_cold(plan=True)
    what = ("compiling the kernels for missing values, weights and noise (about "
            f"{progress.COLD_PLAN_S} s, once)" if cold_plan
            else "loading the kernels for missing values, weights and noise")
    with progress.step(what, show), progress.silenced():
        t0 = time.perf_counter()
        result = fit_bayes(gappy, 2, noise=True, draws=20, tune=20, chains=1, random_state=0,
                           progressbar=False)
        result.predict_proba(gappy)
        out["row plan"] = time.perf_counter() - t0
    return out
