"""The native nutpie model: C callbacks over the numba density, and nutpie's internals.

Where it sits: estimation layer, in :mod:`bayesgmm.backends`. Imports the layout
(:mod:`bayesgmm.layout`), the numba density (:mod:`bayesgmm.backends.native`) and the Laplace
whitening (:mod:`bayesgmm.backends.laplace`); imported by :mod:`bayesgmm.backends.nutpie`.

Every use of nutpie's private API is here, behind one version check (:data:`NUTPIE_CHECKED`;
PyTensor's own, :data:`bayesgmm.pytensor_numba.PYTENSOR_CHECKED`, too for the pyfunc route's
compiled functions), which raises
:class:`NutpieVersionError` on another release: :class:`NativeMixtureModel` fills in nutpie's
``CompiledPyMCModel`` with :func:`callbacks` (numba cfuncs that nutpie's Rust sampler calls from
every chain's thread, no Python and no GIL in the loop); :func:`with_start` and
:func:`with_shared_data` rewrite a compiled model's private fields; :func:`compile_pyfunc` and
:func:`pyfunc_model` build the pyfunc and JAX routes on ``_make_functions`` and ``from_pyfunc``;
:func:`init_seed_chains` restates how nuts-rs seeds each chain's call of the start function.
:mod:`bayesgmm.backends.nutpie` holds only the orchestration over nutpie's public API; on
another nutpie release ``compile_nutpie("auto")`` takes nutpie's public numba route alone.
Over 500 lines: it is that one module behind the version check, callbacks and all.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba import types
from numba.extending import intrinsic

from .._numba_cache import jit  # its cache keys cover imported sources
from ..layout import (
    DATA_NAMES,
    PLAN_NAMES,
    MixtureModelSpec,
    correlation_positions,
    n_dim,
)
from ..pytensor_numba import PYTENSOR_CHECKED, PYTENSOR_PROBLEM, jitted_core
from ..versions import release_problem
from .laplace import laplace_whitening
from .native import (
    COVARIANCE_CODES,
    expand_values,
    logp_and_gradient,
    logp_and_gradient_plan,
    prior_parameters,
)

__all__ = [
    "NUTPIE_CHECKED",
    "PYTENSOR_CHECKED",  # its home is pytensor_numba; here too, where it was
    "NativeMixtureModel",
    "NutpieVersionError",
    "backend_of",
    "callbacks",
    "init_seed_chains",
    "density_of",
    "is_whitened",
    "logp_factory",
    "whitening_of",
    "compile_native",
    "compile_pyfunc",
    "native_density",
    "nutpie_checked",
    "pyfunc_model",
    "with_shared_data",
    "with_start",
]

# nutpie releases whose private classes (CompiledPyMCModel's fields, compile_pymc's
# _make_functions, compiled_pyfunc.from_pyfunc) the native and pyfunc routes were checked
# against: [first, last] as (major, minor).
NUTPIE_CHECKED = ((0, 16), (0, 16))


class NutpieVersionError(ImportError):
    """The installed nutpie (or, for the pyfunc route, PyTensor) is not a release whose
    internals bayesgmm was checked against: only nutpie's public API may be used."""


_NUTPIE_PROBLEM = release_problem("nutpie", NUTPIE_CHECKED, "native and pyfunc routes")
if _NUTPIE_PROBLEM:  # pragma: no cover - another nutpie: only its public numba route is used
    CompiledPyMCModel = object
else:
    from nutpie.compile_pymc import CompiledPyMCModel


def nutpie_checked() -> bool:
    """Whether the installed nutpie is one of :data:`NUTPIE_CHECKED` (its internals usable)."""
    return not _NUTPIE_PROBLEM


def _check(*problems: str) -> None:
    """The gate: raise :class:`NutpieVersionError` for the first problem, if any."""
    for problem in problems:
        if problem:
            raise NutpieVersionError(problem)


