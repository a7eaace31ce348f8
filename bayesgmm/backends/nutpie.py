"""Sampling with nutpie: ``compile_nutpie``, its cache of compiled models, and the three routes.

Where it sits: estimation layer, in :mod:`bayesgmm.backends`. Imports the layout
(:mod:`bayesgmm.layout`) and the native nutpie model (:mod:`bayesgmm.backends.nutpie_model`,
where every use of nutpie's internals is); imported by :mod:`bayesgmm.sampling` (and lazily
re-exported by :mod:`bayesgmm.model`, the old import path). Only nutpie's public API is used
here; what needs its internals (or PyTensor's) is in :mod:`~bayesgmm.backends.nutpie_model`,
behind its version check.

Three ways to hand the log-density and its gradient to nutpie (:func:`compile_nutpie`):
``"native"``, :mod:`bayesgmm.backends.native` behind C callbacks
(:class:`~bayesgmm.backends.nutpie_model.NativeMixtureModel`); ``"numba"``, nutpie's own
compilation of the PyMC graph; and ``"pyfunc"``, PyTensor's disk-cached functions called
through Python. :func:`backend_of` says which one a compiled model uses.
"""

from __future__ import annotations

import collections
import functools
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm

from .._warn import IN_PACKAGE, warn
from ..layout import (
    CENTER,
    DATA,
    OBSERVED,
    PLAN_NAMES,
    SCALE,
    correlation_positions,
    deterministics,
    model_spec,
    trace_layout,
    unconstrained_point,
)
from ..settings import NUTPIE_BACKENDS
from .laplace import laplace_whitening, typical_start
from .nutpie_model import (
    NativeMixtureModel,
    NutpieVersionError,
    backend_of,
    compile_native,
    compile_pyfunc,
    density_of,
    is_whitened,
    logp_factory,
    native_density,
    nutpie_checked,
    pyfunc_model,
    whitening_of,
    with_shared_data,
    with_start,
)
from .starts import ChainStarts, start_function, startable_point

__all__ = ["NUTPIE_BACKENDS", "NativeMixtureModel", "backend_of", "compile_nutpie",
           "is_whitened"]


# Compiled nutpie models by structure (see compile_nutpie). Small: each holds compiled code.
_NUTPIE_CACHE: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
_NUTPIE_CACHE_SIZE = 8
_NUTPIE_LOCK = threading.Lock()


def _structure_key(model: pm.Model, kwargs: Mapping[str, Any]) -> tuple:
    """Everything a compiled model depends on except the shared data (and N)."""
    spec = model_spec(model)
    coords = tuple((name, tuple(values)) for name, values in model.coords.items()
                   if name != "observation")
    extra = tuple(sorted((k, tuple(v) if isinstance(v, list | tuple | set) else v)
                         for k, v in kwargs.items()))
    return (spec.n_components, spec.n_features, spec.covariance_type, spec.ordered_means,
            spec.priors, coords, extra, spec.noise, _has_plan(model))


def _has_plan(model: pm.Model) -> bool:
    """Whether the model's likelihood runs over a row plan (missing values, weights, ...)."""
    return PLAN_NAMES[0] in model.named_vars


def _shared_data(model: pm.Model) -> dict[str, np.ndarray]:
    """The model's data containers by name (the plan's too, when it has one)."""
    names = (DATA, CENTER, SCALE) + (PLAN_NAMES if _has_plan(model) else ())
    return {name: model[name].get_value() for name in names}


