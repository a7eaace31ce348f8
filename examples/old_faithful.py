"""Old Faithful, the whole workflow: EM-started NUTS, EM vs posterior, diagnostics, membership
uncertainty, and the HTML report. Run: python examples/old_faithful.py [--quick] [--out DIR]"""

import argparse
import warnings

import numpy as np

import bayesgmm
from bayesgmm.report import write_report

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--quick", action="store_true", help="few draws: a smoke test, not a result")
parser.add_argument("--out", default="old_faithful_report", help="report directory")
args = parser.parse_args()
draws, chains = (100, 2) if args.quick else (1000, 4)

X = bayesgmm.load_old_faithful()  # 272 eruptions: duration and waiting time (minutes)
# its status lines on stderr say what it is doing (QA136 L6: off, 13 s of silence)
post = bayesgmm.fit_bayes(X, 2, draws=draws, tune=draws, chains=chains, random_state=1)
print(post.compare_em().round(3).to_string(), "\n")  # EM estimate vs posterior mean/sd/94%
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # short --quick chains make ArviZ warn; the verdict says it
    print(post.diagnostics(), "\n")

proba = post.predict_proba(X)  # posterior mean membership and its 94% interval, per point
width = (proba.upper - proba.lower).max(axis=1)
for i in np.argsort(width)[::-1][:5]:
    print(f"row {i}: {X.iloc[i].to_dict()}  P(component 0) = {proba.mean[i, 0]:.2f} "
          f"[{proba.lower[i, 0]:.2f}, {proba.upper[i, 0]:.2f}]")

print("\nreport:", write_report(post, args.out, data_source="Old Faithful"))
