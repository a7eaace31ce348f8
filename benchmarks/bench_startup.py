"""Time to a posterior on Old Faithful (K=2, full, fit_bayes defaults), cold and warm caches.

Usage::

    python benchmarks/bench_startup.py            # the command line, then the fits
    python benchmarks/bench_startup.py --cli      # the command line only (seconds)

Goals (speed issue): warm under 10 s, cold (empty PyTensor and numba caches) under 60 s, wall
time on 2 cores. Each run is a fresh Python process (``python -c``), timed from outside, so
the figures include interpreter start-up and every import, as a user's script would see them;
the stages inside ``fit_bayes`` come from ``result.settings["timing"]``.

The command line (issue 15): ``bayesgmm --help``, ``--version`` and an input error should
answer in under 1 s (they import neither PyMC nor numba), and ``bayesgmm em ... --report`` (EM
only, no PyMC) in under 10 s warm. Each is run three times in fresh processes; the median is
printed.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def cli_startup(repeats: int = 3) -> None:
    """Median wall time of the command line's quick answers, each in a fresh process."""
    script = Path(sys.executable).with_name("bayesgmm")
    with tempfile.TemporaryDirectory() as tmp:
        commands = [
            ("bayesgmm --help", ["--help"], 1.0),
            ("bayesgmm --version", ["--version"], 1.0),
            ("bayesgmm fit --help", ["fit", "--help"], 1.0),
            ("input error: missing data file", ["fit", "missing.csv", "-k", "2"], 1.0),
            ("input error: bad covariance", ["fit", "bundled:old_faithful", "-k", "2",
                                             "--covariance", "ful"], 1.0),
            ("input error: K > rows", ["em", "bundled:old_faithful", "-k", "999"], 1.0),
            ("em -k 2 --report (EM only)", ["em", "bundled:old_faithful", "-k", "2", "--seed",
                                            "0", "--report", "--force", "--out",
                                            f"{tmp}/em"], 10.0),
        ]
        # CPU time beside wall time: on a shared machine the wall clock also counts the wait
        # for a core; the CPU time is what the command itself costs.
        print(f"{'command line (fresh process, median of ' + str(repeats) + ')':44s} "
              f"{'wall s':>7s} {'CPU s':>6s}")
        for label, argv, goal in commands:
            times, cpus = [], []
            for _ in range(repeats):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                subprocess.run([str(script), *argv], capture_output=True, cwd=tmp, check=False)
                times.append(time.perf_counter() - t0)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            wall, cpu = statistics.median(times), statistics.median(cpus)
            print(f"{label:44s} {wall:7.2f} {cpu:6.2f}   goal < {goal:g} s: "
                  f"{'met' if wall < goal else 'NOT met'}")


def first_output(timeout: float = 60.0) -> None:
    """Seconds until a cold ``bayesgmm fit`` (empty numba cache) prints its first line.

    The process is stopped after its first few lines: what is measured is how long a user on
    a new machine waits in silence, not the fit.
    """
    import os
    import pty
    import selectors

    script = Path(sys.executable).with_name("bayesgmm")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=f"{tmp}/numba-cache", TERM="dumb")
        # On a terminal, as a user sees it (some status lines are for terminals only).
        leader, follower = pty.openpty()
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(script), "fit", "bundled:old_faithful", "-k", "2",
                                 "--out", f"{tmp}/fit"], stdout=follower, stderr=follower,
                                env=env, cwd=tmp)
        os.close(follower)
        sel = selectors.DefaultSelector()
        sel.register(leader, selectors.EVENT_READ)
        lines, buffer = [], b""
        while len(lines) < 4 and time.perf_counter() - t0 < timeout:
            if not sel.select(timeout=0.1):
                continue
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer and len(lines) < 4:
                line, buffer = buffer.split(b"\n", 1)
                text = line.decode(errors="replace").strip()
                if text:
                    lines.append((time.perf_counter() - t0, text))
        proc.kill()
        proc.wait()
        os.close(leader)
    print("\ncold run (empty numba cache), time to each of the first lines:")
    for t, line in lines:
        print(f"  {t:6.2f} s  {line}")
    first = lines[0][0] if lines else float("inf")
    print(f"first line after {first:.2f} s   goal < 2 s: {'met' if first < 2 else 'NOT met'}")


def main() -> None:
    cli_startup()
    first_output()
    if "--cli" in sys.argv[1:]:
        return
    print()
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
