"""Which components make one mode: ridgeline ratios against closed forms and brute force."""

import numpy as np
import pytest
from scipy.stats import norm

from bayesgmm.modality import (
    RIDGELINE_CUTOFF,
    one_mode_groups,
    ridgeline_ratios,
    shape_note,
    shape_note_again,
)


def _brute_ratio_1d(w, mu, sd, n=200_001):
    """The ridgeline ratio of a 1-D pair by a fine grid between (and beyond) the means: in
    1-D the ridgeline runs from one mean to the other."""
    x = np.linspace(min(mu), max(mu), n)
    f = w[0] * norm.pdf(x, mu[0], sd[0]) + w[1] * norm.pdf(x, mu[1], sd[1])
    inner = (f[1:-1] > f[:-2]) & (f[1:-1] >= f[2:])
    peaks = np.flatnonzero(np.concatenate([[f[0] > f[1]], inner, [f[-1] > f[-2]]]))
    if len(peaks) < 2:
        return 1.0
    a, b = peaks[0], peaks[-1]
    return f[a:b + 1].min() / min(f[a], f[b])


def _ratio(w, mu, sd):
    mu = np.asarray(mu, float)[:, None]
    cov = (np.asarray(sd, float) ** 2)[:, None, None]
    return ridgeline_ratios(np.asarray(w, float), mu, cov)[0, 1]


@pytest.mark.parametrize("separation, one_mode", [(1.9, True), (1.99, True), (2.02, False),
                                                  (3.0, False)])
def test_equal_halves_have_one_mode_up_to_two_sds_apart(separation, one_mode):
    """Closed form: two equal-weight normals of sd 1 are unimodal iff |mu_1 - mu_2| <= 2."""
    ratio = _ratio([0.5, 0.5], [0.0, separation], [1.0, 1.0])
    assert bool(ratio == 1.0) is one_mode


def test_ratios_match_a_brute_force_grid():
    rng = np.random.default_rng(3)
    for _ in range(40):
        w = rng.dirichlet([2.0, 2.0])
        mu = [0.0, rng.uniform(0.5, 6.0)]
        sd = rng.uniform(0.3, 2.0, 2)
        assert _ratio(w, mu, sd) == pytest.approx(_brute_ratio_1d(w, mu, sd), abs=2e-3)


def test_equal_covariances_in_two_dimensions_follow_the_mahalanobis_distance():
    """Equal weights and one covariance: one mode iff the Mahalanobis distance is <= 2,
    whatever the direction (the ridgeline is then the segment between the means)."""
    cov = np.array([[2.0, 0.9], [0.9, 1.0]])
    direction = np.array([1.0, -0.4])
    unit = direction / np.sqrt(direction @ np.linalg.solve(cov, direction))
    for distance, one_mode in ((1.95, True), (2.05, False)):
        means = np.array([[0.0, 0.0], distance * unit])
        ratio = ridgeline_ratios(np.array([0.5, 0.5]), means, np.array([cov, cov]))[0, 1]
        assert bool(ratio == 1.0) is one_mode


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_groups_join_the_components_the_data_do_not_show_apart(covariance_type):
    """Components 0 and 1 overlap into one mode, 2 sits far off, 3 overlaps 2 by a shallow
    dip only when the cutoff allows it."""
    means = np.array([[0.0, 0.0], [1.0, 0.5], [10.0, 10.0], [14.0, 10.0]])
    var = np.ones(4)
    covariances = {"full": np.array([np.diag([v, v]) for v in var]), "tied": np.eye(2),
                   "diag": np.ones((4, 2)), "spherical": var}[covariance_type]
    weights = np.full(4, 0.25)
    assert one_mode_groups(weights, means, covariances, covariance_type) == [[0, 1]]
    assert one_mode_groups(weights, means, covariances, covariance_type, cutoff=0.0) == \
        [[0, 1, 2, 3]]
    assert 0 < RIDGELINE_CUTOFF <= 1


def test_a_broad_component_between_two_clusters_does_not_chain_them():
    """QA: two tight clusters 8 sd apart, each one mode with a broad component between them,
    were "one group" (single linkage through the broad one), though the three components'
    own mixture has two clear modes; the broad one joins one cluster only (a partition: a
    count of clusters stays two), and a group whose members' mixture is one mode (a skewed
    chain of components) still forms."""
    weights = np.array([0.45, 0.45, 0.10])
    means = np.array([[0.0, 0.0], [8.0, 0.0], [4.0, 0.0]])
    covariances = np.array([np.eye(2), np.eye(2), 16 * np.eye(2)])
    ratios = ridgeline_ratios(weights, means, covariances)
    assert ratios[0, 2] == ratios[1, 2] == 1.0 and ratios[0, 1] < 0.01
    (group,) = one_mode_groups(weights, means, covariances, "full")
    assert 2 in group and len(group) == 2
    # a skewed cluster in three overlapping components, 1 sd apart: one group
    chain = np.array([[0.0, 0.0], [1.0, 0.0], [2.2, 0.0]])
    assert one_mode_groups(np.array([0.5, 0.3, 0.2]), chain,
                           np.array([np.eye(2), 1.5 * np.eye(2), 2.5 * np.eye(2)]),
                           "full") == [[0, 1, 2]]


def test_the_note_says_its_explanation_once():
    note = shape_note([("K=2 full (BIC's choice)", [[0, 1]]),
                       ("K=4 tied (ICL's choice)", [[0, 2, 3], [1, 4]]),
                       ("K=3 full (AIC's choice)", [])])
    assert "K=2 full (BIC's choice): components 0 and 1; K=4 tied (ICL's choice): " \
           "components {0, 2, 3} and {1, 4}. Such a group is either one cluster" in note
    assert note.count("K counts Gaussian components") == 1 and "AIC" not in note
    assert shape_note([("K=3 full", [])]) == ""


