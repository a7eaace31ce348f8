"""Figures name components as the tables do: by their known labels' names, and "noise"."""

import dataclasses

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from bayesgmm import fit_em, plots  # noqa: E402
from bayesgmm.observation_record import name_labels  # noqa: E402


def _texts(fig) -> set[str]:
    """Every piece of text a figure shows: titles, axis and tick labels, legend entries."""
    return {t.get_text() for t in fig.findobj(Text) if t.get_text()}


def _bare_component_names(texts: set[str]) -> list[str]:
    return [t for t in texts if t.startswith("component ") and "(" not in t]


@pytest.fixture(scope="module")
def labelled_em(old_faithful):
    X = old_faithful.to_numpy(dtype=float)
    labels = np.where(np.arange(len(X)) % 10 == 0, (X[:, 0] < 3).astype(int), -1)
    em = fit_em(X, 2, labels=labels, noise=True, random_state=0)
    name_labels(em, ("long", "short"))
    return em, X, labels >= 0


@pytest.mark.parametrize("figure", ["density", "classification", "membership", "overlay"])
def test_two_feature_figures_name_components_by_their_labels(labelled_em, figure):
    em, X, labelled = labelled_em
    draw = getattr(plots, f"plot_{figure}")
    kwargs = {"labelled": labelled} if figure in ("classification", "membership") else {}
    texts = _texts(draw(em, X=X, **kwargs))
    assert not _bare_component_names(texts), texts
    if figure == "density":  # 2-D: contours only, no component named
        return
    assert any("component 0 (long)" in t for t in texts), texts
    assert any("component 1 (short)" in t for t in texts), texts
    if figure == "classification":  # membership lists only the groups that have points
        assert "noise" in texts


@pytest.mark.parametrize("figure", ["density", "classification", "membership"])
def test_one_feature_figures_name_components_by_their_labels(labelled_em, figure):
    em, X, labelled = labelled_em
    x = X[:, :1]
    em1 = fit_em(x, 2, labels=np.where(labelled, np.argmax(em.predict_proba(X)[:, :2], 1), -1),
                 noise=True, random_state=0)
    name_labels(em1, ("long", "short"))
    texts = _texts(getattr(plots, f"plot_{figure}")(em1, x))
    assert {"component 0 (long)", "component 1 (short)"} <= texts, texts
    assert not _bare_component_names(texts)


def test_pair_grid_legend_names_components_and_noise_in_black():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (80, 3)), rng.normal(5, 1, (80, 3)),
              rng.uniform(-4, 9, (10, 3))]
    labels = np.full(len(X), -1)
    labels[[0, 1, 80, 81]] = [0, 0, 1, 1]
    em = fit_em(X, 2, labels=labels, noise=True, random_state=0)
    name_labels(em, ("low", "high"))
    for draw in (plots.plot_classification, plots.plot_overlay, plots.plot_density):
        fig = draw(em, X=X, **({"labelled": labels >= 0}
                               if draw is plots.plot_classification else {}))
        texts = _texts(fig)
        assert not _bare_component_names(texts), (draw.__name__, texts)
        if draw is plots.plot_density:
            assert {"component 0 (low)", "component 1 (high)"} <= texts
            continue
        (legend,) = fig.legends
        entries = {t.get_text(): h for t, h in zip(legend.get_texts(), legend.legend_handles,
                                                     strict=True)}
        assert {"component 0 (low)", "component 1 (high)"} <= set(entries)
        if draw is plots.plot_classification:  # the noise entry is the noise's colour (its
            # marker since QA87's line-style key: a Line2D, not a patch)
            assert matplotlib.colors.to_hex(entries["noise"].get_color()) == "#000000"
            assert entries["noise"].get_marker() == "x"
            assert "known label (in its component's colour)" in entries


def test_forest_rows_are_named_by_the_labels(tiny_fit):
    result = dataclasses.replace(tiny_fit, observations_summary={"label_names": ["a", "b"]})
    texts = _texts(plots.plot_forest(result))
    assert {"component 0 (a)", "component 1 (b)"} <= texts
    assert not _bare_component_names(texts)
    assert "component 0" in _texts(plots.plot_forest(tiny_fit))  # no names: as before


def test_without_names_figures_keep_plain_numbers(old_faithful):
    X = old_faithful.to_numpy(dtype=float)
    em = fit_em(X, 2, random_state=0)
    texts = _texts(plots.plot_classification(em, X))
    assert {"component 0", "component 1"} <= texts and "noise" not in texts


def test_overlay_legend_lines_are_opaque_though_the_draws_are_faint(tiny_fit):
    fig = plots.plot_overlay(tiny_fit, n_draws=5)
    (legend,) = [a.get_legend() for a in fig.axes if a.get_legend() is not None]
    assert all(h.get_alpha() in (None, 1.0) for h in legend.legend_handles)