def compile_nutpie(
    model: pm.Model,
    start: Mapping[str, np.ndarray] | None = None,
    *,
    jitter: float = 0.0,
    reuse: bool = True,
    backend: str = "auto",
    laplace: bool = False,
    chain_starts: ChainStarts | None = None,
    **kwargs: Any,
):
    """Compile ``model`` for nutpie with chains starting at ``start``.

    nutpie's default adds U(-1, 1) jitter to every free variable in the unconstrained space,
    which can move chains from the EM mode into other labellings. Here the start is exact, or
    perturbed by ``Normal(0, jitter)`` in the unconstrained space (a different draw per chain,
    from the chain's seed) when ``jitter > 0``.

    Three ways to hand the log-density and its gradient to nutpie:

    - ``"native"`` (what ``"auto"`` takes): :mod:`bayesgmm.backends.native`, the model's
      density written out in numba around the likelihood kernel and compiled once per machine
      into C callbacks (disk-cached); no PyTensor compilation, no Python during sampling,
      chains truly parallel. Tests check it against the PyMC model's own ``logp``/``dlogp``.
    - ``"numba"``: nutpie's own route, the whole PyTensor graph compiled with numba and wrapped
      in C callbacks; chains run in parallel, but the wrapper is compiled again in every
      process (~15-20 s on 2 cores, not cacheable), after ~45 s of PyTensor compilation on a
      new machine.
    - ``"pyfunc"``: the same graph compiled as a PyTensor function in its default (NUMBA) mode,
      which PyTensor caches on disk, called by nutpie through Python (one copy per chain).
      Warm start in ~1-2 s; each evaluation holds the GIL, so chains take turns.

    The last two evaluate the PyMC graph itself, so they also work for a model altered after
    ``build_model`` (e.g. an added ``pm.Potential``); ``"native"`` only knows the model
    ``build_model`` makes. ``"auto"`` takes ``"numba"`` when ``kwargs`` are given or the
    model was changed after ``build_model`` (variables, potentials), and falls back to it
    (with a ``RuntimeWarning``) when the installed nutpie is not a release whose internals
    were checked (:data:`~bayesgmm.backends.nutpie_model.NUTPIE_CHECKED`); it then goes
    through nutpie's public API alone (:func:`_compile_public`, which says what that loses).

    Parameters
    ----------
    model : pm.Model
        A model from ``build_model``.
    start : mapping, optional
        Constrained values keyed by free-variable names (``initial_point``); default the
        model's own initial point.
    jitter : float, default 0
        Standard deviation of the per-chain Gaussian perturbation of the unconstrained start.
    reuse : bool, default True
        Reuse a model compiled earlier in this process for the same structure (K, D,
        covariance type, priors, ordered_means, coords other than ``observation``, backend,
        ``kwargs``), re-pointed at this model's data with ``with_data``: no compilation at all.
        The data, center and scale are shared variables, so N may differ.
    backend : {"auto", "native", "numba", "pyfunc", "jax"}
    laplace : bool, default False
        Sample in coordinates whitened by the curvature at the posterior mode (found by
        Newton from ``start``; :meth:`NativeMixtureModel.with_laplace`), so
        that nutpie's diagonal adaptation starts from a metric that knows the posterior's
        correlations: 23-28% more ESS per gradient evaluation on the simulated K=3 data and
        Old Faithful, about even on galaxies (``benchmarks/bench_adaptation.py``), but less
        robust where the posterior is far from Gaussian: the whitening rotates a skewed
        direction (a small component's scale) into every coordinate, where the diagonal
        adaptation can no longer treat it apart (on galaxies one run of 8 mixed badly before
        :func:`~bayesgmm.backends.laplace.gaussian_along_axes` guarded it). Hence off here
        by default; ``fit_bayes`` whitens where it is cheap beside the density
        (:func:`bayesgmm.settings.laplace_affordable`, ``SamplerSettings.metric``): 6.4-6.8x
        the ESS per gradient at 1e5-1e6 rows. Native and jax backends (:func:`_whiten_jax`); chains
        start one sd off the mode (:func:`~bayesgmm.backends.laplace.typical_start`). The
        trace's variables are unchanged; nutpie's statistics refer to the whitened z.
    chain_starts : ChainStarts, optional
        Where some chains start instead, exactly (:mod:`bayesgmm.backends.starts`); not on
        nutpie's public route (an unchecked nutpie), where ``chain_starts.asked`` stays empty.
    **kwargs
        Passed to ``nutpie.compile_pymc_model`` (e.g. ``var_names``; numba backend only).

    Returns
    -------
    nutpie.CompiledModel
        :func:`backend_of` says which route it is.
    """
    if backend not in NUTPIE_BACKENDS:
        raise ValueError(f"backend must be one of {NUTPIE_BACKENDS}; got {backend!r}")
    auto = backend == "auto"
    altered = _altered(model)
    if auto:
        backend = "numba" if kwargs or altered else "native"
    elif backend == "native" and altered:
        raise ValueError(f"the native backend evaluates the model build_model makes; this one "
                         f"was changed afterwards ({altered}): use backend='numba'")
    if kwargs and backend != "numba":
        raise ValueError(f"keyword arguments {sorted(kwargs)} are for the numba backend only")
    if laplace and backend not in ("native", "jax"):
        raise ValueError(f"laplace=True needs the native or jax backend; got backend={backend!r}"
                         + (" ('auto' took it: the model was changed after build_model)"
                            if auto else ""))
    if backend == "jax":
        reuse = False  # its data sit on the device inside the compiled model: never share it
    key = (backend, *_structure_key(model, kwargs))
    with _NUTPIE_LOCK:
        compiled = _NUTPIE_CACHE.get(key) if reuse else None
        if compiled is not None:
            _NUTPIE_CACHE.move_to_end(key)
        else:
            compiled, backend = _compile_for_nutpie(model, backend, auto, reuse, kwargs)
            if reuse and compiled is not None:
                _NUTPIE_CACHE[(backend, *key[1:])] = compiled
                while len(_NUTPIE_CACHE) > _NUTPIE_CACHE_SIZE:
                    _NUTPIE_CACHE.popitem(last=False)
    if compiled is not None:
        try:
            compiled = with_shared_data(compiled, _shared_data(model))
        except NutpieVersionError as exc:  # a model cached before the check failed (tests)
            if not auto:
                raise
            warn(f"bayesgmm's native nutpie model is unavailable ({exc!r}); using "
                 "nutpie's numba backend", RuntimeWarning, skip_file_prefixes=IN_PACKAGE)
            compiled = None
    if compiled is None:  # another nutpie release: its public numba route, the start compiled in
        return _compile_public(model, start, jitter, laplace, kwargs)
    coords = dict(compiled.coords or {})
    if "observation" in coords:
        coords["observation"] = pd.Index(model.coords["observation"])

    # The flat unconstrained start, in nutpie's order (the model's free variables). The forward
    # transforms are the layout's (unconstrained_point), so that no PyTensor function is
    # compiled for it; with no start, PyMC's own initial point.
    if start:
        flat = unconstrained_point(model_spec(model), start)
    else:
        point = model.initial_point()
        flat = np.concatenate([np.asarray(point[model.rvs_to_values[rv].name],
                                          np.float64).ravel() for rv in model.free_RVs])
    if flat.shape != (compiled.n_dim,):
        raise RuntimeError("initial point does not match the compiled model's dimension")
    others = [unconstrained_point(model_spec(model), point)
              for point in (chain_starts.points if chain_starts else ())]
    if jitter <= 0 and not altered:
        density = native_density(model_spec(model), _shared_data(model))
        flat = startable_point(flat, density)
        others = [startable_point(other, density) for other in others]
    to_sampler = np.array
    if laplace and backend == "jax":
        compiled, to_sampler = _whiten_jax(compiled, flat)
    elif laplace:
        compiled = compiled.with_laplace(flat)
        to_sampler = compiled.to_sampler

    whitening = whitening_of(compiled)  # (mode, A); chains start one sd off the mode
    def start(seed=None):
        if jitter <= 0:
            if whitening is not None:
                return typical_start(density_of(compiled), *whitening, to_sampler(flat), seed)
            return to_sampler(flat)
        rng = np.random.default_rng(seed)
        return to_sampler(flat + jitter * rng.standard_normal(flat.shape))
    # the other chains exactly at the other starts, whitened or not: to start apart
    starts = start_function(start, [to_sampler(o) for o in others], chain_starts)
    return with_start(compiled, coords, starts)