def with_start(compiled: Any, coords: Mapping[str, Any], make_initial_points: Callable):
    """``compiled`` with its coords and its initial-point function (seed -> flat start) replaced.

    nutpie's public API takes the start only when it compiles (``compile_pymc_model``'s
    ``initial_points``), so a cached model is re-started by writing its private dataclass
    fields: ``_coords``, and ``initial_point_func`` (``CompiledPyMCModel``, the native model)
    or ``_make_initial_points`` (``PyFuncModel``). Raises :class:`NutpieVersionError` on
    another nutpie.
    """
    _check(_NUTPIE_PROBLEM)
    from nutpie.compiled_pyfunc import PyFuncModel

    field = "_make_initial_points" if isinstance(compiled, PyFuncModel) else "initial_point_func"
    return dataclasses.replace(compiled, _coords=coords, **{field: make_initial_points})


_M32, _M64 = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF


def _pcg32_key(state: int) -> list[int]:
    """rand_core's ``SeedableRng::seed_from_u64``: eight PCG32 outputs, a ChaCha key."""
    words = []
    for _ in range(8):
        state = (state * 6364136223846793005 + 11634580027462260723) & _M64
        xorshifted = (((state >> 18) ^ state) >> 27) & _M32
        rot = state >> 59
        words.append(((xorshifted >> rot) | (xorshifted << ((32 - rot) % 32))) & _M32)
    return words


def _chacha8_block(key: list[int], stream: int) -> list[int]:
    """Block 0 of ``stream`` of ChaCha8 under ``key``: sixteen 32-bit words."""
    def rotl(x: int, n: int) -> int:
        return ((x << n) | (x >> (32 - n))) & _M32

    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574, *key, 0, 0,
             stream & _M32, stream >> 32]
    x = state[:]
    for _ in range(4):  # 8 rounds: columns, then diagonals
        for a, b, c, d in ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
                           (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14)):
            x[a] = (x[a] + x[b]) & _M32
            x[d] = rotl(x[d] ^ x[a], 16)
            x[c] = (x[c] + x[d]) & _M32
            x[b] = rotl(x[b] ^ x[c], 12)
            x[a] = (x[a] + x[b]) & _M32
            x[d] = rotl(x[d] ^ x[a], 8)
            x[c] = (x[c] + x[d]) & _M32
            x[b] = rotl(x[b] ^ x[c], 7)
    return [(x[i] + state[i]) & _M32 for i in range(16)]


def init_seed_chains(run_seed: int, chains: int, tries: int = 4) -> dict[int, int]:
    """The seed nutpie passes to a model's start function -> the chain that asks with it.

    nutpie has no public per-chain start (``sample(init_mean=...)`` is ignored: nutpie issue
    #198), but the seed is a pure function of (run seed, chain, try): nuts-rs 0.18 (nutpie
    0.16) seeds ``ChaCha8Rng::seed_from_u64(run_seed)`` on stream ``chain + 1``, takes eight
    words for the chain's own generator and then one u64 per try (a retry only when the
    sampler refuses the point before). So a start function can tell its chain from the seed
    alone, whatever order the threads call it in. A seed missing from the table means that
    nutpie derives it otherwise now: the caller notices (every chain must have asked).
    Raises :class:`NutpieVersionError` on another nutpie.

    Parameters
    ----------
    run_seed : int
        The seed given to ``nutpie.sample`` (0 <= seed < 2**64).
    chains : int
        The number of chains.
    tries : int, default 4
        Tries per chain mapped (ChaCha's block 0 holds four).

    Returns
    -------
    dict of int to int
    """
    _check(_NUTPIE_PROBLEM)
    key = _pcg32_key(int(run_seed) & _M64)
    table = {}
    for chain in range(chains):
        words = _chacha8_block(key, chain + 1)[8:]
        for k in range(min(tries, 4)):
            table[words[2 * k] | (words[2 * k + 1] << 32)] = chain
    return table


