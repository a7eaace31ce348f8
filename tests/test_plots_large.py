"""Figures and reports of large data sets (QA: at N = 200,000 the report took longer than the
fit and 7 GB; scatter plots of a million points were solid blobs, one component painted over
another, rugs solid bars, counts unformatted). What a figure evaluates or draws per point is
bounded: a seeded random subset, said in its title and caption. No timings here: the
benchmark (benchmarks/bench_report.py) measures them."""

import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import posterior_stand_in  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402

from bayesgmm import fit_em, plots, progress  # noqa: E402
from bayesgmm.plots import fit as fit_plots  # noqa: E402
from bayesgmm.plots._common import _RUG_POINTS, SCATTER_POINTS  # noqa: E402


def _clusters(n: int, d: int = 2, seed: int = 0) -> np.ndarray:
    """Two overlapping clusters, the first 60% of the rows (drawn in that order)."""
    rng = np.random.default_rng(seed)
    first = int(0.6 * n)
    return np.r_[rng.normal(0.0, 1.0, (first, d)), rng.normal(1.5, 1.0, (n - first, d))]


@pytest.fixture(scope="module")
def large():
    X = _clusters(3 * SCATTER_POINTS // 2)  # 30,000 rows: more than a scatter draws
    return X, fit_em(X, 2, random_state=0)


def _points(ax) -> int:
    return sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))


@pytest.mark.parametrize("figure", ["data", "density", "overlay", "classification",
                                    "membership"])
def test_scatter_draws_a_subset_and_says_so(large, figure):
    X, em = large
    fig = plots.plot_data(X) if figure == "data" else getattr(plots, f"plot_{figure}")(em, X)
    ax = fig.axes[0]
    # the membership figure circles up to 10 uncertain points on top of its scatter
    assert _points(ax) <= SCATTER_POINTS + 10
    assert f"20,000 of {len(X):,} points shown" in ax.get_title()


def test_pair_grid_title_says_the_subset(large):
    X = _clusters(len(large[0]), d=3)
    assert "20,000 of 30,000 points shown" in plots.plot_data(X)._suptitle.get_text()
    assert "Data: 30,000 points" in plots.plot_data(X)._suptitle.get_text()


@pytest.mark.parametrize("figure", ["classification", "membership"])
def test_components_are_drawn_in_random_order(figure):
    """QA: drawn component by component, the last covered the first where they overlap.
    The rows come sorted by cluster: the points drawn last must still mix the components."""
    X = _clusters(2000)
    em = fit_em(X, 2, random_state=0)
    ax = getattr(plots, f"plot_{figure}")(em, X).axes[0]
    dots = max((c for c in ax.collections if isinstance(c, PathCollection)),
               key=lambda c: len(c.get_offsets()))
    assert len(dots.get_offsets()) > 1900  # one scatter of (nearly) all points, not one each
    assert "shown" not in ax.get_title()  # small data: every point drawn, nothing to say
    colours = np.round(dots.get_facecolors()[:, :3], 3)
    last = colours[-200:]
    assert len(np.unique(last, axis=0)) == 2  # both components among the last drawn


def test_rug_is_capped_and_said():
    x = _clusters(30_000, d=1)
    em = fit_em(x, 2, random_state=0)
    for fig in (plots.plot_density(em, x), plots.plot_membership(em, x)):
        ax = fig.axes[0]
        rug = [ln for ln in ax.lines if ln.get_marker() == "|"]
        assert rug and all(len(ln.get_xdata()) <= _RUG_POINTS for ln in rug)
        title = fig._suptitle.get_text() if fig._suptitle else ax.get_title()
        assert "rug: 2,000 of 30,000 points" in title