def _compile_public(model: pm.Model, start, jitter: float, laplace: bool, kwargs):
    """nutpie's numba route through nutpie's public API alone (``compile_pymc_model``), for a
    nutpie release whose internals bayesgmm was not checked against.

    The start goes in when it compiles (``initial_points``: the constrained start, exact with
    ``jitter_rvs=set()``; with no start, the model's initial point). Lost against the checked
    route, which re-starts a compiled model by writing its private fields (``with_start``):
    the cache of compiled models (the start is part of the model, so every call compiles: ~45 s
    of PyTensor on a new machine and 15-20 s of nutpie's wrapper); the per-chain Gaussian
    ``jitter`` (every chain starts at the start itself) and the Laplace whitening (a native
    model's), each with a RuntimeWarning when asked for; and :func:`startable_point`'s move
    off an exact zero of the gradient (nutpie may then refuse an EM start of tiny, symmetric
    data: "All initialization points failed").
    """
    import nutpie

    lost = ([f"jitter={jitter} (every chain starts at the start)"] if jitter > 0 else []) + (
        ["laplace=True (no whitening)"] if laplace else [])
    if lost:
        warn(f"not applied with this nutpie release (its public API only): "
             f"{'; '.join(lost)}", RuntimeWarning, skip_file_prefixes=IN_PACKAGE)
    return nutpie.compile_pymc_model(model, backend="numba", jitter_rvs=set(),
                                     initial_points=dict(start) if start else None, **kwargs)