def with_shared_data(compiled: Any, data: Mapping[str, np.ndarray]):
    """``compiled.with_data`` with those of ``data`` the model reads (nutpie's numba route knows
    only the shared variables in its graph, its ``shared_var_keys``: a plan model's likelihood
    reads the plan, not x_std). Raises :class:`NutpieVersionError` on another nutpie."""
    _check(_NUTPIE_PROBLEM)
    if getattr(compiled, "shared_var_keys", None):
        known = {var.name for var in compiled.shared_var_keys}
        data = {name: value for name, value in data.items() if name in known}
    return compiled.with_data(**data)


def pyfunc_model(**fields: Any):
    """nutpie's ``from_pyfunc(**fields)`` (not in its public API): a model whose density nutpie
    calls through Python. Raises :class:`NutpieVersionError` on another nutpie."""
    _check(_NUTPIE_PROBLEM)
    from nutpie.compiled_pyfunc import from_pyfunc

    return from_pyfunc(**fields)


def compile_pyfunc(model: Any, shared_data: Mapping[str, np.ndarray], dims_and_coords: Callable):
    """nutpie model calling PyTensor's numba-compiled functions (disk-cached) through Python.

    Built like nutpie's JAX route (``nutpie.compile_pymc``): its ``_make_functions`` gives
    the logp-and-gradient and the expand functions of the flat unconstrained point, compiled in
    PyTensor's NUMBA mode; nutpie calls their jitted cores (``fn.vm.jit_fn``: pure functions,
    safe to call from every chain's thread) with the data from its shared data, so
    ``with_data`` works. ``dims_and_coords``: (names, shapes, reparameterized) -> (dims,
    coords) as nutpie builds them. Raises :class:`NutpieVersionError` on another nutpie or
    PyTensor.
    """
    _check(_NUTPIE_PROBLEM, PYTENSOR_PROBLEM)
    import pymc as pm
    from nutpie.compile_pymc import _make_functions

    initial = pm.initial_point.make_initial_point_fn(
        model=model, jitter_rvs=set(), return_transformed=True)
    n_dim, _, logp_fn, expand_fn, initial_point_fn, shape_info, reparameterized = (
        _make_functions(model, mode="NUMBA", compute_grad=True, join_expanded=False,
                        pymc_initial_point_fn=initial))
    names, _, shapes = shape_info
    logp_jit, expand_jit = jitted_core(logp_fn), jitted_core(expand_fn)
    logp_data = [var.name for var in logp_fn.get_shared()]
    expand_data = [var.name for var in expand_fn.get_shared()]

    def make_logp_fn():
        def logp(x, **shared):
            value, grad = logp_jit(x, *[shared[name] for name in logp_data])
            return float(value), np.asarray(grad, dtype=np.float64, order="C")

        return logp

    def make_expand_fn(seed1, seed2, chain):
        def expand(x, **shared):
            values = expand_jit(x, *[shared[name] for name in expand_data])
            return {name: np.asarray(value, dtype=np.float64, order="C").reshape(shape)
                    for name, value, shape in zip(names, values, shapes, strict=True)}

        return expand

    dims, coords = dims_and_coords(names, shapes, reparameterized)
    return pyfunc_model(
        ndim=n_dim, make_logp_fn=make_logp_fn, make_expand_fn=make_expand_fn,
        make_initial_point_fn=initial_point_fn,
        expanded_dtypes=[np.dtype(np.float64)] * len(names), expanded_shapes=shapes,
        expanded_names=names, dims=dims, coords=coords, shared_data=dict(shared_data),
        reparameterized_names=reparameterized,
    )


def logp_factory(compiled: Any):
    """The ``make_logp_fn`` a pyfunc model was made with (nutpie keeps it in a private field;
    the jax route hangs its density and whitening on it), or None."""
    return getattr(compiled, "_make_logp_func", None)


