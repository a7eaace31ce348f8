"""The HTML reports and their figures: self-contained, valid PNGs, the fitted numbers in tables."""

import base64
import html
import io
import warnings
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from conftest import fake_fit, loglik_draws, overfitted_posterior, simulate_mixture  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

import bayesgmm  # noqa: E402
from bayesgmm import plots  # noqa: E402
from bayesgmm.posterior import BayesResult  # noqa: E402
from bayesgmm.priors import Priors, Standardisation  # noqa: E402
from bayesgmm.relabel import LabelSwitchingReport  # noqa: E402
from bayesgmm.report import (  # noqa: E402
    build_report,
    build_selection_report,
    format_number,
    write_report,
    write_selection_report,
)
from bayesgmm.selection import compare, select_em, summarise_sparse  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """Collects what the tests look at: images, headings, links, scripts, table cells."""

    def __init__(self):
        super().__init__()
        self.images, self.h2, self.external, self.cells = [], [], [], []
        self.scripts = 0
        self._tag = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._tag = tag
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if value.startswith(("http:", "https:", "//")):
                self.external.append(value)

    def handle_data(self, data):
        if self._tag == "h2":
            self.h2.append(data.strip())
        if self._tag in ("td", "th") and data.strip():
            self.cells.append(data.strip())

    def handle_endtag(self, tag):
        self._tag = None


@pytest.fixture(scope="module")
def report(tiny_fit):
    page, figures = build_report(tiny_fit, data_source="old_faithful.csv")
    parser = _Page()
    parser.feed(page)
    parser.close()
    return page, figures, parser


def test_report_is_self_contained_html(report):
    page, figures, parser = report
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert parser.scripts == 0 and parser.external == []
    assert len(parser.h2) == 8
    assert len(parser.images) == len(figures) >= 7


def test_every_image_is_an_embedded_png(report):
    _, figures, parser = report
    for src, fig in zip(parser.images, figures, strict=True):
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        png = base64.b64decode(src[len(prefix):], validate=True)
        assert png == fig.png and png.startswith(PNG_SIGNATURE)
        with Image.open(io.BytesIO(png)) as im:
            im.verify()
            assert im.format == "PNG" and min(im.size) > 100


def test_tables_carry_the_fitted_numbers(report, tiny_fit):
    _, _, parser = report
    cells = set(parser.cells)
    em = tiny_fit.em
    assert format_number(em.log_likelihood, 6) in cells
    X = tiny_fit.idata["observed_data"]["x"].values
    assert format_number(em.bic(X), 6) in cells
    assert format_number(em.means[1, 1], 6) in cells
    summary = tiny_fit.summary()
    assert format_number(summary.loc["means[0, waiting]", "mean"]) in cells
    assert format_number(summary.loc["weights[1]", "r_hat"]) in cells
    assert "means[1, eruptions]" in cells  # feature names label the parameters
    comp = tiny_fit.compare_em()
    assert format_number(comp.loc["means[1, waiting]", "sd"]) in cells
    assert bayesgmm.__version__ in cells and "nutpie" in cells


def test_report_text(report, tiny_fit):
    page, _, _ = report
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verdict = tiny_fit.diagnostics().verdict
    assert html.escape(verdict) in page
    assert "Label switching:" in page
    assert "old_faithful.csv" in page


def test_write_report_files_match_and_replace_cleanly(tiny_fit, tmp_path):
    html_path = write_report(tiny_fit, tmp_path)
    assert html_path == tmp_path / "report.html"
    pngs = sorted((tmp_path / "figures").glob("*.png"))
    assert {p.stem for p in pngs} >= {"overlay", "membership", "trace", "rank", "ppc",
                                       "em_convergence", "data"}
    page = html_path.read_text()
    for p in pngs:
        assert base64.b64encode(p.read_bytes()).decode() in page
    (tmp_path / "figures" / "stale.png").write_bytes(b"old")
    write_report(tiny_fit, tmp_path)
    assert not (tmp_path / "figures" / "stale.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures", "manifest.json",
                                                          "report.html"]


# --------------------------------------------------------------------------------------------
# plots on 1-D and 3-D data, without sampling: a posterior made of jittered EM estimates
# --------------------------------------------------------------------------------------------
def _fake_result(X, K, seed=0) -> BayesResult:
    em = bayesgmm.fit_em(X, K, random_state=seed)
    rng = np.random.default_rng(seed)
    C, S = 2, 30
    N, D = np.asarray(X).reshape(len(X), -1).shape
    w = em.weights * np.exp(0.05 * rng.standard_normal((C, S, K)))
    w /= w.sum(axis=-1, keepdims=True)
    sd = np.sqrt(np.diagonal(em.full_covariances, axis1=1, axis2=2))
    m = em.means + 0.05 * sd * rng.standard_normal((C, S, K, D))
    cov = np.broadcast_to(em.covariances, (C, S, *em.covariances.shape)).copy()
    features = list(em.feature_names)
    coords = {"chain": [0, 1], "draw": np.arange(S), "component": np.arange(K),
              "feature": features, "feature_bis": features}
    post = xr.Dataset({"weights": (("chain", "draw", "component"), w),
                       "means": (("chain", "draw", "component", "feature"), m),
                       "covariances": (("chain", "draw", "component", "feature", "feature_bis"),
                                       cov)}, coords=coords)
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((C, S), bool)),
                        "energy": (("chain", "draw"), rng.standard_normal((C, S)))},
                       coords={"chain": [0, 1], "draw": np.arange(S)})
    Xv = np.asarray(X, dtype=float).reshape(N, D)
    tree = xr.DataTree.from_dict({
        "posterior": post, "sample_stats": stats,
        "observed_data": xr.Dataset({"x": (("observation", "feature"), Xv)},
                                    coords={"feature": features}),
    })
    perms = np.broadcast_to(np.arange(K), (C, S, K))
    return BayesResult(tree, em, Priors(), Standardisation.from_data(Xv, "full"), "full",
                       LabelSwitchingReport.from_permutations(perms), {"random_state": seed})