def _compile_for_nutpie(model, backend, auto, reuse, kwargs):
    """Compile with ``backend``; returns (compiled, the backend actually used), compiled None
    for the numba route of an unchecked nutpie (:func:`_compile_public`, given the start).

    Called with ``_NUTPIE_LOCK`` held."""
    if backend == "native":
        try:
            return _compile_native(model), backend
        except NutpieVersionError as exc:
            # The installed nutpie is not a checked release (nutpie_model's version check):
            # "auto" falls back to nutpie's public route. Any other error (a bug in
            # compile_native, say) propagates.
            if not auto:
                raise
            warn(f"bayesgmm's native nutpie model is unavailable ({exc!r}); using "
                 "nutpie's numba backend", RuntimeWarning, skip_file_prefixes=IN_PACKAGE)
            backend = "numba"
            cached = _NUTPIE_CACHE.get((backend, *_structure_key(model, kwargs)))
            if reuse and cached is not None:
                return cached, backend
    if backend == "pyfunc":
        return _compile_pyfunc(model), backend
    if backend == "jax":
        return _compile_jax(model), backend
    if not nutpie_checked():
        return None, backend
    import nutpie

    return nutpie.compile_pymc_model(model, backend="numba", jitter_rvs=set(), **kwargs), backend


def _altered(model: pm.Model) -> str:
    """What was added to a ``build_model`` model after it was built ('' if nothing)."""
    spec = model_spec(model)
    changes = []
    if tuple(rv.name for rv in model.free_RVs) != spec.free_names:
        changes.append("free variables")
    if model.potentials:
        changes.append("potentials")
    if [rv.name for rv in model.observed_RVs] != [OBSERVED]:
        changes.append("observed variables")
    if [var.name for var in model.deterministics] != list(deterministics(spec)):
        changes.append("deterministics")
    return ", ".join(changes)


def _nutpie_dims_and_coords(model: pm.Model, names, shapes, reparameterized):
    """dims and coords as nutpie builds them (``unconstrained_parameter`` labels included)."""
    coords = {name: pd.Index(values) for name, values in model.coords.items()}
    value_names = {v.name for v in model.value_vars}
    labels = []
    for name, shape in zip(names, shapes, strict=True):
        if name not in value_names:
            continue
        labels += [f"{name}_{'.'.join(map(str, idx))}" if idx else name
                   for idx in np.ndindex(*shape)]
    coords["unconstrained_parameter"] = pd.Index(labels)
    dims = dict(model.named_vars_to_dims)
    value_to_rv = {v.name: rv.name for v, rv in model.values_to_rvs.items()}
    shape_of = dict(zip(names, map(tuple, shapes), strict=True))
    for name in reparameterized:
        rv = value_to_rv.get(name)
        if rv in dims and shape_of.get(rv) == shape_of.get(name):
            dims[name] = dims[rv]
    return dims, coords


def _compile_native(model: pm.Model):
    """nutpie model over the native density's cached C callbacks (no PyTensor compile)."""
    names, shapes, reparameterized = trace_layout(model)
    dims, coords = _nutpie_dims_and_coords(model, names, shapes, reparameterized)
    return compile_native(model_spec(model), _shared_data(model), names=names, shapes=shapes,
                          dims=dims, coords=coords, reparameterized_names=reparameterized,
                          initial_point_func=None)


def _compile_pyfunc(model: pm.Model):
    """nutpie model calling PyTensor's numba-compiled functions (disk-cached) through Python
    (:func:`~bayesgmm.backends.nutpie_model.compile_pyfunc`)."""
    return compile_pyfunc(model, _shared_data(model), functools.partial(_nutpie_dims_and_coords,
                                                                        model))


