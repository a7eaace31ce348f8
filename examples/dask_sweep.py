"""Run a model-selection sweep on a Dask cluster instead of local processes.

``select_em`` (and ``select_bayes``) hand their grid cells to joblib. By default joblib runs them
in local worker processes; inside ``joblib.parallel_backend("dask")`` the very same call sends
them to the workers of the active ``dask.distributed.Client``. Here the client is a local
cluster; for a real one pass its scheduler address instead (``Client("tcp://host:8786")``).

Needs ``pip install "dask[distributed]"``. Run with::

    python examples/dask_sweep.py            # K = 1..6, all covariance types, 5 restarts
    python examples/dask_sweep.py --quick    # K = 1..3, 2 restarts (a smoke test)
"""

from __future__ import annotations

import argparse
import time

import joblib
from distributed import Client, LocalCluster

from bayesgmm import load_old_faithful
from bayesgmm.selection import select_em


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small grid (smoke test)")
    quick = parser.parse_args().quick
    X = load_old_faithful()
    grid = {"n_components": range(1, 4 if quick else 7), "covariance_types": "all",
            "n_init": 2 if quick else 5, "random_state": 0}

    t0 = time.perf_counter()
    local = select_em(X, **grid)  # joblib's default: local processes, all cores
    t_local = time.perf_counter() - t0

    # One thread per worker: each grid cell is single-threaded anyway (select_em limits
    # numba/BLAS to one thread per task), so parallelism comes from the workers.
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        print(f"Dask cluster: {len(client.scheduler_info()['workers'])} workers")
        t0 = time.perf_counter()
        with joblib.parallel_backend("dask"):
            on_dask = select_em(X, **grid)
        t_dask = time.perf_counter() - t0

    same = on_dask.table.equals(local.table)
    print(on_dask)
    print(f"\nlocal processes: {t_local:.1f} s; Dask: {t_dask:.1f} s; identical tables: {same}")
    if not same:
        raise SystemExit("the Dask sweep differs from the local one")


if __name__ == "__main__":  # the guard matters: Dask's worker processes re-import this file
    main()
