"""What the Laplace whitening costs per gradient, beside the density: the measurement behind
``bayesgmm.settings.laplace_affordable`` (``metric="auto"`` whitens where n^2 <=
LAPLACE_COST_RATIO x rows x K x D, n the free parameters).

Usage::

    python benchmarks/bench_whitening.py            # the table below, ~30 s

For each shape, one process: the native density's log p and gradient (``native_density``, the
function the nutpie callback calls; a Python call of ~1-3 us included, which flatters small
shapes' ratios), and the whitened callback's extra work, theta = shift + A z and A^T g with a
dense n x n A, timed inside numba (no Python call). Printed: both in microseconds, their ratio
(the whitening's share of a gradient's cost, before the ESS it buys), n^2 / (rows K D), and
whether ``metric="auto"`` whitens there (before the Gaussian check, which is per data set).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numba
import numpy as np

from bayesgmm.backends.nutpie_model import _add_product, _transpose_product

SHAPES = [  # (covariance type, D, K, rows)
    ("full", 2, 3, 1000), ("full", 2, 3, 100), ("full", 1, 3, 82), ("full", 4, 3, 150),
    ("full", 5, 8, 300), ("full", 10, 5, 2000), ("full", 10, 5, 500), ("full", 20, 5, 1000),
    ("full", 20, 5, 5000), ("full", 30, 4, 2000), ("tied", 30, 4, 2000),
    ("diag", 10, 5, 500), ("diag", 30, 4, 2000), ("spherical", 20, 5, 1000),
]


@numba.njit(cache=True)
def _map_loop(A, z, out, grad, repeats):
    """The whitened callback's extra work, ``repeats`` times (see nutpie_model.logp_callback)."""
    for _ in range(repeats):
        out[:] = 0.0
        _add_product(A, z, out)
        _transpose_product(A, out, grad)


def _seconds(call, *args, seconds=0.3):
    call(*args)
    repeats, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        call(*args)
        repeats += 1
    return (time.perf_counter() - t0) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    warnings.simplefilter("ignore")
    from bayesgmm.backends.nutpie import _shared_data
    from bayesgmm.backends.nutpie_model import native_density
    from bayesgmm.layout import model_spec, n_dim
    from bayesgmm.model import build_model
    from bayesgmm.settings import SamplerSettings

    print(f"{'type':9s} {'D':>3s} {'K':>3s} {'rows':>6s} {'n':>5s} {'density us':>11s} "
          f"{'map us':>8s} {'map/density':>12s} {'n^2/(rows K D)':>15s}  auto whitens")
    for cov, D, K, rows in SHAPES:
        X = np.random.default_rng(0).normal(size=(rows, D))
        model = build_model(X, K, cov)
        spec = model_spec(model)
        density = native_density(spec, _shared_data(model))
        n = n_dim(spec)
        theta = np.random.default_rng(1).normal(size=n) * 0.1
        t_density = _seconds(density, theta)
        A = np.random.default_rng(2).normal(size=(n, n))
        z, out, grad = theta.copy(), np.empty(n), np.empty(n)
        t_map = _seconds(_map_loop, A, z, out, grad, 100) / 100
        whitens = SamplerSettings().laplace(n, rows, K, D)
        print(f"{cov:9s} {D:3d} {K:3d} {rows:6d} {n:5d} {t_density * 1e6:11.1f} "
              f"{t_map * 1e6:8.1f} {t_map / t_density:12.3f} {n * n / (rows * K * D):15.2f}  "
              f"{'yes' if whitens else 'no'}", flush=True)


if __name__ == "__main__":
    main()
