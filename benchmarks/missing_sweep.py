"""Estimates as missingness grows: marginalising against dropping rows (issue 14's oracle plot).

Usage::

    python benchmarks/missing_sweep.py               # writes docs/missing_values.png (~1 min)
    python benchmarks/missing_sweep.py --reps 50 --out /tmp/sweep.png

A simulated 3-component 2-D mixture (``tests/conftest.py``'s, N=600) is fitted by EM on the
complete data; then values are removed completely at random (each coordinate independently with
probability p, never a whole row), and the data are refitted two ways, started from the
complete-data fit so that the labels correspond: ``missing="marginalise"`` (every observed value
used) and ``missing="drop"`` (complete rows only). For every p and replicate the deviation of
the means and weights from the complete-data estimate is divided by the complete-data
estimate's standard error (from a nonparametric bootstrap of the complete data, same start), so
a value of 1 is one standard error: the sampling noise the data had anyway. The table prints
the root mean square of these z-values per p; the figure draws them.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import simulate_mixture  # noqa: E402

from bayesgmm import fit_em  # noqa: E402


def remove_values(X, p, rng):
    holes = rng.random(X.shape) < p
    holes[holes.all(axis=1), rng.integers(0, X.shape[1])] = False
    Xm = X.copy()
    Xm[holes] = np.nan
    return Xm


def parameters(fit):
    return np.r_[fit.means.ravel(), fit.weights]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--boot", type=int, default=100)
    parser.add_argument("--out", default=str(ROOT / "docs" / "missing_values.png"))
    args = parser.parse_args()
    X, _, _ = simulate_mixture()
    rng = np.random.default_rng(2026)
    complete = fit_em(X, 3, random_state=0)
    theta = parameters(complete)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        boot = np.array([parameters(fit_em(X[rng.integers(0, len(X), len(X))], 3,
                                           init=complete)) for _ in range(args.boot)])
    se = boot.std(axis=0, ddof=1)
    fractions = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
    z = {"marginalise": [], "drop": []}
    rows_left = []
    for p in fractions:
        zp = {"marginalise": [], "drop": []}
        left = []
        for _ in range(args.reps):
            Xm = remove_values(X, p, rng)
            left.append(np.mean(~np.isnan(Xm).any(axis=1)))
            for policy in zp:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = fit_em(Xm, 3, init=complete, missing=policy)
                zp[policy].append((parameters(fit) - theta) / se)
        for policy in z:
            z[policy].append(np.array(zp[policy]))
        rows_left.append(float(np.mean(left)))
    print(f"N={len(X)}, K=3, D=2; RMS of (estimate - complete-data estimate) / complete-data "
          f"SE over {args.reps} replicates and the 9 means/weights")
    print(f"{'p missing':>10} {'complete rows':>14} {'marginalise':>12} {'drop rows':>10}")
    for i, p in enumerate(fractions):
        rms = {k: float(np.sqrt(np.mean(v[i] ** 2))) for k, v in z.items()}
        print(f"{p:>10.2f} {rows_left[i]:>14.0%} {rms['marginalise']:>12.2f} {rms['drop']:>10.2f}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    for policy, style in (("marginalise", "o-"), ("drop", "s--")):
        rms = [np.sqrt(np.mean(v ** 2)) for v in z[policy]]
        q = [np.quantile(np.sqrt(np.mean(v ** 2, axis=1)), [0.1, 0.9]) for v in z[policy]]
        ax.plot(fractions, rms, style, label=f'missing="{policy}"')
        ax.fill_between(fractions, [a for a, _ in q], [b for _, b in q], alpha=0.15)
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("fraction of values missing (completely at random)")
    ax.set_ylabel("RMS deviation from complete-data fit\n(in complete-data standard errors)")
    ax.set_title("EM estimates of the means and weights as values go missing", fontsize=10)
    ax.legend(frameon=False, title=f"lines: RMS over {args.reps} replicates; bands: their "
              "10th-90th percentiles", title_fontsize=8, alignment="left")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