@pytest.mark.parametrize("figure", ["plot_density", "plot_classification", "plot_membership"])
def test_noise_points_far_away_do_not_shrink_the_clusters(old_faithful, figure):
    """With a noise component the 2-D axes are set around the points the Gaussians claim;
    the far outliers the noise takes are counted in a note instead of stretching the axes."""
    X = np.vstack([old_faithful.to_numpy(), [[50.0, 2000.0], [-3.0, 500.0]]])
    em = fit_em(X, 2, noise=True, n_init=10, random_state=1)
    assert (em.predict(X)[-2:] == -1).all()  # the premise: the noise takes both outliers
    fig = getattr(plots, figure)(em, X)
    ax = fig.axes[0]
    assert ax.get_xlim()[1] < 10 and ax.get_ylim()[1] < 200  # the clusters, not the outliers
    notes = [t.get_text() for t in ax.texts]
    assert "2 noise point(s) beyond the axes (triangles at the edge)" in notes
    # QA: the noise points were drawn nowhere (the legend's "x noise" marked nothing): each
    # is a triangle inside the frame, on the edge it is beyond (both far above: pointing up)
    edge = [line for line in ax.lines if line.get_transform() == ax.transAxes]
    assert [line.get_marker() for line in edge] == ["^"]
    fx, fy = edge[0].get_xdata(), edge[0].get_ydata()
    assert len(fx) == 2 and np.all((fx > 0) & (fx < 1)) and np.allclose(fy, 0.985)
    assert edge[0].get_markerfacecolor() == "none"  # hollow: no component's filled marker
    if ax.get_legend() is not None and figure != "plot_density":  # the key says what they are
        assert "beyond the axes" in [t.get_text() for t in ax.get_legend().get_texts()]
    plain = getattr(plots, figure)(fit_em(old_faithful, 2, random_state=1), old_faithful)
    assert not any("beyond the axes" in t.get_text() for t in plain.axes[0].texts)


def test_the_key_gives_each_symbol_one_meaning(old_faithful):
    """QA87: with K=3 component 2's filled triangle and the key's "beyond the axes" triangle
    were one symbol; the edge's triangles are hollow, in the key too."""
    X = np.vstack([old_faithful.to_numpy(), [[50.0, 2000.0]]])
    em = fit_em(X, 3, noise=True, n_init=5, random_state=1)
    ax = plots.plot_classification(em, X).axes[0]
    symbols = [(h.get_marker(), h.get_markerfacecolor() == "none")
               for h in ax.get_legend().legend_handles if hasattr(h, "get_marker")
               and h.get_marker() not in ("o", "None", None, "")]
    assert len(symbols) == len(set(symbols)) and ("^", False) in symbols, symbols


def test_a_grid_key_shows_the_diagonal_curves_line_styles():
    """QA87: the diagonal panels drew component 1's curve dashed, and neither the key (colour
    patches) nor the caption said so; the key shows each component's marker and line style,
    and the report's caption says what the diagonal draws."""
    from bayesgmm.report import _diagonal_caption

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (60, 3)), rng.normal(4, 1, (60, 3))])
    fig = plots.plot_classification(fit_em(X, 2, random_state=0), X)
    (legend,) = fig.legends
    styles = {h.get_label(): h.get_linestyle() for h in legend.legend_handles
              if hasattr(h, "get_linestyle")}
    diagonal = [line.get_linestyle() for line in fig.axes[0].lines]
    assert list(styles.values())[:2] == ["-", "--"] and "--" in diagonal
    assert "on the diagonal" in _diagonal_caption(3) and _diagonal_caption(2) == ""


def test_every_density_contour_shows_on_white_and_in_print(old_faithful):
    """QA102: the innermost contour was viridis yellow, 1.3:1 against white (WCAG asks 3:1
    of a graphic), and drawn as the next one, solid and as thin."""
    from matplotlib.colors import to_rgb

    def contrast(colour):
        c = np.array(to_rgb(colour))
        c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return 1.05 / (c @ [0.2126, 0.7152, 0.0722] + 0.05)

    ax = plots.plot_density(fit_em(old_faithful, 2, random_state=0), old_faithful).axes[0]
    keys = [h for h in ax.get_legend().legend_handles if "%" in h.get_label()]
    assert len(keys) == 5
    assert min(contrast(h.get_color()) for h in keys) >= 3.0
    assert len({(h.get_linestyle(), h.get_linewidth()) for h in keys}) == 5
    # no hue: never a component's colour (QA111: the 25% contour read as component 2's green)
    from matplotlib.colors import rgb_to_hsv

    assert all(rgb_to_hsv(to_rgb(h.get_color()))[1] < 0.05 for h in keys)


def test_known_label_crosses_are_in_their_components_colours(old_faithful):
    """QA132 L1: a fully labelled fit's classification figure was a black cross over every
    point (a known row is certain: its dot the smallest), its components' colours lost."""
    import matplotlib.colors as mcolors

    from bayesgmm.plots._styles import _component_color

    X = old_faithful.to_numpy(dtype=float)
    labels = (X[:, 0] > 3).astype(int)
    em = fit_em(X, 2, labels=labels, random_state=0)
    fig = plots.plot_classification(em, X, labelled=np.ones(len(X), bool),
                                    proba=em.predict_proba(X, labels=labels))
    crosses = [c for c in fig.axes[0].collections if c.get_label() == "known label"]
    assert len(crosses) == 1
    colours = {mcolors.to_hex(c) for c in crosses[0].get_facecolor()} | {
        mcolors.to_hex(c) for c in crosses[0].get_edgecolor()}
    assert {mcolors.to_hex(_component_color(k, 2)) for k in (0, 1)} <= colours
    # every point certain: one size, said as such (QA139 L2: a lone "uncertainty 0")
    texts = _texts(fig)
    assert "every point certain (uncertainty < 0.005)" in texts and "uncertainty 0" not in texts
