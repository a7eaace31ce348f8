"""Write the small data files of the missing-value, weights, noise and labels examples.

Each is a bundled data set with a documented, seeded transformation, so it can be remade (and
checked) with ``python examples/data/make_data.py``; ``models/*_{missing,weights,noise,labels}
.toml`` and ``examples/real_data.py`` use them.

- ``old_faithful_missing.csv``: Old Faithful with 15% of the values removed completely at
  random (seed 14; no row loses both).
- ``galaxies_counts.csv``: the galaxies' velocities rounded to 100 km/s and collapsed to one
  row per distinct value with a ``count`` column (frequency weights).
- ``old_faithful_noise.csv``: Old Faithful plus 30 points drawn uniformly over its bounding box
  (seed 14), the "background" a noise component should take.
- ``old_faithful_labels.csv``: Old Faithful with a ``type`` column naming 20 eruptions (10
  "short", 10 "long", by eruption length below/above 3 minutes, chosen at random with seed 14)
  and empty for the others.
"""

from pathlib import Path

import numpy as np
import pandas as pd

import bayesgmm

SEED = 14
HERE = Path(__file__).resolve().parent


def missing() -> pd.DataFrame:
    frame = bayesgmm.load_old_faithful().astype(float)
    rng = np.random.default_rng(SEED)
    gone = rng.random(frame.shape) < 0.15
    gone[gone.all(axis=1), 1] = False  # keep at least one value per row
    return frame.mask(gone)


def counts() -> pd.DataFrame:
    velocity = (bayesgmm.load_galaxies()["velocity"] / 100).round() * 100
    table = velocity.value_counts().sort_index()
    return pd.DataFrame({"velocity": table.index.astype(float), "count": table.to_numpy()})


def noise() -> pd.DataFrame:
    frame = bayesgmm.load_old_faithful().astype(float)
    rng = np.random.default_rng(SEED)
    low, high = frame.min().to_numpy(), frame.max().to_numpy()
    background = pd.DataFrame(rng.uniform(low, high, size=(30, 2)).round(3),
                              columns=frame.columns)
    return pd.concat([frame, background], ignore_index=True)


def labels() -> pd.DataFrame:
    frame = bayesgmm.load_old_faithful().astype(float)
    rng = np.random.default_rng(SEED)
    kind = np.where(frame["eruptions"] > 3, "long", "short")
    chosen = np.concatenate([rng.choice(np.flatnonzero(kind == k), 10, replace=False)
                             for k in ("short", "long")])
    frame["type"] = ""
    frame.loc[chosen, "type"] = kind[chosen]
    return frame


FILES = {"old_faithful_missing.csv": missing, "galaxies_counts.csv": counts,
         "old_faithful_noise.csv": noise, "old_faithful_labels.csv": labels}

if __name__ == "__main__":
    for name, make in FILES.items():
        make().to_csv(HERE / name, index=False)
        print(HERE / name)
