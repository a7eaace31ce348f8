"""Evidence for a richer covariance type: named on clusters of other shapes, silence on
clusters of the fitted shape and for full fits."""

import html
import json
import types
import warnings

import numpy as np
import pandas as pd
import pytest

from bayesgmm import cli, fit_em, outliers
from bayesgmm.shape_evidence import shape_evidence

pytestmark = pytest.mark.usefixtures("fresh_evidence_caches")


def _elongated(seed=1):
    """Two tilted, elongated clusters beside a round one (QA65's case in two dimensions)."""
    rng = np.random.default_rng(seed)

    def cluster(n, mean, angle, sds):
        c, s = np.cos(angle), np.sin(angle)
        return rng.normal(size=(n, 2)) * sds @ np.array([[c, -s], [s, c]]).T + mean

    return np.vstack([cluster(200, [0, 0], 0.6, [3, 0.4]), cluster(200, [4, 3], -0.7, [2.5, 0.5]),
                      cluster(150, [8, -2], 0.0, [1, 1])])


@pytest.mark.parametrize("covariance_type", ["spherical", "diag", "tied"])
def test_tilted_clusters_ask_for_full_covariances_with_the_bic_evidence(covariance_type):
    X = _elongated()
    em = fit_em(X, 3, covariance_type=covariance_type, n_init=5, random_state=0)
    evidence = shape_evidence(em, X)
    assert evidence is not None and evidence.better == "full"
    assert evidence.covariance_type == covariance_type and evidence.n_components == 3
    assert evidence.bic_fit == pytest.approx(em.bic(X))  # the fit's own (ML) BIC
    best_full = fit_em(X, 3, covariance_type="full", n_init=10, random_state=0)
    assert evidence.bic_better == pytest.approx(best_full.bic(X), abs=0.5)  # that optimum
    assert evidence.delta_bic > 500
    text = evidence.describe()
    assert text.startswith("BIC prefers full covariances at K=3 clearly (")
    assert f"for this fit's {covariance_type} covariances" in text
    assert "Consider covariance_type='full', or compare types and K together with select_em" \
        in text


def test_a_full_fit_is_refitted_with_one_component_more_only(monkeypatch):
    calls = []
    real = outliers.fit_em
    monkeypatch.setattr(outliers, "fit_em",
                        lambda *a, **k: calls.append((a[1], k["covariance_type"]))
                        or real(*a, **k))
    X = _elongated()
    assert shape_evidence(fit_em(X, 3, n_init=3, random_state=0), X) is None
    # full is the richest type: K + 1, and K from fresh starts (its best optimum) alone
    assert set(calls) == {(3, "full"), (4, "full")}
    rng = np.random.default_rng(0)
    for seed in range(3):  # round clusters of unequal spreads, fitted spherical
        Y = np.vstack([rng.normal([0, 0], 1, (200, 2)), rng.normal([6, 0], 2, (200, 2)),
                       rng.normal([0, 7], 0.5, (150, 2))])
        em = fit_em(Y, 3, covariance_type="spherical", n_init=3, random_state=seed)
        assert shape_evidence(em, Y) is None
        # a MAP fit: compared by its ML refit
        assert shape_evidence(fit_em(Y, 3, covariance_type="spherical", prior="default",
                                     random_state=seed), Y) is None


@pytest.mark.parametrize("covariance_type", ["full", "spherical"])
def test_k_below_the_groups_asks_for_one_component_more(covariance_type):
    """QA68: K=2 on three separated 1-D clusters, verdict OK and no hint, BIC 67 lower at
    K=3."""
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(-3.5, 1, 150), rng.normal(0, 1, 150), rng.normal(3.5, 1, 150)]
    em = fit_em(x, 2, covariance_type=covariance_type, n_init=5, random_state=0)
    evidence = shape_evidence(em, x)
    assert evidence is not None and evidence.more_components
    assert evidence.better_components == 3 and evidence.better == covariance_type
    three = fit_em(x, 3, covariance_type=covariance_type, n_init=10, random_state=0)
    assert evidence.bic_better == pytest.approx(three.bic(x), abs=0.5)
    text = evidence.describe()
    assert text.startswith("BIC prefers K=3 components clearly (")
    assert "for this fit's K=2, of the same covariance type; EM refits" in text
    assert "Consider n_components=3, or compare K and types together with select_em" in text
    # at the data's K, no hint
    assert shape_evidence(three, x) is None


