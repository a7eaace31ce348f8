"""The example specs for missing values, weights, noise and labels: their data and EM fits."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesgmm
from bayesgmm import cli
from bayesgmm.io import load_spec

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"


def _make_data():
    spec = importlib.util.spec_from_file_location("make_data",
                                                  ROOT / "examples" / "data" / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["old_faithful_missing.csv", "galaxies_counts.csv",
                                  "old_faithful_noise.csv", "old_faithful_labels.csv"])
def test_committed_data_are_what_the_script_makes(name):
    made = _make_data().FILES[name]()
    committed = pd.read_csv(ROOT / "examples" / "data" / name, keep_default_na=True)
    if "type" in made:
        made["type"] = made["type"].replace("", np.nan)
    pd.testing.assert_frame_equal(committed, made, check_dtype=False)


def _em(spec_name, **kwargs):
    spec = load_spec(MODELS / spec_name)
    frame, observed, names = cli._read_observations(
        spec.data_path, spec.columns, cli._SpecObservations(spec), spec.n_components)
    em = bayesgmm.fit_em(frame, spec.n_components, covariance_type=spec.covariance_type,
                         random_state=0, **observed, **kwargs)
    return spec, frame, observed, names, em


def test_missing_spec_uses_every_row():
    _, frame, observed, _, em = _em("old_faithful_missing.toml")
    assert observed == {"missing": "marginalise"}
    record = em.observations
    assert record["n_rows_fitted"] == 272 and record["n_rows_dropped"] == 0
    assert record["n_missing_values"] == int(frame.isna().to_numpy().sum()) > 50
    full = bayesgmm.fit_em(bayesgmm.load_old_faithful(), 2, random_state=0)
    order = np.argsort(em.means[:, 0]), np.argsort(full.means[:, 0])
    # MCAR removal: the estimate stays near the complete-data one
    np.testing.assert_allclose(em.means[order[0]], full.means[order[1]], rtol=0.05)


def test_weights_spec_equals_the_expanded_rows():
    _, frame, observed, _, em = _em("galaxies_weights.toml", n_init=3)
    counts = observed["sample_weight"]
    assert list(frame.columns) == ["velocity"] and counts.sum() == 82
    expanded = frame.loc[frame.index.repeat(counts.astype(int))].reset_index(drop=True)
    oracle = bayesgmm.fit_em(expanded, 3, random_state=0, n_init=3)
    assert em.log_likelihood == pytest.approx(oracle.log_likelihood, rel=1e-6)


def test_noise_spec_takes_the_background():
    _, frame, observed, _, em = _em("old_faithful_noise.toml")
    assert observed == {"noise": True}
    p_noise = em.predict_proba(frame)[:, -1]
    # the 30 background rows (the last ones) are mostly noise, the geyser's rows mostly not;
    # some background points fall inside the clusters and some eruptions are odd, so the
    # noise weight is above 30/302 but of its size
    assert p_noise[272:].mean() > 0.5 > 4 * p_noise[:272].mean()
    assert 30 / 302 < em.noise_weight < 0.25


def test_labels_spec_names_the_components():
    _, _, observed, names, em = _em("old_faithful_labels.toml")
    assert names == ("long", "short") and int((observed["labels"] >= 0).sum()) == 20
    assert em.means[0, 0] > 3 > em.means[1, 0]  # "long" eruptions are component 0
