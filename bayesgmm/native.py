"""The native nutpie density, under its old import path.

Where it sits: the estimation layer, as a compatibility module only. The density is in
:mod:`bayesgmm.backends.native`, the nutpie model and callbacks in
:mod:`bayesgmm.backends.nutpie`, the Laplace whitening in :mod:`bayesgmm.backends.laplace` and
the parameter layout in :mod:`bayesgmm.layout`.
"""

from .backends.laplace import _negative_hessian, laplace_whitening
from .backends.native import (
    COVARIANCE_CODES,
    expand,
    logp_and_gradient,
    prior_parameters,
)
from .backends.nutpie_model import NativeMixtureModel, callbacks, compile_native
from .layout import correlation_positions, log_density_constant, unconstrained_point

__all__ = [
    "COVARIANCE_CODES",
    "NativeMixtureModel",
    "callbacks",
    "compile_native",
    "correlation_positions",
    "expand",
    "laplace_whitening",
    "log_density_constant",
    "logp_and_gradient",
    "prior_parameters",
    "unconstrained_point",
]

# The old private name of prior_parameters (the density's argument).
_prior_parameters = prior_parameters
_negative_hessian = _negative_hessian
