"""bayesgmm: Gaussian mixture models with the classic answer (EM) and the honest one (NUTS).

Naming in the public API: ``prior`` is one conjugate prior of MAP-EM (:class:`ConjugatePrior`,
``fit_em(prior=...)``, ``EMResult.prior``); ``priors`` is the set of priors of the Bayesian
model (:class:`Priors`, ``fit_bayes(priors=...)``, ``BayesResult.priors``). Sampler options
travel as :class:`SamplerSettings`, convergence limits as :class:`DiagnosticThresholds`.

Where it sits: the surface layer, the public facade; imports :mod:`bayesgmm.settings` at once
and every other public name from its module on first use (``_LAZY``); no module imports it.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from .settings import DiagnosticThresholds, SamplerSettings  # NumPy only

try:
    __version__ = version("bayesgmm")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

# The Bayesian half imports PyMC (seconds), the EM half numba, SciPy and pandas (~2 s on a
# busy machine). Load each on first use, so that EM-only work (and every joblib worker of an EM
# sweep) starts fast and `bayesgmm --help` answers at once (PEP 562).
_LAZY = {
    "load_galaxies": "datasets",
    "load_old_faithful": "datasets",
    "ConvergenceWarning": "em",
    "DegenerateComponentWarning": "em",
    "EMResult": "em",
    "fit_em": "em",
    "n_parameters": "em",
    "EStep": "kernels",
    "SufficientStatistics": "kernels",
    "estep": "kernels",
    "Observations": "observations",
    "encode_labels": "observations",
    "prepare_observations": "observations",
    "ConjugatePrior": "priors",
    "Priors": "priors",
    "BayesResult": "posterior",
    "MembershipProbabilities": "posterior",
    "BayesianGMM": "estimator",
    "NotFittedError": "estimator",
    "fit_bayes": "sampling",
    "load": "persistence",
    "save": "persistence",
    "select_em": "selection",
    "select_bayes": "selection",
    "compare": "selection",
    "fit_sparse": "selection",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bayesgmm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "BayesResult",
    "BayesianGMM",
    "ConjugatePrior",
    "ConvergenceWarning",
    "DegenerateComponentWarning",
    "DiagnosticThresholds",
    "EMResult",
    "EStep",
    "MembershipProbabilities",
    "NotFittedError",
    "Observations",
    "Priors",
    "SamplerSettings",
    "SufficientStatistics",
    "compare",
    "encode_labels",
    "estep",
    "fit_bayes",
    "fit_em",
    "fit_sparse",
    "load",
    "load_galaxies",
    "load_old_faithful",
    "n_parameters",
    "prepare_observations",
    "save",
    "select_bayes",
    "select_em",
]
