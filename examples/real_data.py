"""Real data as it comes: what missing values, weights, a noise component and known labels
change against the naive alternative (drop the rows, ignore the counts, no noise, ignore the
labels), with EM fits and a small table for each. Run: python examples/real_data.py [--quick]

The data are the bundled sets made imperfect by examples/data/make_data.py's recipes (seeded),
and for the labels a simulated pair of overlapping groups, so the truth is known. ``--quick``
runs fewer EM restarts (the tables barely move)."""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import bayesgmm

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))
import make_data  # noqa: E402  (the seeded recipes of examples/data/*.csv)

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--quick", action="store_true", help="fewer EM restarts")
args = parser.parse_args()
n_init = 2 if args.quick else 10
pd.set_option("display.width", 120)


def by_first_mean(em):
    """Components in the order of their first coordinate's mean (a fixed labelling)."""
    order = np.argsort(em.means[:, 0])
    return em.weights[order], em.means[order]


def fit(X, k, **kwargs):
    return bayesgmm.fit_em(X, k, n_init=n_init, random_state=0, **kwargs)


# 1. Missing values: integrate them out, or drop every row that has one ------------------------
faithful = bayesgmm.load_old_faithful().astype(float)
_, truth = by_first_mean(fit(faithful, 2))  # the complete-data estimate is the reference
rows = []
n_repeats = 5  # removal patterns per rate: one pattern's error is itself noisy
for rate in (0.1, 0.3, 0.5):
    for policy in ("marginalise", "drop"):
        used, errors = [], []
        for repeat in range(n_repeats):
            rng = np.random.default_rng([make_data.SEED, repeat])
            gone = rng.random(faithful.shape) < rate
            gone[gone.all(axis=1), 1] = False  # every row keeps a value
            em = fit(faithful.mask(gone), 2, missing=policy)
            used.append(em.observations["n_rows_fitted"])
            errors.append(np.abs(by_first_mean(em)[1] - truth)[:, 1].max())
        rows.append({"values removed": f"{rate:.0%}", "missing": policy,
                     "rows used": np.mean(used),
                     "max |mean error| (waiting, min)": np.mean(errors)})
print(f"1. Missing values (Old Faithful, values removed completely at random, {n_repeats} "
      "patterns per rate; error against the complete-data EM, averaged)")
print(pd.DataFrame(rows).round(3).to_string(index=False), "\n")

# 2. Frequency weights: a table of counts is the data set it summarises ------------------------
counts = make_data.counts()
expanded = counts.loc[counts.index.repeat(counts["count"]), ["velocity"]].reset_index(drop=True)
fits = {"weights = count": fit(counts[["velocity"]], 3, sample_weight=counts["count"]),
        "counts ignored": fit(counts[["velocity"]], 3),
        "expanded rows (reference)": fit(expanded, 3)}
print("2. Weights (galaxies collapsed to one row per 100 km/s with a count)")
print(pd.DataFrame({name: {"rows": em.observations["n_rows_fitted"],
                           "weights": np.round(by_first_mean(em)[0], 3),
                           "means (km/s)": np.round(by_first_mean(em)[1][:, 0]).astype(int)}
                    for name, em in fits.items()}).T.to_string(), "\n")

# 3. A noise component: background points do not stretch the Gaussians ------------------------
noisy = make_data.noise()
clean = fit(faithful, 2)
clean_order = np.argsort(clean.means[:, 0])  # the same labelling as the noisy fits below
clean_sd = np.sqrt(np.diagonal(clean.full_covariances, axis1=1, axis2=2))[clean_order]
rows = []
for noise in (True, False):
    em = fit(noisy, 2, noise=noise)
    order = np.argsort(em.means[:, 0])
    sd = np.sqrt(np.diagonal(em.full_covariances, axis1=1, axis2=2))[order]
    p_noise = em.predict_proba(noisy)[:, -1] if noise else np.zeros(len(noisy))
    rows.append({"noise": noise, "noise weight": em.noise_weight,
                 "background points with P(noise) > 0.5": int((p_noise[-30:] > 0.5).sum()),
                 "sd of waiting, ratio to clean fit": np.round(sd[:, 1] / clean_sd[:, 1], 2)})
print("3. Noise (Old Faithful + 30 uniform background points; the clean fit is the reference)")
print(pd.DataFrame(rows).round(3).to_string(index=False), "\n")

# 4. Known labels: a few labelled points pin down overlapping groups ---------------------------
rng = np.random.default_rng(make_data.SEED)
true_means = np.array([[0.0, 0.0], [1.6, 0.6]])
cov = np.array([[1.0, 0.7], [0.7, 1.0]])
group = rng.integers(0, 2, 600)
X = true_means[group] + rng.multivariate_normal([0, 0], cov, 600)
labels = np.where(rng.random(600) < 0.1, group, -1)  # 10% labelled
rows = []
for name, kwargs in {"labels (10% known)": {"labels": labels}, "labels ignored": {}}.items():
    em = fit(X, 2, **kwargs)
    if not kwargs:  # without labels the component order is arbitrary: match it to the truth
        em_order = np.argsort(em.means[:, 0])
    else:
        em_order = np.arange(2)  # component k is label k
    assigned = np.argsort(em_order)[em.predict(X)]
    unlabelled = labels < 0
    rows.append({"fit": name,
                 "max |mean error|": np.abs(em.means[em_order] - true_means).max(),
                 "accuracy on the unlabelled points": (assigned == group)[unlabelled].mean()})
print("4. Known labels (two overlapping simulated groups, 600 points)")
print(pd.DataFrame(rows).round(3).to_string(index=False))