def test_density_is_evaluated_at_a_bounded_number_of_points(large, density_sizes):
    """The contour levels came from the density at every point: 100 draws x 200,000 points
    held 3 GB. Now at the points drawn (at most SCATTER_POINTS) and on the grid."""
    X, _ = large
    post = posterior_stand_in(X, 2)
    sizes = density_sizes
    plots.plot_density(post)
    assert sizes and max(sizes) <= max(SCATTER_POINTS, 150 ** 2)


def test_density_2d_in_passes_is_the_same(monkeypatch):
    rng = np.random.default_rng(1)
    points = rng.normal(size=(500, 2))
    w = rng.dirichlet([1, 1, 1], size=4)
    m = rng.normal(size=(4, 3, 2))
    c = np.broadcast_to(np.eye(2), (4, 3, 2, 2)).copy()
    whole = fit_plots._density_2d(points, w, m, c)
    monkeypatch.setattr(fit_plots, "_MAX_VALUES", 24 * 7)  # passes of 7 points
    np.testing.assert_allclose(fit_plots._density_2d(points, w, m, c), whole, rtol=1e-12)


def test_predictive_statistics_simulate_in_bounded_passes(monkeypatch):
    """All 200 replicates at once held 200 x N x D x D floats (6 GB at N = 200,000): each
    pass now holds at most _MAX_VALUES, and every replicate is still of N rows."""
    X = _clusters(40_000)
    post = posterior_stand_in(X, 2, draws=150)
    calls = []
    real = type(post).sample_posterior_predictive

    def spy(self, n_samples=None, *, max_draws=500, random_state=None):
        calls.append((n_samples, max_draws))
        return real(self, n_samples, max_draws=max_draws, random_state=random_state)

    monkeypatch.setattr(type(post), "sample_posterior_predictive", spy)
    fig = plots.plot_ppc_statistics(post, n_replicates=200)
    assert len(calls) > 1
    assert all(n == len(X) and n * d * 4 <= 20_000_000 for n, d in calls)
    assert sum(d for _, d in calls) == 200
    assert "200 replicated data sets" in fig._suptitle.get_text()
    counts = sum(p.get_height() for p in fig.axes[0].patches)
    assert counts == 200  # every replicate's statistic in the histogram


def test_em_report_formats_counts_and_says_the_subset(large):
    from bayesgmm.report import build_em_report

    X, em = large
    page, _ = build_em_report(em, X)
    assert "30,000 points x 2 feature(s)" in page
    assert "30,000 observations of 2 feature(s)" in page
    assert "20,000 of 30,000 points shown, a seeded random subset" in page
    assert "30000" not in page.replace("30,000", "")


def test_a_slow_figure_is_named_when_done(monkeypatch, capsys):
    """Off a terminal a status line comes at most every DETAIL_EVERY_S seconds: a figure begun
    just after one went unnamed however long it ran (QA: figures 3 and 4 never announced
    themselves in 66 s). A figure that took that long is named when it is done."""
    from matplotlib.figure import Figure

    from bayesgmm.report import _embedder

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    monkeypatch.setattr(progress, "DETAIL_EVERY_S", 0.0)  # every figure counts as slow
    with progress.step("writing the report", True):
        _embedder([])("density", "caption", lambda: Figure())
    assert "figure 1 (density) took" in capsys.readouterr().err


def test_known_label_rings_sit_on_drawn_points():
    """Review: beyond SCATTER_POINTS rows the rings of labelled rows were a subset of their
    own, ringing points that were not drawn. Every ring now holds a drawn point."""
    from bayesgmm.plots import _common

    n = 400
    labelled = np.zeros(n, dtype=bool)
    labelled[::3] = True
    drawn = _common._drawing_order(n, 50)
    rings = _common._labelled_drawn(labelled, drawn)
    assert set(rings) <= set(drawn) and labelled[rings].all()
    assert set(rings) == set(drawn[labelled[drawn]])
    # by a row count: the rows every scatter draws (all of them below SCATTER_POINTS)
    assert set(_common._labelled_drawn(labelled, n)) == set(np.flatnonzero(labelled))