def test_select_em_says_when_its_choice_counts_components_not_clusters():
    """QA: one heavy-tailed cluster was chosen as K=2-4 with no word that components are not
    clusters; three clusters far apart get no such note."""
    from bayesgmm.selection import select_em

    rng = np.random.default_rng(1)
    heavy = rng.standard_t(3, size=(500, 1))
    sel = select_em(heavy, [1, 2, 3], ["full"], random_state=0, n_jobs=1)
    (note,) = [n for n in sel.notes if "K counts Gaussian components" in n]
    assert "(BIC's" in note and "components 0 and 1" in note
    from bayesgmm.report import build_selection_report

    page, _ = build_selection_report(sel, X=heavy)
    assert "distinct groups, keep them.</p>" in page  # one full stop (review: "again..")
    apart = np.concatenate([rng.normal(m, 1.0, 200) for m in (-8.0, 0.0, 8.0)])[:, None]
    notes = select_em(apart, [2, 3, 4], ["full"], random_state=0, n_jobs=1).notes
    assert not any("K counts Gaussian components" in n for n in notes)


def test_the_loo_verdict_says_it_of_the_best_and_the_simplest_model():
    """QA: LOO's best K=4 for one heavy-tailed cluster, with no word that components are not
    clusters; read at each model's posterior means."""
    from conftest import posterior_stand_in

    from bayesgmm.selection.loo_verdict import shape_warning

    rng = np.random.default_rng(1)  # one heavy-tailed cluster: a narrow and a wide normal
    heavy = np.concatenate([rng.normal(0, 1, 280), rng.normal(0, 3, 120)])[:, None]
    results = {f"K={k}": posterior_stand_in(heavy, k) for k in (2, 3)}
    (note,) = shape_warning(results, "K=3", "K=2")
    assert "K=3 (best by elpd_loo): components" in note
    assert "K=2 (simplest within noise): components 0 and 1" in note
    (once,) = shape_warning(results, "K=2", "K=2", "K=2")
    assert once.count("K=2") == 1
    (trusted,) = shape_warning(results, "K=3", None, "K=2")
    assert "K=2 (simplest within noise that passed every check): components 0 and 1" in trusted
    apart = np.concatenate([rng.normal(m, 1.0, 150) for m in (-8.0, 8.0)])[:, None]
    assert shape_warning({"K=2": posterior_stand_in(apart, 2)}, "K=2", None) == []


def test_components_of_mixed_draws_are_judged_at_the_start_not_at_their_means():
    """QA (galaxies K=3): the posterior mean of a component whose draws move between two
    places lies between them and made one mode with a distinct cluster; the verdict said
    "merge components 0 and 2" beside advice not to report that component's summaries."""
    from dataclasses import replace

    from conftest import posterior_stand_in

    from bayesgmm.selection.loo_verdict import shape_warning

    rng = np.random.default_rng(2)
    apart = np.concatenate([rng.normal(m, 1.0, 150) for m in (-8.0, 8.0)])[:, None]
    model = posterior_stand_in(apart, 2)
    em = model.em
    averaged = em.means.copy()
    averaged[1] = em.means[0] + 1.0  # drawn towards the other cluster by its wandering

    class Averaged:  # the posterior means of a mixed component; the start where it was
        covariance_type, n_components = model.covariance_type, 2
        em = model.em

        def posterior_mean(self):
            return em.weights, averaged, em.covariances

        _posterior_mean = posterior_mean  # BayesResult's own, without its warning

    stand_in = Averaged()
    assert shape_warning({"K=2": stand_in}, "K=2", None) != []  # at the averaged means
    assert shape_warning({"K=2": stand_in}, "K=2", None, unreported={"K=2": (1,)}) == []
    # a group at the start is still said, and said to be read there
    joined = replace(em, means=np.array([[-0.5], [0.5]]))
    stand_in.em = joined
    (note,) = shape_warning({"K=2": stand_in}, "K=2", None, unreported={"K=2": (1,)})
    assert ("K=2 (best by elpd_loo, at its MAP-EM start: the posterior means of component(s) "
            "1 describe no single cluster): components 0 and 1") in note


def test_a_page_gives_the_explanation_once():
    """QA67: the select report's EM and LOO sections each gave the whole paragraph."""
    note = shape_note([("K=3 (best by elpd_loo)", [[0, 2]])])
    again = shape_note_again(f"Warnings: fits failed. {note}")
    assert again == ("Warnings: fits failed. Components the data show as one group (as "
                     "explained above): K=3 (best by elpd_loo): components 0 and 2.")
    assert shape_note_again("no such note") == "no such note"


def test_the_shape_note_of_one_feature_speaks_of_no_tilt_or_correlations():
    """1-D galaxies' report read "skewed, heavy-tailed, or tilted where the type has no
    correlations: diag, spherical" of a fit of one feature, which has neither."""
    from bayesgmm.modality import shape_note, shape_note_again

    fits = [("K=3 full", [[0, 2]])]
    one, two = shape_note(fits, one_feature=True), shape_note(fits)
    assert "correlations" not in one and "tilted" not in one and "skewed or heavy-tailed" in one
    assert "tilted where the type has no correlations" in two
    assert shape_note_again(one) == shape_note_again(two)  # the pointer, either way