def whitening_of(compiled: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(mode, A) of a model from ``compile_nutpie`` that samples in Laplace-whitened
    coordinates (theta = mode + A z), else None."""
    if isinstance(compiled, NativeMixtureModel):
        if not compiled.whitened:
            return None
        return compiled.shared_data["laplace_shift"], compiled.shared_data["laplace_map"]
    found = getattr(logp_factory(compiled), "bayesgmm_whitening", None)
    return None if found is None else (found[0], found[1])


def density_of(compiled: Any):
    """theta -> (log p, gradient) of a native or jax-route model, on the data it holds (no
    copy of them: the native model's frozen arrays, the jax route's device arrays)."""
    if isinstance(compiled, NativeMixtureModel):
        return compiled.density()
    return logp_factory(compiled).bayesgmm_density


def is_whitened(compiled: Any) -> bool:
    """Whether a model from ``compile_nutpie`` samples in Laplace-whitened coordinates."""
    return whitening_of(compiled) is not None


def backend_of(compiled: Any) -> str:
    """Which route a model from ``compile_nutpie`` takes: "native", "numba", "pyfunc", "jax".

    Read off the model's type (NativeMixtureModel subclasses nutpie's CompiledPyMCModel, so it
    is asked first), never guessed from its attributes.
    """
    if isinstance(compiled, NativeMixtureModel):
        return "native"
    if _NUTPIE_PROBLEM:  # another nutpie: compile_nutpie only takes its public numba route
        return "numba"
    from nutpie.compiled_pyfunc import PyFuncModel

    if isinstance(compiled, PyFuncModel):
        # The JAX route is a pyfunc model too; its logp factory says so (backends.nutpie).
        jax = getattr(logp_factory(compiled), "bayesgmm_backend", "") == "jax"
        return "jax" if jax else "pyfunc"
    if isinstance(compiled, CompiledPyMCModel):
        return "numba"
    raise TypeError(f"compile_nutpie returned an unknown model type {type(compiled).__name__}")


# --------------------------------------------------------------------------------------------
# C callbacks
# --------------------------------------------------------------------------------------------
@intrinsic
def _void_pointer(typingctx, address):
    """An int64 address as a void pointer (for numba.carray)."""
    if address != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], llvm_ir.IntType(8).as_pointer())

    return types.voidptr(types.int64), codegen


# The user-data block nutpie hands to the callbacks: int64 fields.
(_X, _N, _D, _K, _CT, _ORDERED, _POSITIONS, _M, _PARAMS, _CENTER, _SCALE, _NDIM, _NEXP,
 _WHITENED, _SHIFT, _MAP) = range(16)
# The row plan (missing values, weights, labels, noise; 0 in _PLAN: none) and the noise flag.
(_PLAN, _NOISE, _PX, _PN, _PG, _PGN, _PBOUNDS, _PGROUPS, _PCOLUMNS, _PNOBS, _PLABEL,
 _PNOISE) = range(16, 28)
# The length of the density's table at _PARAMS (native.prior_parameters: the layout's blocks).
_NPARAMS = 28
_HEADER = 29
# The plan's integer arrays, as the native density reads them (pm.Data stores int32).
_PLAN_INTS = ("plan_bounds", "plan_columns", "plan_n_obs", "plan_label")

_LOGP_SIGNATURE = types.int64(types.uint64, types.CPointer(types.double),
                              types.CPointer(types.double), types.CPointer(types.double),
                              types.voidptr)
_EXPAND_SIGNATURE = types.int64(types.uint64, types.uint64, types.CPointer(types.double),
                                types.CPointer(types.double), types.voidptr)


@jit(nogil=True, error_model="numpy")
def _unpack_header(user_data):
    h = numba.carray(user_data, (_HEADER,), np.int64)
    X = numba.carray(_void_pointer(h[_X]), (h[_N], h[_D]), np.float64)
    positions = numba.carray(_void_pointer(h[_POSITIONS]), (h[_M], 2), np.int64)
    params = numba.carray(_void_pointer(h[_PARAMS]), (h[_NPARAMS],), np.float64)
    center = numba.carray(_void_pointer(h[_CENTER]), (h[_D],), np.float64)
    scale = numba.carray(_void_pointer(h[_SCALE]), (h[_D],), np.float64)
    return h, X, positions, params, center, scale


@jit(nogil=True, error_model="numpy")
def _plan_logp(h, theta, positions, params, center, scale, grad):
    """The density over the row plan whose arrays the header points at."""
    G = h[_PGROUPS]
    PX = numba.carray(_void_pointer(h[_PX]), (h[_PN], h[_D]), np.float64)
    PG = numba.carray(_void_pointer(h[_PG]), (h[_PGN],), np.float64)
    bounds = numba.carray(_void_pointer(h[_PBOUNDS]), (G + 1,), np.int64)
    columns = numba.carray(_void_pointer(h[_PCOLUMNS]), (G, h[_D]), np.int64)
    n_obs = numba.carray(_void_pointer(h[_PNOBS]), (G,), np.int64)
    label = numba.carray(_void_pointer(h[_PLABEL]), (G,), np.int64)
    log_noise = numba.carray(_void_pointer(h[_PNOISE]), (G,), np.float64)
    return logp_and_gradient_plan(theta, PX, PG, bounds, columns, n_obs, label, log_noise,
                                  center, scale, h[_K], h[_CT], h[_ORDERED], h[_NOISE],
                                  positions, params, grad)


@jit(nogil=True, error_model="numpy")
def _to_theta(h, z):
    """The model's unconstrained point: z itself, or shift + A z when the sampler works in
    Laplace-whitened coordinates (see :func:`laplace_whitening`); returns (theta, A or None)."""
    if h[_WHITENED] == 0:
        return z.copy(), np.zeros((0, 0))
    n = z.shape[0]
    shift = numba.carray(_void_pointer(h[_SHIFT]), (n,), np.float64)
    A = numba.carray(_void_pointer(h[_MAP]), (n, n), np.float64)
    theta = shift.copy()
    _add_product(A, z, theta)
    return theta, A


@jit(nogil=True, fastmath={"reassoc", "contract"})
def _add_product(A, z, out):
    """out += A z. Each row's dot product is a sum that only reassociation lets numba
    vectorise (6x faster at 329 parameters); the map is dense, n x n, at every gradient."""
    for i in range(A.shape[0]):
        acc = 0.0
        for j in range(A.shape[1]):
            acc += A[i, j] * z[j]
        out[i] += acc


@jit(nogil=True)
def _transpose_product(A, g, out):
    """out = A^T g, row by row: A's rows are contiguous, so each step is a vectorised
    axpy (a column-wise dot product strides through memory: 6x slower at 329 parameters)."""
    out[:] = 0.0
    for i in range(A.shape[0]):
        g_i = g[i]
        for j in range(A.shape[1]):
            out[j] += A[i, j] * g_i


@functools.cache
def callbacks() -> tuple[Any, Any]:
    """The (log-density, expand) C callbacks: numba cfuncs, compiled on first use (~20 s on a
    new machine, then loaded from numba's disk cache) rather than when the module is imported.

    Return codes as in nutpie's own numba callbacks: 3 and 4 (non-finite gradient or value) are
    recoverable (a divergence), the others are errors.
    """

    @numba.cfunc(_LOGP_SIGNATURE, cache=True)
    def logp_callback(dim, x_, out_, logp_, user_data):
        try:
            h, X, positions, params, center, scale = _unpack_header(user_data)
            if dim != h[_NDIM]:
                return -1
            x = numba.carray(x_, (dim,))
            grad = numba.carray(out_, (dim,))
            log_jacobian = 0.0
            for d in range(h[_D]):
                log_jacobian -= math.log(scale[d])
            if h[_WHITENED] == 0:
                # The density reads nutpie's position and writes nutpie's gradient buffer
                # directly: no copy of either and no allocation here, a fixed per-call cost
                # that shows at small N (the density only reads theta).
                theta, grad_theta = x, grad
            else:
                theta, _ = _to_theta(h, x)
                grad_theta = np.empty(dim)
            if h[_PLAN]:
                value = _plan_logp(h, theta, positions, params, center, scale, grad_theta)
            else:
                value = logp_and_gradient(theta, X, h[_K], h[_CT], h[_ORDERED], positions,
                                          params, log_jacobian, grad_theta)
            if h[_WHITENED] != 0:  # d/dz = A^T d/dtheta
                A = numba.carray(_void_pointer(h[_MAP]), (dim, dim), np.float64)
                _transpose_product(A, grad_theta, grad)
            numba.carray(logp_, (1,))[0] = value
            for g in grad:
                if not math.isfinite(g):
                    return 3
            if not math.isfinite(value):
                return 4
        except Exception:  # noqa: BLE001
            return 1
        return 0

    @numba.cfunc(_EXPAND_SIGNATURE, cache=True)
    def expand_callback(dim, n_expanded, x_, out_, user_data):
        try:
            h, X, positions, params, center, scale = _unpack_header(user_data)
            if dim != h[_NDIM] or n_expanded != h[_NEXP]:
                return -1
            theta, _ = _to_theta(h, numba.carray(x_, (dim,)))
            expand_values(theta, h[_K], h[_D], h[_CT], h[_ORDERED], h[_NOISE], positions,
                          params, center, scale, numba.carray(out_, (n_expanded,)))
        except Exception:  # noqa: BLE001
            return -2
        return 0

    return logp_callback, expand_callback


# --------------------------------------------------------------------------------------------
# the native nutpie model
# --------------------------------------------------------------------------------------------


def _header(arrays: Mapping[str, np.ndarray], spec: MixtureModelSpec, n_dim: int,
            n_expanded: int) -> np.ndarray:
    X = arrays["x_std"]
    header = np.zeros(_HEADER, dtype=np.int64)
    header[_X] = X.ctypes.data
    header[_N], header[_D] = X.shape
    header[_K] = spec.n_components
    header[_CT] = COVARIANCE_CODES[spec.covariance_type]
    header[_ORDERED] = int(spec.ordered_means)
    header[_POSITIONS] = arrays["positions"].ctypes.data
    header[_M] = arrays["positions"].shape[0]
    header[_PARAMS] = arrays["params"].ctypes.data
    header[_NPARAMS] = arrays["params"].shape[0]
    header[_CENTER] = arrays["x_center"].ctypes.data
    header[_SCALE] = arrays["x_scale"].ctypes.data
    header[_NDIM], header[_NEXP] = n_dim, n_expanded
    header[_NOISE] = int(spec.noise)
    if "plan_x" in arrays:
        header[_PLAN] = 1
        header[_PX] = arrays["plan_x"].ctypes.data
        header[_PN] = arrays["plan_x"].shape[0]
        header[_PG] = arrays["plan_g"].ctypes.data
        header[_PGN] = arrays["plan_g"].shape[0]
        header[_PBOUNDS] = arrays["plan_bounds"].ctypes.data
        header[_PGROUPS] = arrays["plan_bounds"].shape[0] - 1
        header[_PCOLUMNS] = arrays["plan_columns"].ctypes.data
        header[_PNOBS] = arrays["plan_n_obs"].ctypes.data
        header[_PLABEL] = arrays["plan_label"].ctypes.data
        header[_PNOISE] = arrays["plan_noise"].ctypes.data
    if "laplace_shift" in arrays:
        header[_WHITENED] = 1
        header[_SHIFT] = arrays["laplace_shift"].ctypes.data
        header[_MAP] = arrays["laplace_map"].ctypes.data
    return header


def _frozen(value: Any, dtype=np.float64) -> np.ndarray:
    array = np.array(value, dtype=dtype, order="C", copy=True)
    array.flags.writeable = False
    return array


@dataclasses.dataclass(frozen=True)
class NativeMixtureModel(CompiledPyMCModel):
    """nutpie's numba model, its callbacks and user data supplied by this module.

    ``shared_data`` holds the arrays the user-data header points at; :meth:`with_data` swaps the
    data set (``x_std``, ``x_center``, ``x_scale``) with no compilation.
    """

    spec: Any = dataclasses.field(default=None, kw_only=True)

    @property
    def whitened(self) -> bool:
        """Whether the sampler works in Laplace-whitened coordinates (:meth:`with_laplace`)."""
        return "laplace_shift" in self.shared_data

    def density(self):
        """theta -> (log p, gradient) at a flat unconstrained point, on the current data."""
        return native_density(self.spec, self.shared_data)

    def with_laplace(self, theta: np.ndarray):
        """Sample in coordinates whitened by the curvature at the posterior mode.

        The mode is found by damped Newton from ``theta`` (:func:`laplace_whitening`); the
        sampler then works on z with theta = mode + A z, A A^T the inverse negative Hessian
        there, so nutpie's diagonal adaptation starts from a metric that already knows the
        posterior's scales and correlations (more ESS per gradient, less robust on
        non-Gaussian posteriors: see ``compile_nutpie(laplace=...)``). Returns the model
        unchanged when no usable curvature is found (non-finite values, no positive
        curvature).
        """
        found = laplace_whitening(self.density(), theta)
        if found is None:
            return self
        arrays = dict(self.shared_data)
        for name, value in zip(("laplace_shift", "laplace_map", "laplace_inverse"), found,
                               strict=True):
            arrays[name] = _frozen(value)
        header = _header(arrays, self.spec, self._n_dim, self.n_expanded)
        return dataclasses.replace(self, shared_data=arrays, user_data=header)

    def to_sampler(self, theta: np.ndarray) -> np.ndarray:
        """The sampler's coordinates of the unconstrained point ``theta`` (z if whitened)."""
        if not self.whitened:
            return np.array(theta, dtype=np.float64)
        return self.shared_data["laplace_inverse"] @ (theta - self.shared_data["laplace_shift"])

    def with_data(self, **updates):
        """Re-point the model at another data set (no compilation). A Laplace whitening
        belongs to the data it was computed on, so it is dropped."""
        has_plan = "plan_x" in self.shared_data
        unknown = set(updates) - set(DATA_NAMES) - (set(PLAN_NAMES) if has_plan else set())
        if unknown:
            raise KeyError(f"Unknown shared variable(s): {sorted(unknown)}")
        arrays = {name: value for name, value in self.shared_data.items()
                  if not name.startswith("laplace_")}
        for name, value in updates.items():
            new = _plan_array(name, value)
            if new.ndim != arrays[name].ndim:
                raise ValueError(f"Shared variable {name} must have rank {arrays[name].ndim}")
            arrays[name] = new
        D = self.spec.n_features
        if (arrays["x_std"].shape[1], arrays["x_center"].shape, arrays["x_scale"].shape) != (
                D, (D,), (D,)):
            raise ValueError(f"the model has {D} features; the new data do not match")
        header = _header(arrays, self.spec, self._n_dim, self.n_expanded)
        return dataclasses.replace(self, shared_data=arrays, user_data=header)