def test_one_feature_has_only_tied_to_question():
    """In one dimension spherical, diag and full are one model; tied (one variance) is not."""
    rng = np.random.default_rng(2)
    x = np.r_[rng.normal(0, 0.3, 300), rng.normal(5, 3, 300)]
    for covariance_type in ("spherical", "diag"):
        assert shape_evidence(fit_em(x, 2, covariance_type=covariance_type, random_state=0),
                              x) is None
    evidence = shape_evidence(fit_em(x, 2, covariance_type="tied", random_state=0), x)
    assert evidence is not None and evidence.better == "full"
    assert "not alike (one shared covariance)" in evidence.describe()
    # in the words of one dimension (QA72: "full covariances" of one column)
    assert evidence.describe().startswith("BIC prefers a variance per component at K=2 ")
    assert "for this fit's one shared variance;" in evidence.describe()


def test_a_fit_at_a_poorer_optimum_is_not_told_k_is_too_small():
    """QA72: K=5 from one EM start stopped at a poorer optimum, and the hint said "BIC prefers
    K=6", where K=5's own best optimum beat K=6 by 20: the richer model is now judged
    against the fit's model at its best optimum."""
    rng = np.random.default_rng(1521)  # QA72's case: five 2-D clusters, their own shapes
    weights = 0.5 * rng.dirichlet(np.full(5, 5.0)) + 0.1
    rng.normal(size=(2, 2))  # (the case's unused shared covariance, kept for its stream)
    rng.uniform(0.3, 2.0, size=2)
    covs = []
    for _ in range(5):
        q, _ = np.linalg.qr(rng.normal(size=(2, 2)))
        covs.append(q @ np.diag(rng.uniform(0.3, 2.0, size=2)) @ q.T)
    for _ in range(200):
        means = rng.normal(size=(5, 2)) * 4
        if min(np.linalg.norm(means[i] - means[j]) for i in range(5) for j in range(i)) > 5:
            break
    z = rng.choice(5, size=1000, p=weights / weights.sum())
    X = np.empty((1000, 2))
    for k in range(5):
        X[z == k] = rng.multivariate_normal(means[k], covs[k], size=int((z == k).sum()))
    poor = fit_em(X, 5, random_state=8)  # one start (one of 27 seeds in 600 that stop short)
    best = fit_em(X, 5, n_init=10, random_state=0)
    assert poor.bic(X) > best.bic(X) + 50  # the case is exercised: a poorer optimum
    assert fit_em(X, 6, n_init=10, random_state=0).bic(X) < poor.bic(X) - 10  # K+1 beats it
    evidence = shape_evidence(poor, X)
    assert evidence is None or not evidence.more_components, evidence.describe()


