"""PyTensor's numba back end, as the model's Ops use it: every use of its internals, behind one
version check.

PyTensor has no public API for giving an Op a numba implementation: the registration
(``pytensor.link.numba.dispatch.basic.register_funcify_default_op_cache_key``), its ``numba_njit``
wrapper and a NUMBA-mode function's jitted core (``fn.vm.jit_fn``, which nutpie's pyfunc route
calls) are internals that change between releases. So they are used here only, and only for the
releases in :data:`PYTENSOR_CHECKED`:

- :func:`numba_implementation` registers an Op's numba implementation on a checked release and
  registers nothing on another one, where PyTensor's NUMBA mode runs the Op's Python
  ``perform`` instead (the same numbers, more slowly; PyTensor warns that it does);
- :func:`jitted_core` returns a compiled function's jitted core, and raises
  :class:`UncheckedPyTensorError` on another release (its caller, the pyfunc route, is refused
  and the sampler takes another route).

Where it sits: the math layer, beside :mod:`bayesgmm.ops` and :mod:`bayesgmm.plan_ops` (whose
Ops it registers) and below :mod:`bayesgmm.backends.nutpie_model` (which calls
:func:`jitted_core`); imports :mod:`bayesgmm.versions` and, on a checked release only,
PyTensor's numba dispatch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bayesgmm.versions import release_problem

__all__ = [
    "PYTENSOR_CHECKED",
    "PYTENSOR_PROBLEM",
    "UncheckedPyTensorError",
    "jitted_core",
    "numba_implementation",
]

# PyTensor releases whose numba dispatch (the registration and ``numba_njit``) and NUMBA-mode
# functions (``fn.vm.jit_fn``) bayesgmm was checked against: [first, last] as (major, minor).
PYTENSOR_CHECKED = ((3, 3), (3, 3))
# Why PyTensor's internals are not used ('' when they are): the version check, made once.
PYTENSOR_PROBLEM = release_problem("pytensor", PYTENSOR_CHECKED, "numba implementations")


class UncheckedPyTensorError(ImportError):
    """The installed PyTensor is not a release whose internals bayesgmm was checked against."""


def numba_implementation(op_type: type, cache_salt: int) -> Callable:
    """Decorator: ``make()`` returns a plain Python function computing ``op_type``'s outputs
    from its inputs, which numba compiles as the Op's implementation in PyTensor's NUMBA mode
    (and nutpie's numba route).

    ``cache_salt`` (an int) joins PyTensor's on-disk cache key of every graph holding the Op:
    change it when the compiled code changes (the Ops' modules hash their source). On a PyTensor
    release outside :data:`PYTENSOR_CHECKED` nothing is registered, and the NUMBA mode runs the
    Op's ``perform``. Returns ``make`` unchanged.
    """

    def register(make: Callable[[], Callable]) -> Callable[[], Callable]:
        if PYTENSOR_PROBLEM:
            return make
        from pytensor.link.numba.dispatch.basic import (
            numba_njit,
            register_funcify_default_op_cache_key,
        )

        @register_funcify_default_op_cache_key(op_type)
        def funcify(op, node=None, **kwargs):
            return numba_njit(make()), cache_salt

        return make

    return register


def jitted_core(function: Any) -> Callable:
    """The jitted core of a PyTensor function compiled in NUMBA mode (``function.vm.jit_fn``):
    a pure function of the inputs and the shared values, safe to call from several threads.
    Raises :class:`UncheckedPyTensorError` on a release outside :data:`PYTENSOR_CHECKED`."""
    if PYTENSOR_PROBLEM:
        raise UncheckedPyTensorError(PYTENSOR_PROBLEM)
    return function.vm.jit_fn
