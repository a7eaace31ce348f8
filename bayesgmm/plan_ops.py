"""PyTensor Ops for the mixture log-likelihood over a row plan (missing values, weights,
known labels, a noise component).

Where it sits: the math layer, beside :mod:`bayesgmm.ops` (whose input checks and call
counters it shares); imports :mod:`bayesgmm.kernels` (the row plan's E-step and its
value-and-gradient), :mod:`bayesgmm.pytensor_numba` (the numba registration) and PyTensor;
imported by :mod:`bayesgmm.model`, whose likelihood it is
when the data need a plan.

:class:`MixturePlanLogLik` ``(plan..., weights, noise_weight, means, chol) -> ll (N,)``
    The pointwise log-density over a :class:`bayesgmm.kernels.RowPlan`, in plan order and in
    the plan's (data) units. Its pullback is :class:`MixturePlanVJP`: one weighted pass of
    :func:`bayesgmm.kernels.plan_value_and_grad`, whose gradient comes from the completed
    sufficient statistics by Fisher's identity.

Both have a Python ``perform`` and a numba implementation (PyTensor's NUMBA mode, nutpie's
numba and pyfunc routes), cache-salted with this file and ``kernels.py``. The plan's integer
arrays arrive as ``pm.Data`` (int32) and are widened to the kernel's int64 on each call (they
are per group, not per row, so small).
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import grad_not_implemented
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.op import Op

from bayesgmm._numba_cache import source_salt
from bayesgmm.kernels import plan_estep, plan_value_and_grad
from bayesgmm.ops import _as_data, _as_params, _float64, _VJPOp, kernel_call_counts
from bayesgmm.pytensor_numba import numba_implementation

__all__ = ["MixturePlanLogLik", "MixturePlanVJP", "mixture_plan_loglik"]

_CACHE_SALT = source_salt(__file__)


def _plan_loglik_numpy(X, bounds, columns, n_obs, label, log_noise, weights, noise_weight,
                       means, chol):
    """ll_n in plan order (unweighted) over a :class:`bayesgmm.kernels.RowPlan`."""
    K = means.shape[0]
    pointwise = np.empty(X.shape[0])
    with np.errstate(divide="ignore"):
        log_w = np.log(weights)
        log_nw = float(np.log(noise_weight)) if noise_weight > 0 else -np.inf
    plan_estep(X, np.empty(0), bounds.astype(np.int64), columns.astype(np.int64),
               n_obs.astype(np.int64), label.astype(np.int64),
               np.ascontiguousarray(log_noise, dtype=np.float64), log_w, log_nw,
               np.ascontiguousarray(means), np.ascontiguousarray(chol), pointwise,
               np.empty((0, K)))
    return pointwise


def _as_plan(X, bounds, columns, n_obs, label, log_noise):
    X = _as_data(X)
    ints = [pt.as_tensor_variable(v) for v in (bounds, columns, n_obs, label)]
    for v, ndim in zip(ints, (1, 2, 1, 1), strict=True):
        if v.ndim != ndim or not v.dtype.startswith("int"):
            raise TypeError("the plan's bounds, columns, n_obs and label are integer arrays")
    log_noise = _float64(log_noise)
    if log_noise.ndim != 1:
        raise TypeError("log_noise must be a vector (one noise log-density per group)")
    return [X, *ints, log_noise]


class MixturePlanLogLik(Op):
    """Pointwise log-density over a row plan (missing values, known labels, noise component).

    Inputs: the plan (:class:`bayesgmm.kernels.RowPlan`: ``X`` (N, D) rows with their observed
    values packed left, ``bounds``, ``columns``, ``n_obs``, ``label``, ``log_noise`` (G,)),
    ``weights`` (K,) of the Gaussians, ``noise_weight`` (), ``means`` (K, D), ``chol``
    (K, D, D). Output: ll_n (N,) in plan order, unweighted. Its pullback is one weighted pass
    of :func:`bayesgmm.kernels.plan_value_and_grad` (Fisher's identity on the completed
    statistics).
    """

    __props__ = ()

    def make_node(self, X, bounds, columns, n_obs, label, log_noise, weights, noise_weight,
                  means, chol) -> Apply:
        plan = _as_plan(X, bounds, columns, n_obs, label, log_noise)
        weights, means, chol = _as_params(weights, means, chol)
        noise_weight = _float64(noise_weight)
        out = pt.tensor(dtype="float64", shape=(plan[0].type.shape[0],))
        return Apply(self, [*plan, weights, noise_weight, means, chol], [out])

    def perform(self, node, inputs, output_storage):
        kernel_call_counts["pointwise"] += 1
        output_storage[0][0] = _plan_loglik_numpy(*inputs)

    def infer_shape(self, node, input_shapes):
        return [(input_shapes[0][0],)]

    def pullback(self, inputs, outputs, cotangents):
        (g,) = cotangents
        d_w, d_nw, d_mu, d_chol = _plan_vjp_op(inputs[0], g, *inputs[1:])
        return [grad_not_implemented(self, i, x, "the plan is data") for i, x in
                enumerate(inputs[:6])] + [d_w, d_nw, d_mu, d_chol]


class MixturePlanVJP(_VJPOp):
    """d/d(weights, noise_weight, means, chol) of ``sum_n g_n ll_n`` over a row plan.

    Inputs: ``X``, ``g`` (N,) in plan order, then the other inputs of
    :class:`MixturePlanLogLik`. One weighted kernel pass.
    """

    __props__ = ()
    first_parameter = 7

    def make_node(self, X, g, bounds, columns, n_obs, label, log_noise, weights, noise_weight,
                  means, chol) -> Apply:
        plan = _as_plan(X, bounds, columns, n_obs, label, log_noise)
        g = _float64(g)
        weights, means, chol = _as_params(weights, means, chol)
        noise_weight = _float64(noise_weight)
        outs = [weights.type(), noise_weight.type(), means.type(), chol.type()]
        return Apply(self, [plan[0], g, *plan[1:], weights, noise_weight, means, chol], outs)

    def gradients(self, X, g, bounds, columns, n_obs, label, log_noise, weights, noise_weight,
                  means, chol):
        _, d_w, d_nw, d_mu, d_chol = plan_value_and_grad(
            X, np.ascontiguousarray(g, dtype=np.float64), bounds.astype(np.int64),
            columns.astype(np.int64), n_obs.astype(np.int64), label.astype(np.int64),
            np.ascontiguousarray(log_noise, dtype=np.float64), np.ascontiguousarray(weights),
            float(noise_weight),
            np.ascontiguousarray(means), np.ascontiguousarray(chol))
        return d_w, np.asarray(d_nw), d_mu, d_chol


_plan_op = MixturePlanLogLik()
_plan_vjp_op = MixturePlanVJP()


def mixture_plan_loglik(X, bounds, columns, n_obs, label, log_noise, weights, noise_weight,
                        means, chol) -> Variable:
    """Pointwise log-density (N,) over a row plan, in plan order, as a PyTensor variable.

    The parameters are in the plan's (data) units; see :class:`MixturePlanLogLik`.
    """
    return _plan_op(X, bounds, columns, n_obs, label, log_noise, weights, noise_weight, means,
                    chol)


@numba_implementation(MixturePlanLogLik, _CACHE_SALT)
def _numba_funcify_plan():
    def mixture_plan_loglik_numba(X, bounds, columns, n_obs, label, log_noise, weights,
                                  noise_weight, means, chol):
        K = means.shape[0]
        pointwise = np.empty(X.shape[0])
        nw = noise_weight.item()
        log_nw = np.log(nw) if nw > 0 else -np.inf
        plan_estep(X, np.empty(0), bounds.astype(np.int64), columns.astype(np.int64),
                   n_obs.astype(np.int64), label.astype(np.int64),
                   np.ascontiguousarray(log_noise), np.log(weights), log_nw,
                   np.ascontiguousarray(means), np.ascontiguousarray(chol), pointwise,
                   np.empty((0, K)))
        return pointwise

    return mixture_plan_loglik_numba


@numba_implementation(MixturePlanVJP, _CACHE_SALT)
def _numba_funcify_plan_vjp():
    def mixture_plan_vjp_numba(X, g, bounds, columns, n_obs, label, log_noise, weights,
                               noise_weight, means, chol):
        _, d_w, d_nw, d_mu, d_chol = plan_value_and_grad(
            X, np.ascontiguousarray(g), bounds.astype(np.int64), columns.astype(np.int64),
            n_obs.astype(np.int64), label.astype(np.int64), np.ascontiguousarray(log_noise),
            np.ascontiguousarray(weights), noise_weight.item(), np.ascontiguousarray(means),
            np.ascontiguousarray(chol))
        return d_w, np.asarray(d_nw), d_mu, d_chol

    return mixture_plan_vjp_numba
