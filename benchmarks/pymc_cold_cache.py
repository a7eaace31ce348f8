"""Does a cold cache change a ``sampler="pymc"`` fit? (issue 11, item 7)

Runs the same fit in fresh processes that share temporary, initially empty caches: PyTensor's
``compiledir`` (``PYTENSOR_FLAGS``) and, with ``--numba``, numba's disk cache
(``NUMBA_CACHE_DIR``, where bayesgmm's ``cache=True`` kernels go). The first process is cold,
the next ones warm. Each process records, at full precision, the PyMC model's ``logp`` and
``dlogp`` at five fixed points, the EM start of ``fit_bayes`` and the posterior draws of the
means, for ``--fits`` same-seed fits in a row; the script then prints the largest difference
between every pair of fits, so a cold-cache (or first-fit-in-a-process) effect shows as a
non-zero row.

    python benchmarks/pymc_cold_cache.py                 # cold PyTensor cache
    python benchmarks/pymc_cold_cache.py --numba         # cold PyTensor and numba caches

Measured (2 cores, PyMC 6.4, PyTensor 3.3, old_faithful K=2 full, 2 chains on 2 cores x
(60 + 60), seed 3; 2 processes x 2 fits):

- once, the first run after a rebase had changed ``kernels.py`` (so numba compiled the new
  kernels in that first process, and PyTensor's cache was empty): the cold process's two fits
  differed from each other by 3.7e-6 and from the warm process's by up to 5.3e-6 in the draws,
  while logp, dlogp (in the parent) and the EM start were bit-identical, and the warm
  process's two fits were identical. So the difference arises in the sampling (PyMC's chain
  processes, which import bayesgmm and get the kernels themselves), not in EM or the model;
- it did not come back: plain (cold PyTensor cache), ``--numba`` (both caches empty) and
  with the numba sources' mtimes touched before the run all gave exactly 0 everywhere, cold
  against warm and first against second fit. (Touching ``backends/native.py`` also showed
  that numba 0.68 keeps loading its cache while ``progress.sampler_cache_is_cold`` then
  reports "cold", and ``bayesgmm warm`` says "compiling" every time: that check compares
  mtimes, numba does not recompile on an mtime change alone.)

The likely cause is therefore not the PyTensor cache (which the issue suspected) but numba's
disk cache being written by several processes at once (the chain processes, which
may compile the same new kernels concurrently), a race that a later process cannot see; not
proven. ``bayesgmm warm`` (``make install``) fills the cache from one process before any fit,
which removes the window for the nutpie path; it does not run the ``sampler="pymc"`` path.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

_CHILD = r"""
import json, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from bayesgmm.datasets import load_old_faithful
from bayesgmm import model as bmodel
from bayesgmm.priors import Priors, Standardisation
from bayesgmm.sampling import fit_bayes

out, n_fits = sys.argv[1], int(sys.argv[2])
X = load_old_faithful().to_numpy()
std = Standardisation.from_data(X, "full")
m = bmodel.build_model(std.transform(X), 2, "full", Priors(), center=std.center,
                       scale=std.scale)
logp, dlogp = m.compile_logp(), m.compile_dlogp()
start = m.initial_point()
rng = np.random.default_rng(0)
points = [{k: v + 0.3 * rng.standard_normal(np.shape(v)) for k, v in start.items()}
          for _ in range(5)]
record = {"logp": [float(logp(p)) for p in points],
          "dlogp": [np.asarray(dlogp(p)).tolist() for p in points], "em": [], "draws": []}
for _ in range(n_fits):
    r = fit_bayes(X, 2, sampler="pymc", draws=60, tune=60, chains=2, cores=2,
                  random_state=3, progressbar=False)
    record["em"].append(np.concatenate([r.em.weights.ravel(), r.em.means.ravel(),
                                        r.em.covariances.ravel()]).tolist())
    record["draws"].append(r.idata["posterior"]["means"].values.ravel().tolist())
json.dump(record, open(out, "w"))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numba", action="store_true",
                        help="also start from an empty numba cache (NUMBA_CACHE_DIR)")
    parser.add_argument("--processes", type=int, default=2,
                        help="processes in a row sharing the caches (the first is cold)")
    parser.add_argument("--fits", type=int, default=2, help="same-seed fits per process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bayesgmm-cold-") as tmp:
        env = dict(os.environ, PYTENSOR_FLAGS=f"compiledir={tmp}/pytensor")
        if args.numba:
            env["NUMBA_CACHE_DIR"] = f"{tmp}/numba"
        runs = []
        for i in range(args.processes):
            out = Path(tmp) / f"run{i}.json"
            subprocess.run([sys.executable, "-c", _CHILD, str(out), str(args.fits)], env=env,
                           check=True)
            runs.append(json.loads(out.read_text()))
    labels = ["cold" if i == 0 else f"warm{i}" for i in range(len(runs))]
    ref = runs[0]
    for label, run in zip(labels[1:], runs[1:], strict=True):
        print(f"{label} vs cold: logp {np.max(np.abs(np.subtract(run['logp'], ref['logp']))):.3g}"
              f", dlogp {np.max(np.abs(np.subtract(run['dlogp'], ref['dlogp']))):.3g}")
    fits = [(f"{label} fit {j}", run["em"][j], run["draws"][j])
            for label, run in zip(labels, runs, strict=True) for j in range(len(run["em"]))]
    for a in range(len(fits)):
        for b in range(a + 1, len(fits)):
            em = np.max(np.abs(np.subtract(fits[a][1], fits[b][1])))
            draws = np.max(np.abs(np.subtract(fits[a][2], fits[b][2])))
            print(f"{fits[a][0]} vs {fits[b][0]}: EM start {em:.3g}, draws {draws:.3g}")


if __name__ == "__main__":
    main()