def _compile_jax(model: pm.Model):
    """nutpie model over the JAX density (:mod:`bayesgmm.backends.jax`), for accelerators.

    The standardised data are put on the device(s) once, rows split over all of them
    (:func:`~bayesgmm.backends.jax.shard_rows`); nutpie calls the jitted value-and-gradient
    through Python (XLA releases the GIL while it runs, so chains overlap), and the trace's
    values come from the native ``expand`` (the same numbers, on the CPU). Not cached across
    fits (the data are part of the compiled closure). :func:`_whiten_jax` makes the Laplace-
    whitened twin of the returned model from the same compiled function and device data.
    """
    import jax

    from .jax import make_logp, shard_rows
    from .native import COVARIANCE_CODES
    from .native import expand as native_expand

    spec = model_spec(model)
    if spec.noise or _has_plan(model):
        raise ValueError("the jax backend has no missing values, weights, labels or noise "
                         "component; use backend='native'")
    names, shapes, reparameterized = trace_layout(model)
    X, g = shard_rows(model[DATA].get_value())
    value_and_grad = jax.jit(jax.value_and_grad(make_logp(spec)))
    K, D = spec.n_components, spec.n_features
    code, ordered = COVARIANCE_CODES[spec.covariance_type], int(spec.ordered_means)
    positions = correlation_positions(D)
    center = np.asarray(model[CENTER].get_value(), dtype=np.float64)
    scale = np.asarray(model[SCALE].get_value(), dtype=np.float64)
    sizes = [int(np.prod(shape)) for shape in shapes]
    n_dim = sum(block.size for block in spec.blocks)
    dims, coords = _nutpie_dims_and_coords(model, names, shapes, reparameterized)

    def density(theta):
        """theta (unconstrained) -> (log density, gradient), on the host."""
        value, grad = value_and_grad(theta, X, g)
        return float(value), np.asarray(grad, dtype=np.float64, order="C")

    def build(whitening=None):
        # whitening (shift, A, A_inv): the sampler's z maps to theta = shift + A z, with
        # d log p / dz = A^T d log p / dtheta (a linear map: no Jacobian term).
        def to_theta(x):
            x = np.asarray(x, dtype=np.float64)
            return x if whitening is None else whitening[0] + whitening[1] @ x

        def make_logp_fn():
            def logp(x, **shared):
                value, grad = density(to_theta(x))
                if whitening is not None:
                    grad = np.ascontiguousarray(whitening[1].T @ grad)
                return value, grad

            return logp

        make_logp_fn.bayesgmm_backend = "jax"  # how backend_of tells it from the pyfunc route
        make_logp_fn.bayesgmm_density = density
        make_logp_fn.bayesgmm_build = build
        make_logp_fn.bayesgmm_whitening = whitening

        def make_expand_fn(seed1, seed2, chain):
            out = np.empty(sum(sizes))

            def expand(x, **shared):
                native_expand(to_theta(x), K, D, code, ordered, positions, center, scale, out)
                parts = np.split(out, np.cumsum(sizes)[:-1])
                return {name: part.reshape(shape).copy()
                        for name, part, shape in zip(names, parts, shapes, strict=True)}

            return expand

        return pyfunc_model(
            ndim=n_dim, make_logp_fn=make_logp_fn, make_expand_fn=make_expand_fn,
            make_initial_point_fn=lambda seed: np.zeros(n_dim),
            expanded_dtypes=[np.dtype(np.float64)] * len(names), expanded_shapes=shapes,
            # copies: from_pyfunc adds to the dims it is given (the whitened twin then failed)
            expanded_names=names, dims=dict(dims), coords=dict(coords),
            shared_data=_shared_data(model),
            reparameterized_names=reparameterized,
        )

    return build()


def _whiten_jax(compiled, flat: np.ndarray):
    """The Laplace-whitened twin of a jax-route model, and its map to the sampler's coordinates.

    As :meth:`NativeMixtureModel.with_laplace` does for the native route: Newton from ``flat``
    to the mode, the inverse negative Hessian there as the metric
    (:func:`~bayesgmm.backends.laplace.laplace_whitening`); the model unchanged (and the
    identity map) when no usable curvature is found.
    """
    factory = logp_factory(compiled)
    found = laplace_whitening(factory.bayesgmm_density, flat)
    if found is None:
        return compiled, np.array
    shift, _, inverse = found
    return factory.bayesgmm_build(found), lambda theta: inverse @ (theta - shift)