def native_density(spec: MixtureModelSpec, data: Mapping[str, np.ndarray]):
    """theta -> (log p, gradient (n_dim,)) of the model ``spec`` on ``data`` (``x_std``,
    ``x_scale``; or, for a row-plan model, the plan's arrays with ``x_center`` and
    ``x_scale``), through the numba density alone (no nutpie, no callbacks)."""
    dim = n_dim(spec)
    code, ordered = COVARIANCE_CODES[spec.covariance_type], int(spec.ordered_means)
    positions = _frozen(correlation_positions(spec.n_features), np.int64)
    params = _frozen(prior_parameters(spec))
    if "plan_x" in data:
        plan = {name: _plan_array(name, data[name]) for name in PLAN_NAMES}
        function = logp_and_gradient_plan
        args = (*(plan[name] for name in PLAN_NAMES[:7]),
                _frozen(data["x_center"]), _frozen(data["x_scale"]), spec.n_components, code,
                ordered, int(spec.noise), positions, params)
    else:
        function = logp_and_gradient
        args = (np.ascontiguousarray(data["x_std"], dtype=np.float64), spec.n_components,
                code, ordered, positions, params, -float(np.sum(np.log(data["x_scale"]))))

    def density(theta):
        grad = np.empty(dim)
        value = function(np.ascontiguousarray(theta, dtype=np.float64), *args, grad)
        return value, grad

    return density


