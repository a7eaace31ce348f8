"""bayesgmm: Gaussian mixture models with the classic answer (EM) and the honest one (NUTS)."""

from importlib.metadata import PackageNotFoundError, version

from .datasets import load_galaxies, load_old_faithful
from .em import ConvergenceWarning, EMResult, fit_em, n_parameters
from .kernels import EStep, SufficientStatistics, estep
from .priors import ConjugatePrior, Priors

try:
    __version__ = version("bayesgmm")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = [
    "ConjugatePrior",
    "ConvergenceWarning",
    "EMResult",
    "EStep",
    "Priors",
    "SufficientStatistics",
    "estep",
    "fit_em",
    "load_galaxies",
    "load_old_faithful",
    "n_parameters",
]
