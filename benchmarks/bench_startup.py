"""Time to a posterior on Old Faithful (K=2, full, fit_bayes defaults), cold and warm caches.

Usage::

    python benchmarks/bench_startup.py

Goals (speed issue): warm under 10 s, cold (empty PyTensor and numba caches) under 60 s, wall
time on 2 cores. Each run is a fresh Python process (``python -c``), timed from outside, so
the figures include interpreter start-up and every import, as a user's script would see them;
the stages inside ``fit_bayes`` come from ``result.settings["timing"]``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench_sampling import _empty_caches

SCRIPT = """
import json, warnings
warnings.simplefilter("ignore")
import bayesgmm
result = bayesgmm.fit_bayes(bayesgmm.load_old_faithful(), 2, random_state=1, progressbar=False)
d = result.diagnostics()
print(json.dumps(dict(result.settings["timing"], backend=result.settings["nutpie_backend"],
                      ok=bool(d.ok), max_rhat=float(d.max_rhat))))
"""


def run(env: dict) -> dict:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, check=False)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return dict(json.loads(out.stdout.strip().splitlines()[-1]), wall_s=wall)


def main() -> None:
    env = _empty_caches()
    print("Old Faithful, K=2, full, fit_bayes defaults (4 chains x (1000 tune + 1000 draws))")
    print(f"{'run':6s} {'wall s':>7s} {'EM s':>6s} {'compile s':>9s} {'sample s':>8s} "
          f"{'backend':>8s} {'max R-hat':>9s} {'verdict':>8s}")
    for name, goal in (("cold", 60.0), ("warm", 10.0), ("warm", 10.0)):
        r = run(env)
        print(f"{name:6s} {r['wall_s']:7.1f} {r['em_s']:6.1f} {r['compile_s']:9.1f} "
              f"{r['sample_s']:8.1f} {r['backend']:>8s} {r['max_rhat']:9.3f} "
              f"{'OK' if r['ok'] else 'FAILED':>8s}   goal < {goal:.0f} s: "
              f"{'met' if r['wall_s'] < goal else 'NOT met'}")


if __name__ == "__main__":
    main()