def _plan_array(name: str, value: Any) -> np.ndarray:
    """A data array as the native density reads it (the plan's integers as int64)."""
    if name in _PLAN_INTS or name == "plan_inverse":
        return _frozen(value, np.int64)
    return _frozen(value)


def compile_native(
    spec: MixtureModelSpec,
    data: Mapping[str, np.ndarray],
    *,
    names: Sequence[str],
    shapes: Sequence[tuple[int, ...]],
    dims: Mapping[str, tuple[str, ...]],
    coords: Mapping[str, Any],
    reparameterized_names: Sequence[str],
    initial_point_func,
):
    """A nutpie model that evaluates the mixture's density through the cached C callbacks.

    Parameters
    ----------
    spec : MixtureModelSpec
    data : mapping
        ``x_std`` (N, D), ``x_center`` (D,), ``x_scale`` (D,); and the row plan's arrays
        (:data:`bayesgmm.layout.PLAN_NAMES`) when the model has one.
    names, shapes : sequence
        The trace's variables in the order :func:`expand` writes them.
    dims, coords : mapping
        As nutpie expects them (``coords`` includes ``unconstrained_parameter``).
    reparameterized_names : sequence of str
        Value variables with a transform (nutpie keeps them out of the posterior group).
    initial_point_func : callable
        seed -> flat unconstrained start.

    Returns
    -------
    NativeMixtureModel

    Raises
    ------
    NutpieVersionError
        The installed nutpie is not one of :data:`NUTPIE_CHECKED`.
    """
    _check(_NUTPIE_PROBLEM)  # the version check: NutpieVersionError for another nutpie
    arrays = {name: _plan_array(name, data[name]) for name in DATA_NAMES + PLAN_NAMES
              if name in data}
    arrays["positions"] = _frozen(correlation_positions(spec.n_features), np.int64)
    arrays["params"] = _frozen(prior_parameters(spec))
    dim = n_dim(spec)
    sizes = [math.prod(shape) for shape in shapes]
    n_expanded = sum(sizes)
    slices = [slice(a, b) for a, b in itertools.pairwise(np.cumsum([0, *sizes]).tolist())]
    logp_callback, expand_callback = callbacks()
    return NativeMixtureModel(
        _n_dim=dim,
        dims=dict(dims),
        _coords=dict(coords),
        _shapes={name: tuple(shape) for name, shape in zip(names, shapes, strict=True)},
        compiled_logp_func=logp_callback,
        compiled_expand_func=expand_callback,
        initial_point_func=initial_point_func,
        shared_data=arrays,
        shared_var_keys={},
        user_data=_header(arrays, spec, dim, n_expanded),
        n_expanded=n_expanded,
        shape_info=(list(names), slices, [tuple(s) for s in shapes]),
        logp_func=None,
        expand_func=None,
        reparameterized_names=list(reparameterized_names),
        spec=spec,
    )