@pytest.fixture(scope="module")
def one_d(galaxies):
    return _fake_result(galaxies, 3)


@pytest.fixture(scope="module")
def three_d():
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(0, 1, (40, 3)), rng.normal([4, 3, -2], 1, (30, 3))])
    import pandas as pd

    return _fake_result(pd.DataFrame(X, columns=["a", "b", "c"]), 2)


@pytest.fixture(autouse=True)
def never_show(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("plots must not call show()")

    monkeypatch.setattr(plt, "show", refuse)
    monkeypatch.setattr(Figure, "show", refuse)


def test_plots_return_figures_and_draw_into_given_axes(one_d):
    for make in (plots.plot_overlay, plots.plot_membership):
        fig = make(one_d)
        assert isinstance(fig, Figure) and fig.axes
        given = Figure()
        ax = given.add_subplot()
        assert make(one_d, ax=ax) is given and ax.has_data()
    fig = plots.plot_em_convergence(one_d.em)
    assert fig.axes[0].get_ylabel() == "log-likelihood"
    fig = plots.plot_ppc_density(one_d, n_replicates=5)
    assert len(fig.axes) == 1


def test_pair_plots_for_more_than_two_features(three_d):
    fig = plots.plot_overlay(three_d, n_draws=5)
    assert len(fig.axes) == 9 and sum(a.axison for a in fig.axes) == 6
    assert len(plots.plot_data(three_d.idata["observed_data"]["x"].values).axes) == 9
    with pytest.raises(ValueError, match="needs its own figure"):
        plots.plot_overlay(three_d, ax=Figure().add_subplot())
    assert "first two features" in plots.plot_membership(three_d).axes[0].get_title()
    assert len(plots.plot_ppc_density(three_d, n_replicates=3).axes) == 3


def test_report_on_one_dimensional_data(one_d):
    page, figures = build_report(one_d)
    assert len(figures) >= 7 and "velocity" in page


# --------------------------------------------------------------------------------------------
# the model-selection report (``bayesgmm select``), without sampling
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def selection():
    X, _, _ = simulate_mixture(n=150, seed=3)
    em = select_em(X, range(1, 4), ("full", "diag"), n_init=2, random_state=0, n_jobs=1)
    rng = np.random.default_rng(0)
    base = rng.normal(-2.0, 0.5, size=150)
    bayes = compare({"K=2": fake_fit(loglik_draws(rng, base - 0.4), 2),
                     "K=3": fake_fit(loglik_draws(rng, base), 3)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sparse = summarise_sparse(overfitted_posterior(X), random_state=0)
    return em, bayes, sparse


def test_selection_report_sections_figures_and_numbers(selection):
    em, bayes, sparse = selection
    page, figures = build_selection_report(em, bayes=bayes, sparse=sparse,
                                           data_source="three.csv", settings={"jobs": 1})
    parser = _Page()
    parser.feed(page)
    assert page.startswith("<!DOCTYPE html>") and parser.scripts == 0 and parser.external == []
    assert parser.h2 == ["1. EM information criteria", "2. Bayesian comparison (PSIS-LOO)",
                         "3. Sparse mixture: number of non-empty components",
                         "4. Settings and software"]
    assert [f.name for f in figures] == ["criteria", "loo", "n_components"]
    for src, fig in zip(parser.images, figures, strict=True):
        assert src == "data:image/png;base64," + base64.b64encode(fig.png).decode()
        assert fig.png.startswith(PNG_SIGNATURE)
    cells = set(parser.cells)
    k, ct = em.best["bic"]
    row = em.table[(em.table["n_components"] == k) & (em.table["covariance_type"] == ct)]
    assert k == 3 and format_number(row["bic"].iloc[0], 6) in cells
    assert format_number(em.pivot("icl").loc[1, "diag"], 6) in cells
    assert format_number(bayes.comparison.loc["K=2", "elpd_diff"]) in cells
    assert html.escape(bayes.verdict) in page and f"K+ = {sparse.mode}" in page
    assert "three.csv" in page and bayesgmm.__version__ in cells


def test_write_selection_report_em_only(selection, tmp_path):
    em, _, _ = selection
    path = write_selection_report(em, tmp_path)
    assert path == tmp_path / "select.html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures", "manifest.json",
                                                          "select.html"]
    (png,) = (tmp_path / "figures").iterdir()
    assert png.name == "criteria.png"
    page = path.read_text()
    assert base64.b64encode(png.read_bytes()).decode() in page
    assert "PSIS-LOO" not in page and "Sparse mixture" not in page
    with pytest.raises(ValueError, match="needs an EMSelection"):
        build_selection_report(em.table)


def test_plain_verdict_gives_the_diagnosed_cause():
    import types

    from bayesgmm.report import _plain

    diag = types.SimpleNamespace(ok=False, checks=(), advice=(
        "poor start: chain(s) 2 found a better mode; restart EM from it",))
    text = _plain(diag)
    assert "Poor start: chain(s) 2 found a better mode" in text
    assert "K is too large" not in text
