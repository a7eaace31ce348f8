"""PyTensor Ops for the Gaussian-mixture log-likelihood, backed by the numba E-step kernel.

The model needs two things from the likelihood that pull in different directions:

- a **pointwise** log-density (one value per observation) so that PyMC's ``log_likelihood``
  group, and with it LOO, works;
- a **one-pass** value and gradient in the sampler's hot path: the kernel's Fisher-identity
  statistics give ``sum_n ll_n`` and its gradient from a single pass over the data, where an
  autodiff graph would cost an N x K graph and the naive Op pair (forward pointwise pass, then a
  vector-Jacobian pass) would cost two passes.

Three Ops and two graph rewrites reconcile them:

:class:`MixtureLogLikPointwise` ``(X, weights, means, chol, offset) -> ll (N,)``
    What the model's observed variable returns. ``offset`` is a scalar added to every point (the
    log-Jacobian of the standardisation, so that ``ll`` is in data units). Its pullback is the
    vector-Jacobian product :class:`MixtureLogLikVJP` with the upstream gradient ``g`` (N,).
:class:`MixtureLogLikVJP` ``(X, g, weights, means, chol) -> (d_weights, d_means, d_chol)``
    ``d/dtheta sum_n g_n ll_n``: one weighted kernel pass (the kernel takes per-point weights).
:class:`MixtureLogLikTotal` ``(X, weights, means, chol) -> (total, d_weights, d_means, d_chol)``
    ``sum_n ll_n`` and its gradient from one pass. Its pullback returns the precomputed gradient
    outputs times the upstream scalar gradient, so value and gradient share one Apply node.

Rewrites (registered in ``canonicalize``, which every compiled mode and nutpie's pre-gradient
``rewrite_graph(..., include=["canonicalize", "stabilize"])`` run):

``local_sum_mixture_pointwise``
    ``sum(MixtureLogLikPointwise(X, theta, c)) -> MixtureLogLikTotal(X, theta)[0] + N c``.
    When the gradient is taken *after* this rewrite (nutpie), the gradient graph is built from
    the Total node's own outputs: one pass.
``local_uniform_vjp_to_total``
    ``MixtureLogLikVJP(X, g, theta)`` with ``g`` a broadcast scalar ``s`` (the gradient of a sum
    is ``alloc(1, N)``) -> ``s * MixtureLogLikTotal(X, theta)[1:]``. When the gradient is taken
    *before* compilation (``pm.sample``'s own NUTS), this and the first rewrite create two equal
    Total nodes that PyTensor's merge pass fuses: again one pass.

All three Ops have a Python ``perform`` (calling the njit kernels through their CPython
wrappers) and a numba implementation, registered through
:func:`bayesgmm.pytensor_numba.numba_implementation` (PyTensor's numba dispatch is internal, so
only on a checked PyTensor release; on another one the NUMBA mode runs ``perform``), so the NUMBA
mode and nutpie's numba backend run them with no Python in the loop and PyTensor can cache the
compiled graph on disk (``config.numba__cache``, default on, under
``config.base_compiledir / "numba"``). The cache key is salted with a hash of this file,
``pytensor_numba.py`` and ``kernels.py`` because a cached caller embeds the kernel's machine
code: editing the kernel, or how it is compiled, must invalidate it. PyTensor keys a whole
compiled graph by the values of its constants, which is why the model passes the data as
shared variables (see :func:`bayesgmm.model.build_model`).

Where it sits: the math layer, between the kernel and the model; imports only
:mod:`bayesgmm.kernels`, :mod:`bayesgmm.pytensor_numba` (and PyTensor's public API); imported by
:mod:`bayesgmm.model`.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, grad_not_implemented
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.op import Op
from pytensor.graph.rewriting.basic import node_rewriter
from pytensor.scalar.basic import Second
from pytensor.tensor.basic import Alloc
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.math import Sum
from pytensor.tensor.rewriting.basic import register_canonicalize, register_specialize
from pytensor.tensor.variable import TensorConstant

from bayesgmm._numba_cache import source_salt
from bayesgmm.kernels import (
    estep_serial,
    gradient_from_statistics,
    loglik_pointwise,
    loglik_value_and_grad,
    precision_from_covariance_cholesky,
)
from bayesgmm.pytensor_numba import numba_implementation

__all__ = [
    "MixtureLogLikPointwise",
    "MixtureLogLikTotal",
    "MixtureLogLikVJP",
    "mixture_loglik_pointwise",
    "mixture_loglik_total",
    "mixture_loglik_vjp",
    "kernel_call_counts",
]


_CACHE_SALT = source_salt(__file__)

# Number of kernel passes made by the Python ``perform`` methods, per Op kind. Only the Python
# path can count (numba code cannot touch Python state); tests use it to check the one-pass
# property and the compiled graph's structure to check it for the numba path.
kernel_call_counts: dict[str, int] = {"pointwise": 0, "total": 0, "vjp": 0}


def _float64(value) -> Variable:
    """``value`` as a float64 tensor. ``as_tensor_variable(..., dtype=)`` leaves a variable's
    own dtype alone: a ``pt.constant(0.0)`` (float32 under PyTensor's floatX rules) gave the
    plan Ops a float32 output they filled with float64, which the Python ``perform`` route
    (another PyTensor release's NUMBA mode) refused to unbox (QA88)."""
    return pt.cast(pt.as_tensor_variable(value), "float64")


def _as_params(weights, means, chol) -> tuple[Variable, Variable, Variable]:
    weights = _float64(weights)
    means = _float64(means)
    chol = _float64(chol)
    if (weights.ndim, means.ndim, chol.ndim) != (1, 2, 3):
        raise TypeError(
            "expected weights (K,), means (K, D) and chol (K, D, D); got ndims "
            f"{weights.ndim}, {means.ndim}, {chol.ndim}"
        )
    return weights, means, chol


def _as_data(X) -> Variable:
    X = _float64(X)
    if X.ndim != 2:
        raise TypeError(f"X must be a matrix (N, D); got ndim {X.ndim}")
    return X


def _vjp_numpy(X, g, weights, means, chol):
    """d/dtheta sum_n g_n ll_n with one weighted kernel pass (shared by perform and numba)."""
    U, log_det = precision_from_covariance_cholesky(chol)
    empty_pw = np.empty(0)
    empty_resp = np.empty((0, means.shape[0]))
    _, nk, s1c, c = estep_serial(X, g, np.log(weights), means, U, log_det, empty_pw, empty_resp)
    return gradient_from_statistics(weights, chol, U, nk, s1c, c)


def _no_second_derivatives(op: Op, inputs) -> list:
    # Second derivatives would need more statistics than the kernel keeps.
    return [grad_not_implemented(op, i, x, "no second derivatives") for i, x in
            enumerate(inputs)]


class _VJPOp(Op):
    """A vector-Jacobian product Op (here and in :mod:`bayesgmm.plan_ops`): its outputs are
    ``gradients(*inputs)``, the gradients of the inputs from ``first_parameter`` on (shaped
    like them), from one weighted kernel pass; no second derivatives."""

    first_parameter: int

    def gradients(self, *inputs) -> tuple:
        raise NotImplementedError

    def perform(self, node, inputs, output_storage):
        kernel_call_counts["vjp"] += 1
        for storage, value in zip(output_storage, self.gradients(*inputs), strict=True):
            storage[0] = value

    def infer_shape(self, node, input_shapes):
        return list(input_shapes[self.first_parameter:])

    def pullback(self, inputs, outputs, cotangents):
        return _no_second_derivatives(self, inputs)


class MixtureLogLikPointwise(Op):
    """Pointwise mixture log-density ``ll_n + offset``.

    Inputs: ``X`` (N, D), ``weights`` (K,), ``means`` (K, D), ``chol`` (K, D, D) lower Cholesky
    factors of the covariances (full form), ``offset`` () added to every point.
    Output: (N,).
    """

    __props__ = ()

    def make_node(self, X, weights, means, chol, offset) -> Apply:
        X = _as_data(X)
        weights, means, chol = _as_params(weights, means, chol)
        offset = _float64(offset)
        if offset.ndim != 0:
            raise TypeError("offset must be a scalar")
        out = pt.tensor(dtype="float64", shape=(X.type.shape[0],))
        return Apply(self, [X, weights, means, chol, offset], [out])

    def perform(self, node, inputs, output_storage):
        X, weights, means, chol, offset = inputs
        kernel_call_counts["pointwise"] += 1
        output_storage[0][0] = loglik_pointwise(X, weights, means, chol) + offset

    def infer_shape(self, node, input_shapes):
        # Lets `ones_like(output)` (the gradient of a sum) not depend on the output itself.
        return [(input_shapes[0][0],)]

    def pullback(self, inputs, outputs, cotangents):
        X, weights, means, chol, offset = inputs
        (g,) = cotangents
        d_weights, d_means, d_chol = mixture_loglik_vjp(X, g, weights, means, chol)
        return [
            grad_not_implemented(self, 0, X, "the data are constants"),
            d_weights,
            d_means,
            d_chol,
            g.sum(),
        ]


class MixtureLogLikVJP(_VJPOp):
    """Vector-Jacobian product of :class:`MixtureLogLikPointwise`: one weighted kernel pass.

    Inputs: ``X`` (N, D), ``g`` (N,) upstream gradient, ``weights`` (K,), ``means`` (K, D),
    ``chol`` (K, D, D). Outputs: d/dweights (K,), d/dmeans (K, D), d/dchol (K, D, D) (lower
    triangular) of ``sum_n g_n ll_n``.
    """

    __props__ = ()
    first_parameter = 2

    def make_node(self, X, g, weights, means, chol) -> Apply:
        X = _as_data(X)
        g = _float64(g)
        if g.ndim != 1:
            raise TypeError("g must be a vector (N,)")
        weights, means, chol = _as_params(weights, means, chol)
        outs = [weights.type(), means.type(), chol.type()]
        return Apply(self, [X, g, weights, means, chol], outs)

    def gradients(self, X, g, weights, means, chol):
        return _vjp_numpy(X, np.ascontiguousarray(g), weights, means, chol)


class MixtureLogLikTotal(Op):
    """Total mixture log-likelihood ``sum_n ll_n`` and its gradient from one kernel pass.

    Inputs: ``X`` (N, D), ``weights`` (K,), ``means`` (K, D), ``chol`` (K, D, D).
    Outputs: total (), d/dweights (K,), d/dmeans (K, D), d/dchol (K, D, D) (lower triangular).
    The pullback of ``total`` reuses the gradient outputs, so a graph holding the value and its
    gradient evaluates one Apply node.
    """

    __props__ = ()

    def make_node(self, X, weights, means, chol) -> Apply:
        X = _as_data(X)
        weights, means, chol = _as_params(weights, means, chol)
        outs = [pt.scalar(dtype="float64"), weights.type(), means.type(), chol.type()]
        return Apply(self, [X, weights, means, chol], outs)

    def perform(self, node, inputs, output_storage):
        X, weights, means, chol = inputs
        kernel_call_counts["total"] += 1
        total, d_weights, d_means, d_chol = loglik_value_and_grad(X, weights, means, chol)
        output_storage[0][0] = np.asarray(total)
        output_storage[1][0] = d_weights
        output_storage[2][0] = d_means
        output_storage[3][0] = d_chol

    def infer_shape(self, node, input_shapes):
        return [(), *input_shapes[1:]]

    def pullback(self, inputs, outputs, cotangents):
        X, weights, means, chol = inputs
        g_total, *g_grads = cotangents
        if not all(isinstance(g.type, DisconnectedType) for g in g_grads):
            # Somebody differentiates the gradient outputs (a Hessian): not available.
            return _no_second_derivatives(self, inputs)
        _, d_weights, d_means, d_chol = outputs
        return [
            grad_not_implemented(self, 0, X, "the data are constants"),
            g_total * d_weights,
            g_total * d_means,
            g_total * d_chol,
        ]


_pointwise_op = MixtureLogLikPointwise()
_vjp_op = MixtureLogLikVJP()
_total_op = MixtureLogLikTotal()


def mixture_loglik_pointwise(X, weights, means, chol, offset=0.0) -> Variable:
    """Pointwise mixture log-density (N,) as a PyTensor variable.

    Parameters
    ----------
    X : tensor_like (N, D)
    weights : tensor_like (K,)
    means : tensor_like (K, D)
    chol : tensor_like (K, D, D)
        Lower Cholesky factors of the covariances (diag/spherical/tied in full form).
    offset : tensor_like, scalar
        Added to every point (e.g. the log-Jacobian ``-sum(log scale)`` of a standardisation).
    """
    return _pointwise_op(X, weights, means, chol, offset)


def mixture_loglik_total(X, weights, means, chol) -> Variable:
    """Total mixture log-likelihood () whose value and gradient cost one kernel pass."""
    return _total_op(X, weights, means, chol)[0]


def mixture_loglik_vjp(X, g, weights, means, chol) -> list[Variable]:
    """Gradient of ``sum_n g_n ll_n`` w.r.t. (weights, means, chol) (one weighted pass)."""
    return _vjp_op(X, g, weights, means, chol)


# --------------------------------------------------------------------------------------------
# Rewrites: one kernel pass per logp + dlogp
# --------------------------------------------------------------------------------------------
def _uniform_scalar(g: Variable) -> Variable | None:
    """The scalar ``s`` when ``g`` is known to be ``s`` broadcast to a vector, else None."""
    if isinstance(g, TensorConstant):
        data = np.asarray(g.data)
        if data.size and np.all(data == data.flat[0]):
            return pt.constant(data.flat[0], dtype="float64")
        return None
    owner = g.owner
    if owner is None:
        return None
    if isinstance(owner.op, Alloc):
        value = owner.inputs[0]
        if all(value.type.broadcastable):
            return value.reshape(()) if value.ndim else value
        return None
    if isinstance(owner.op, Elemwise) and isinstance(owner.op.scalar_op, Second):
        # fill(like, value): `ones_like` before it is canonicalised to an Alloc.
        value = owner.inputs[1]
        if all(value.type.broadcastable):
            return value.reshape(()) if value.ndim else value
        return None
    if isinstance(owner.op, DimShuffle) and owner.inputs[0].ndim == 0:
        # A 0-d value expanded to (1,): uniform (only valid when N == 1, which the type says).
        return owner.inputs[0]
    return None


@register_specialize("bayesgmm", name="local_sum_mixture_pointwise_specialize")
@register_canonicalize("bayesgmm")
@node_rewriter([Sum])
def local_sum_mixture_pointwise(fgraph, node):
    """``sum(pointwise(X, theta, c))`` -> ``total(X, theta)[0] + N * c`` (value and grad fused)."""
    (x,) = node.inputs
    if x.owner is None or not isinstance(x.owner.op, MixtureLogLikPointwise):
        return None
    if node.op.axis is not None and tuple(sorted(node.op.axis)) != (0,):
        return None
    out = node.outputs[0]
    if out.dtype != "float64":
        return None
    X, weights, means, chol, offset = x.owner.inputs
    total = _total_op(X, weights, means, chol)[0]
    n = pt.cast(X.shape[0], "float64")
    new = total + n * offset
    return [new.astype(out.dtype)]


@register_specialize("bayesgmm", name="local_uniform_vjp_to_total_specialize")
@register_canonicalize("bayesgmm")
@node_rewriter([MixtureLogLikVJP])
def local_uniform_vjp_to_total(fgraph, node):
    """``vjp(X, s * ones(N), theta)`` -> ``s * total(X, theta)[1:]`` (shares the Total node)."""
    X, g, weights, means, chol = node.inputs
    s = _uniform_scalar(g)
    if s is None:
        return None
    _, d_weights, d_means, d_chol = _total_op(X, weights, means, chol)
    return [
        pt.cast(s * d_weights, "float64"),
        pt.cast(s * d_means, "float64"),
        pt.cast(s * d_chol, "float64"),
    ]


# --------------------------------------------------------------------------------------------
# numba backend (PyTensor's NUMBA mode and nutpie's numba backend)
# --------------------------------------------------------------------------------------------
@numba_implementation(MixtureLogLikPointwise, _CACHE_SALT)
def _numba_funcify_pointwise():
    def mixture_loglik_pointwise_numba(X, weights, means, chol, offset):
        return loglik_pointwise(X, weights, means, chol) + offset.item()

    return mixture_loglik_pointwise_numba


@numba_implementation(MixtureLogLikVJP, _CACHE_SALT)
def _numba_funcify_vjp():
    def mixture_loglik_vjp_numba(X, g, weights, means, chol):
        U, log_det = precision_from_covariance_cholesky(chol)
        empty_pw = np.empty(0)
        empty_resp = np.empty((0, means.shape[0]))
        _, nk, s1c, c = estep_serial(X, np.ascontiguousarray(g), np.log(weights), means, U,
                                     log_det, empty_pw, empty_resp)
        return gradient_from_statistics(weights, chol, U, nk, s1c, c)

    return mixture_loglik_vjp_numba


@numba_implementation(MixtureLogLikTotal, _CACHE_SALT)
def _numba_funcify_total():
    def mixture_loglik_total_numba(X, weights, means, chol):
        total, d_weights, d_means, d_chol = loglik_value_and_grad(X, weights, means, chol)
        return np.asarray(total), d_weights, d_means, d_chol

    return mixture_loglik_total_numba
