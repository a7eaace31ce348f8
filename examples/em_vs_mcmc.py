"""What EM's point estimate hides: 30 points from a two-component 2-D mixture.

EM returns one set of parameters. With so few points the posterior is wide: the weights, the
means and especially the covariances are uncertain, and so is the membership of points between
the clusters. Prints the comparison and saves em_vs_mcmc.png (EM ellipses vs posterior draws).
Run: python examples/em_vs_mcmc.py [--quick] [--out em_vs_mcmc.png]"""

import argparse

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import bayesgmm  # noqa: E402
from bayesgmm.plots import plot_overlay  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--quick", action="store_true", help="few draws: a smoke test, not a result")
parser.add_argument("--out", default="em_vs_mcmc.png")
args = parser.parse_args()
# The default draws="auto" samples until the verdict's checks hold; --quick takes a fixed few.
draws, chains = (100, 2) if args.quick else ("auto", 4)

rng = np.random.default_rng(11)
labels = rng.choice(2, size=30, p=[0.6, 0.4])
centres, spread = np.array([[0.0, 0.0], [4.0, 2.7]]), np.array([[1.0, 0.8], [0.9, 1.2]])
X = pd.DataFrame(centres[labels] + spread[labels] * rng.standard_normal((30, 2)),
                 columns=["x", "y"])

post = bayesgmm.fit_bayes(X, 2, draws=draws, tune=100 if args.quick else 1000, chains=chains,
                          random_state=3, progressbar=False)
diagnostics = post.diagnostics()
print(diagnostics.verdict, "\n")
# The comparison is only as good as the posterior it reads: gate on the status, not on `ok`
# (True on a CAUTION too), and leave out the components whose draws describe no single cluster.
if diagnostics.status == "PROBLEMS":
    print("The posterior did not pass its checks: read the numbers below as indicative.\n")
table = post.compare_em(diagnostics=diagnostics)
table["94% width"] = table["eti94_ub"] - table["eti94_lb"]  # what the single EM number leaves out
unidentified = diagnostics.unreported_components
if unidentified:
    print(f"Component(s) {', '.join(map(str, unidentified))} are not identified (their draws "
          "average over clusters), so their rows are left out of the comparison.\n")
print("The EM column is the MAP-EM estimate that started the chains.")
print(table[table["identified"]].drop(columns="identified").round(3).to_string(), "\n")

em_p = post.em.predict_proba(X).max(axis=1)
proba = post.predict_proba(X)
k = proba.mean.argmax(axis=1)
rows = np.arange(len(X))
wide = (proba.upper[rows, k] - proba.lower[rows, k]) > 0.5
print(f"EM is >= 95% sure of {np.sum(em_p >= 0.95)} of 30 memberships; for {wide.sum()} "
      "point(s) the posterior 94% interval of the membership probability is wider than 0.5.")
plot_overlay(post, n_draws=80).savefig(args.out, dpi=110)
print("saved", args.out)