def test_the_evidence_is_computed_once_per_fit_and_data(monkeypatch):
    X = _elongated()
    em = fit_em(X, 3, covariance_type="diag", random_state=0)
    first = shape_evidence(em, X)
    calls = []
    real = outliers.fit_em
    monkeypatch.setattr(outliers, "fit_em", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert shape_evidence(em, pd.DataFrame(X.copy())) is first and not calls
    # the fit saved with its record added (the command line's copy for its report): the
    # same fit, not computed again (QA111: the report's refits ran twice)
    import dataclasses

    recorded = dataclasses.replace(em, settings={**em.settings, "data_source": "x.csv"})
    assert shape_evidence(recorded, X) is first and not calls
    moved = X.copy()
    moved[0, 0] += 1.0
    shape_evidence(em, moved)
    assert calls  # other data: computed again
    calls.clear()
    other = dataclasses.replace(em, means=em.means + 1e-9)
    shape_evidence(other, X)
    assert calls  # another estimate: computed again
    calls.clear()
    renamed = dataclasses.replace(em, feature_names=("a", "b"))  # the evidence names columns
    shape_evidence(renamed, X)
    assert calls  # other names: computed again (QA114)


def test_weights_count_as_repeated_rows():
    """Frequency weights: the evidence of a fit to the weighted rows is that of the rows
    repeated."""
    X = _elongated()
    rows, counts = X[::2], np.where(np.arange(len(X[::2])) % 3 == 0, 2.0, 1.0)
    repeated = np.repeat(rows, counts.astype(int), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weighted = shape_evidence(fit_em(rows, 3, covariance_type="diag", random_state=0,
                                         sample_weight=counts), rows, sample_weight=counts)
        plain = shape_evidence(fit_em(repeated, 3, covariance_type="diag", random_state=0),
                               repeated)
    assert weighted is not None and plain is not None
    assert weighted.bic_fit == pytest.approx(plain.bic_fit, abs=0.5)
    assert weighted.bic_better == pytest.approx(plain.bic_better, abs=0.5)


def test_the_verdict_box_questions_the_model_and_is_amber():
    from bayesgmm.report import _verdict_box

    ok = types.SimpleNamespace(ok=True, checks=(), causes=(), advice=(), verdict="OK: all")
    box = html.unescape(_verdict_box(ok, shape="type"))
    assert 'class="verdict caution"' in box and "can be used as they are" not in box
    assert ("But the model itself is in question: a richer covariance type fits the same K "
            "clearly better (see") in box
    both = html.unescape(_verdict_box(ok, shape="type", outliers=True, n_components=2))
    assert "Its covariance type is in question too" in both
    more = html.unescape(_verdict_box(ok, shape="K"))
    assert "But the model itself is in question: one component more fits clearly better by " \
        "BIC (see" in more and 'class="verdict caution"' in more


def test_em_and_its_report_give_the_hint(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    pd.DataFrame(_elongated(), columns=["x", "y"]).to_csv("tilted.csv", index=False)
    rc = cli.main(["em", "tilted.csv", "-k", "3", "--covariance", "spherical", "--seed", "0",
                   "--n-init", "3", "--no-progress", "--report", "-o", "out"])
    out = capsys.readouterr().out
    assert rc == 0 and "\nhint: BIC prefers full covariances at K=3 clearly (" in out
    assert "Consider --covariance full, or compare types and K together with bayesgmm " \
        "select" in out
    page = html.unescape((tmp_path / "out" / "report.html").read_text())
    assert "Covariance type: BIC prefers full covariances at K=3 clearly" in page
    # said at the top too (QA72: only inside section 2)
    assert ("<strong>Model check: CAUTION.</strong> The data argue against this model: a "
            "richer covariance type fits clearly better (see") in page
    assert page.index("Model check: CAUTION") < page.index("1. Data overview")


def test_the_saved_verdict_records_the_hint():
    ok = types.SimpleNamespace(ok=True, verdict="OK: all", status="OK", causes=())
    record = _verdict_record(ok, None, "", shape="BIC prefers full covariances ...")
    assert record["status"] == "CAUTION" and record["sampling_status"] == "OK"
    assert record["richer_model"] == "BIC prefers full covariances ..."
    assert json.loads(json.dumps(_verdict_record(ok, None, "")))["status"] == "OK"


def test_outliers_get_the_noise_hint_not_one_component_more():
    """Review: two clusters and 3% scattered outliers got "consider --noise" and then "BIC
    prefers K=3 ... two groups under one component", the noise fit 45 BIC units better
    still: one hint, the noise's."""
    from bayesgmm.em import BOTH_INITS
    from bayesgmm.outliers import noise_evidence

    rng = np.random.default_rng(0)
    X = np.vstack([rng.multivariate_normal([0, 0], [[1, .5], [.5, 1]], 500),
                   rng.multivariate_normal([6, 0], [[1, -.3], [-.3, 1]], 500),
                   rng.uniform([-15, -15], [20, 15], (30, 2))])
    em = fit_em(X, 2, n_init=10, init=BOTH_INITS, random_state=0)
    noise = noise_evidence(em, X)
    assert noise is not None and noise.bic_larger_k is None  # outliers, by the noise check
    assert fit_em(X, 3, n_init=10, random_state=0).bic(X) < em.bic(X) - 10  # K+1 beats K
    assert shape_evidence(em, X) is None


def test_every_row_labelled_gets_no_one_component_more_check():
    """QA128 H2: with every row's component known, the richer-model check refitted K + 1
    components with the same labels, which check_labels refuses (component K holds no row):
    `em` and `fit` died after the fit and saved nothing."""
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (60, 2)), rng.normal(0, 1, (60, 2)) + 4]
    codes = np.repeat([0, 1], 60)
    em = fit_em(X, 2, labels=codes, random_state=0)
    shape_evidence(em, X, labels=codes)  # no error; no K + 1 refit to judge
    outliers.noise_evidence(em, X, labels=codes)  # nor in the noise check's


def test_a_fully_labelled_file_is_fitted_and_saved_by_em(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(np.r_[rng.normal(0, 1, (60, 2)), rng.normal(0, 1, (60, 2)) + 4],
                         columns=["x", "y"]).assign(lab=np.repeat(["a", "b"], 60))
    frame.to_csv(tmp_path / "lab.csv", index=False)
    monkeypatch.chdir(tmp_path)
    rc = cli.main(["em", "lab.csv", "-k", "2", "--labels", "lab", "--seed", "1",
                   "--no-progress", "--out", "out"])
    assert rc == 0, capsys.readouterr().err
    assert (tmp_path / "out" / "em.json").is_file()


# QA135 S1: frequency weights are the user's choice: no copies caveat beside them
def test_no_copies_caveat_beside_frequency_weights():
    from bayesgmm.shape_evidence import copies_caveat

    X = np.repeat(np.random.default_rng(5).normal(0, 1, (30, 2)), 10, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "copies also make extra components look better" in copies_caveat(X)
        assert copies_caveat(X, np.ones(len(X))) == ""


def test_counts_get_a_caveat_of_ties_and_other_weights_none():
    """QA139 H2: counts tables (weights 1-5) of two Gaussians were told "one component more"
    7 times in 10, the extra component on 4 distinct rows: a row weighing 5 is 5 tied
    observations, which the hint now says; weights of 1, a few counts, or design weights
    (their own sentence) get none."""
    from bayesgmm.shape_evidence import copies_caveat

    X = np.random.default_rng(5).normal(0, 1, (60, 2))
    counts = np.random.default_rng(6).integers(1, 6, 60).astype(float)
    said = copies_caveat(X, counts)
    heavy = int((counts > 1).sum())
    assert said.startswith(f". Note: {heavy} of the 60 rows weigh more than 1, each as many "
                           "tied observations (frequency weights), and ties make extra "
                           "components look better")
    assert copies_caveat(X, np.ones(60)) == ""
    assert copies_caveat(X, np.r_[np.ones(59), 3.0]) == ""  # one count: no pattern
    assert copies_caveat(X, counts * 12345.678) == ""  # design weights: said elsewhere


def _verdict_record(*args, **kwargs):
    """The verdict as result.json keeps it (the command line's record)."""
    from bayesgmm.cli import _overall_verdict

    return _overall_verdict(*args, **kwargs).to_dict()
