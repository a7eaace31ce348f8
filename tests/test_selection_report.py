"""The model-selection report (``select.html``): EM's warnings listed once per kind."""

import dataclasses
import html

import numpy as np
import pandas as pd
import pytest
from conftest import simulate_mixture

import bayesgmm
from bayesgmm.report import build_selection_report
from bayesgmm.selection import select_em

ADVICE = ("Consider fewer components or a simpler covariance type (or, in fit_em, a prior: "
          "prior='default').")


def held(components, sizes):
    return (f"component(s) {components} hold fewer than D+1=3 effective points (N_k = "
            f"{sizes}): their covariances rest on reg_covar alone. {ADVICE}")


@pytest.fixture(scope="module")
def em():
    X, _, _ = simulate_mixture(n=150, seed=3)
    return select_em(X, range(1, 4), ("full", "diag"), n_init=2, random_state=0, n_jobs=1)


def with_warnings(em, messages):
    """``em`` with these cells' warnings, in the table and one by one."""
    table = em.table.copy()
    for (k, ct), cell in messages.items():
        row = (table["n_components"] == k) & (table["covariance_type"] == ct)
        table.loc[row, "warnings"] = "; ".join(cell)
    return dataclasses.replace(em, table=table, cell_warnings=messages)


def test_each_kind_of_em_warning_is_listed_once_with_its_cells(em):
    """QA: the same DegenerateComponentWarning advice ten times under "EM's warnings"."""
    stalled = "EM did not converge in max_iter=5 iterations (last change 0.5 in total; tol=0.1)"
    page, _ = build_selection_report(with_warnings(em, {
        (2, "full"): (held([1], [1.0]),),
        (3, "full"): (held([1, 2], [1.0, 1.0]), stalled),
        (3, "diag"): (held([1], [1.0]),),
    }))
    assert page.count(html.escape(ADVICE)) == 1
    assert "<li>" + html.escape("K=2 full (component(s) [1]), K=3 full (component(s) [1, 2]), "
                                "K=3 diag (component(s) [1]): component(s) \u2026 hold fewer "
                                "than D+1=3 effective points (N_k = [1.0]): their covariances "
                                "rest") not in page  # N_k differs: [1.0, 1.0]
    assert "<li>" + html.escape("K=2 full (component(s) [1]; N_k = [1.0]), K=3 full "
                                "(component(s) [1, 2]; N_k = [1.0, 1.0]), K=3 diag (component(s) "
                                "[1]; N_k = [1.0]): component(s) \u2026 hold fewer than D+1=3 "
                                "effective points (N_k = \u2026)") in page
    # a message with "; " of its own stays whole: the cells' messages, not the table's split
    assert f"<li>K=3 full: {html.escape(stalled)}</li>" in page


def test_a_table_edited_by_hand_is_listed_as_it_says(em):
    table = em.table.copy()
    table.loc[table.index[-1], "warnings"] = "something odd; and more"
    r = table.loc[table.index[-1]]
    page, _ = build_selection_report(dataclasses.replace(em, table=table))
    assert (f"<li>K={r.n_components} {r.covariance_type}: something odd; and more</li>"
            in page)


def test_only_the_best_and_near_ties_are_marked(em):
    """QA: "the 3 best cells" marked a third place 23 units of ICL from the best, which means
    nothing; marked now: the best and the cells within the selection's own near-tie
    distance (2, the threshold of its "weak evidence" notes), and the text says so."""
    import re

    from bayesgmm.selection.choice_notes import WEAK_EVIDENCE

    table = em.table.assign(degenerate=False)
    best = table["bic"].min()
    order = table.sort_values("bic").index
    table.loc[order[1], "bic"] = best + 1.5  # a near tie: marked
    table.loc[order[2], "bic"] = best + 23.4  # third, far: not marked
    page, _ = build_selection_report(dataclasses.replace(em, table=table))
    pivots = page[page.index("Every cell as \u0394"):page.index("<h3>Every fit</h3>")]
    bic = pivots[pivots.index("<h3>\u0394BIC</h3>"):pivots.index("<h3>\u0394AIC</h3>")]
    assert sorted(re.findall(r'<td class="top">([^<]*)</td>', bic)) == ["0.00", "1.50"]
    assert "<td>23.40</td>" in bic
    for criterion in ("bic", "aic", "icl"):  # every criterion by the same rule
        near = int((table[criterion] - table[criterion].min() < WEAK_EVIDENCE).sum())
        start = pivots.index(f"<h3>\u0394{criterion.upper()}</h3>")
        part = pivots[start:pivots.index("</table>", start)]
        assert part.count('<td class="top">') == near, criterion
    marked = f'any cell within {WEAK_EVIDENCE:g} of it, is <span class="top">marked</span>'
    assert marked in pivots
    assert "Cells further from the best are not marked" in pivots


def test_em_selection_without_warnings_lists_none(em):
    assert "<h4>EM's warnings</h4>" not in build_selection_report(
        dataclasses.replace(em, table=em.table.assign(warnings=""), cell_warnings={}))[0]


# --------------------------------------------------------------------------------------------
# the tables of differences from the best mark the cells excluded from it
# --------------------------------------------------------------------------------------------
def test_a_spike_passed_over_is_marked_as_excluded_not_borderline():
    """Galaxies, K = 1-6 full: K=5 and K=6 rest on 2-row components (likely spurious
    spikes), which select_em no longer chooses (QA109); the page called them "Borderline:
    ... eligible as best" and marked them nowhere (QA114 L1)."""
    sel = select_em(bayesgmm.load_galaxies(), range(1, 7), ["full"], random_state=1, n_jobs=1)
    spikes = sel.table[sel.table["spike"]]
    assert {(5, "full"), (6, "full")} <= set(zip(spikes["n_components"],
                                                 spikes["covariance_type"], strict=True))
    page, _ = build_selection_report(sel)
    assert "Borderline: K=5 full" not in html.unescape(page)
    assert "no: a likely spurious spike \u2020" in page
    assert "excluded: a likely spurious spike (K=5 full, K=6 full: a component on barely" in \
        html.unescape(page)
    assert "not eligible as best" in html.unescape(page)  # the passed-over note
    from bayesgmm.selection import plot_criteria

    crossed = [line for ax in plot_criteria(sel).axes for line in ax.lines
               if line.get_label() == "excluded from best"]
    assert crossed and all(len(line.get_xdata()) == 2 for line in crossed)


def test_degenerate_cells_below_the_best_are_marked_where_delta_is_shown(em):
    """QA: "ΔBIC -9.14 for K=6 spherical", unmarked: a degenerate cell (excluded from best)
    read as better than the best."""
    table = em.table.copy()
    cell = (table["n_components"] == 3) & (table["covariance_type"] == "diag")
    best = table.loc[~cell, "bic"].min()
    table.loc[cell, ["degenerate", "bic"]] = [True, best - 9.14]
    page, _ = build_selection_report(dataclasses.replace(em, table=table))
    pivots = page[page.index("Every cell as \u0394"):page.index("<h3>Every fit</h3>")]
    # the negative cell carries the footnote marker, greyed, and the footnote explains it
    assert ">-9.14 \u2020</td>" in pivots and 'class="excluded"' in pivots
    # (every component big enough, no warning: degenerate by the other rule, the collapse)
    assert "\u2020 excluded: degenerate fit (K=3 diag: collapsed). Too few points: a " in pivots
    assert "negative \u0394: K=3 diag" in pivots
    assert "(degenerate fits, likely spurious spikes) are greyed and marked \u2020" in pivots
    every_fit = page[page.index("<h3>Every fit</h3>"):]
    assert every_fit.count(">yes \u2020 (collapsed)</td>") == 1
    assert "\u2020 excluded:" in every_fit
    # a report without degenerate cells has no marker
    clean = build_selection_report(dataclasses.replace(
        em, table=em.table.assign(degenerate=False)))[0]
    assert "\u2020" not in clean


def test_degenerate_notes_give_both_reasons_and_each_cells(em):
    """QA: select.html explained "degenerate" by too few effective points alone, while cells
    are also degenerate when a covariance collapsed onto the reg_covar floor (tied or discrete
    values), as select_em marks them."""
    collapse = ("covariance collapsed (a variance at the reg_covar=1e-06 floor, or negligible "
                "beside the data's): component 0 along 'x1' (variance 1e-06). Its rows share "
                "(nearly) one value there.")
    table = with_warnings(em, {(3, "diag"): (collapse,), (2, "diag"): (collapse,)}).table
    for (k, ct), size in {(3, "full"): 1.0, (3, "diag"): 40.0, (2, "diag"): 1.0}.items():
        row = (table["n_components"] == k) & (table["covariance_type"] == ct)
        table.loc[row, ["degenerate", "min_component_size"]] = [True, size]
    page = html.unescape(build_selection_report(dataclasses.replace(em, table=table))[0])
    why = ("Too few points: a component with fewer effective points N w_k than its covariance "
           "needs (D+1 for full, 2 for diag and spherical, 1 for tied); collapsed: a "
           "covariance collapsed onto the reg_covar floor in some direction")
    # the note at the top: each cell with its reason, and both reasons explained
    top = page[:page.index("Every cell as \u0394 from the best")]
    assert ("K=3 full (too few points), K=2 diag (too few points and collapsed), K=3 diag "
            "(collapsed)" in top)
    assert why in top
    # the footnote under the tables that mark the excluded cells, twice
    assert page.count(why) == 3
    assert page.count("\u2020 excluded: degenerate fit (K=3 full: too few points; K=2 diag: "
                      "too few points and collapsed; K=3 diag: collapsed). ") == 2
    every_fit = page[page.index("<h3>Every fit</h3>"):]
    for reason in ("too few points", "collapsed", "too few points and collapsed"):
        assert every_fit.count(f">yes \u2020 ({reason})</td>") == 1


# --------------------------------------------------------------------------------------------
# the PSIS-LOO table as shown: no always-empty column, no "noise" that reads as the noise
# component's
# --------------------------------------------------------------------------------------------
def test_loo_table_shows_indistinguishable_and_no_empty_diag_elpd(em):
    import numpy as np
    from conftest import fake_fit, loglik_draws

    from bayesgmm.selection import compare

    rng = np.random.default_rng(0)
    base = rng.normal(-2.0, 0.5, size=150)
    bayes = compare({"K=2": fake_fit(loglik_draws(rng, base - 0.4), 2),
                     "K=3": fake_fit(loglik_draws(rng, base), 3),
                     "K=4": fake_fit(loglik_draws(rng, base + 0.001), 4)})
    # the data stay whole (public API): ArviZ's diag_elpd; one name for the verdict's column
    assert {"diag_elpd", "indistinguishable"} <= set(bayes.comparison.columns)
    assert "within_noise" not in bayes.comparison.columns
    assert (bayes.comparison["diag_elpd"] == "").all()  # no Pareto k above good_k
    shown = bayes.shown_table()
    assert "diag_elpd" not in shown and "within_noise" not in shown
    assert shown["indistinguishable"].tolist() == bayes.comparison["indistinguishable"].tolist()
    console = str(bayes)
    assert "diag_elpd" not in console and "within_noise" not in console
    assert "indistinguishable" in console.splitlines()[0]
    page, _ = build_selection_report(em, bayes=bayes)
    loo = page[page.index('<section id="loo">'):]
    loo = loo[:loo.index("</section>")]
    assert "<th scope=\"col\">diag_elpd</th>" not in loo
    assert "<th scope=\"col\">within_noise</th>" not in loo
    assert "<th scope=\"col\">indistinguishable</th>" in loo
    assert "<th scope=\"col\">rank</th>" in loo
    assert "<em>indistinguishable</em> from the best" in loo
    # QA: p and weight were shown unexplained
    assert "p the effective number of parameters (p_loo" in loo and "stacking weight" in loo


def test_the_loo_verdict_box_is_red_only_where_an_elpd_is_unreliable():
    """Review: the box was red for any warning, so a comparison of four posteriors that all
    passed their checks read as a failure because N = 82 < 100."""
    from conftest import fake_fit, loglik_draws

    from bayesgmm.report import _loo_box
    from bayesgmm.selection import compare

    rng = np.random.default_rng(0)
    base = rng.normal(-2.0, 0.5, size=150)
    bayes = compare({"K=2": fake_fit(loglik_draws(rng, base), 2),
                     "K=3": fake_fit(loglik_draws(rng, base - 0.4), 3)})
    assert not bayes.warnings and _loo_box(bayes) == "ok"
    few = dataclasses.replace(bayes, warnings=("Only N=82 observations (< 100): ...",))
    assert _loo_box(few) == "caution"
    failed = dataclasses.replace(few, diagnostics={"K=2": "OK: ...", "K=3": "PROBLEMS: ..."})
    assert _loo_box(failed) == "bad"
    pareto = bayes.pareto_k.copy()
    pareto.loc["K=3", "n_high"] = 1
    assert _loo_box(dataclasses.replace(few, pareto_k=pareto)) == "bad"


def test_the_selection_report_says_when_outliers_bend_the_choice():
    """QA: the console printed the outlier hint, the select report never mentioned it; each
    gross outlier can take a component and inflate the K every criterion picks."""
    rng = np.random.default_rng(0)
    clean = np.r_[rng.normal(0, 1, (150, 2)), rng.normal([5, 3], 1, (150, 2))]
    dirty = np.r_[clean, [[60.0, -50.0], [-70.0, 40.0], [55.0, 65.0]]]
    for X, expected in ((dirty, True), (clean, False)):
        sel = select_em(X, [1, 2, 3], ["full"], n_init=2, random_state=0, n_jobs=1)
        page, _ = build_selection_report(sel, X=X)
        assert ("Outliers (in BIC's choice" in page) is expected


def test_the_chosen_fits_figure_counts_rows_by_the_selections_weights(monkeypatch):
    """Review: the selection report drew the BIC-chosen fit's density with each row once,
    though the selection (select_em, bayesgmm select --weights) counted them by weight."""
    from bayesgmm import plots

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (60, 2)), rng.normal([5, 3], 1, (60, 2))]
    g = rng.integers(1, 4, len(X)).astype(float)
    sel = select_em(X, [1, 2], ["full"], n_init=2, random_state=0, n_jobs=1,
                    sample_weight=g)
    seen = []
    original = plots.plot_density

    def spy(fit, data, **kw):
        seen.append(kw.get("sample_weight"))
        return original(fit, data, **kw)

    monkeypatch.setattr(plots, "plot_density", spy)
    build_selection_report(sel, X=X, sample_weight=g)
    (weights,) = seen
    np.testing.assert_array_equal(weights, g)
    fig = original(sel.fits[sel.best["bic"]], X, sample_weight=g)
    assert f"standing for {int(g.sum())} observations" in fig.axes[0].get_title()


def test_the_chosen_fits_components_are_shown_by_the_numbers_the_notes_use():
    """QA81: the one-group note named "components 0 and 2" of BIC's choice, and neither the
    page nor the console showed which those were (contours only)."""
    from bayesgmm.report import _em_parameter_html

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (80, 2)), rng.normal([6, 3], 1, (80, 2))]
    sel = select_em(X, [1, 2, 3], ["full"], n_init=2, random_state=0, n_jobs=1)
    page, _ = build_selection_report(sel, X=X)
    k, kind = sel.best["bic"]
    assert f"BIC's choice, K={k} {kind}, component by component" in page
    assert _em_parameter_html(sel.fits[sel.best["bic"]]) in page


def test_pareto_table_names_the_observations_and_says_shared_columns_once(monkeypatch):
    """QA: n_observations and good_k repeated in every row, and the bad observations unnamed."""
    import types

    import pandas as pd

    from bayesgmm import report

    pareto = pd.DataFrame({"n_observations": [5, 5], "good_k": [0.7, 0.7], "n_high": [0, 2],
                           "n_very_high": [0, 0], "max_k": [0.4, 0.9]},
                          index=pd.Index(["K=1", "K=2"], name="model"))
    loo = {"K=1": types.SimpleNamespace(pareto_k=np.array([.1, .2, .3, .4, .1]), good_k=0.7),
           "K=2": types.SimpleNamespace(pareto_k=np.array([.1, .8, .3, .9, .1]), good_k=0.7)}
    names = np.array(["a", "b", "c", "d", "e"])
    bayes = types.SimpleNamespace(pareto_k=pareto, loo=loo, results={
        "K=1": types.SimpleNamespace(row_names=names),
        "K=2": types.SimpleNamespace(row_names=names)})
    heading, table = report._pareto_section(bayes)
    # two decimals, as the printout says it (QA160 L3: 0.6971 here, 0.70 there)
    assert "(n observations 5; good k 0.70, every model)" in heading
    assert "<th scope=\"col\">good_k</th>" not in table
    assert "<th scope=\"col\">n_observations</th>" not in table
    assert "<td>b, d</td>" in table


def test_k_plus_table_has_one_header_row_and_three_decimals():
    """QA: a two-row header (the frame's axis names) and 0.9375 beside 0.91 in one table."""
    import types

    import pandas as pd

    from bayesgmm import report

    per_chain = pd.DataFrame([[0.0, 0.91, 0.09], [0.035, 0.965, 0.0]],
                             index=pd.Index(["0", "1"], name="chain"),
                             columns=pd.Index([1, 2, 3], name="n_nonempty"))
    sparse = types.SimpleNamespace(per_chain=per_chain, posterior_counts=pd.Series(
        [0.0175, 0.9375, 0.045], index=[1, 2, 3]))
    html = report._k_plus_html(sparse)
    assert html.count("<tr") == 4  # header, two chains, all
    assert "<th scope=\"col\">K+ = 2</th>" in html and "n_nonempty" not in html
    assert "0.938" in html and "0.9375" not in html and "0.018" in html


def test_the_chosen_figure_names_its_model(old_faithful):
    """QA: figures/chosen.png, read on its own, was titled only "EM mixture density"."""
    from bayesgmm import plots
    from bayesgmm.report import _retitled

    em = bayesgmm.fit_em(old_faithful, 2, random_state=0)
    fig = _retitled(plots.plot_density(em, old_faithful), "EM mixture density",
                    "EM mixture density of BIC's choice, K=2 full")
    titles = [t.get_text() for t in [*fig.texts, *(ax.title for ax in fig.axes)]]
    assert any(t.startswith("EM mixture density of BIC's choice, K=2 full") for t in titles)


def _cited_and_listed(page):
    """(author-year citations the page's sections make, its References list's entries)."""
    import re

    body, _, listed = page.partition('<section id="references">')
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    cites = set(re.findall(r"([A-Z][\w-]+(?:, [A-Z][\w-]+)*(?: & [A-Z][\w-]+| et al\.)?) "
                           r"((?:19|20)\d\d)\b", text))
    return text, cites, [html.unescape(e) for e in re.findall(r"<li>(.*?)</li>", listed)]


def test_every_citation_has_its_reference_and_every_reference_is_cited(em):
    """Referee: the selection report cited Biernacki et al., Kass & Raftery, Burnham &
    Anderson and Yao et al. without a References list (and two of them without a year)."""
    from conftest import fake_fit, loglik_draws

    from bayesgmm.references import CITATIONS
    from bayesgmm.selection import compare

    rng = np.random.default_rng(0)
    base = rng.normal(-2.0, 0.5, size=150)
    bayes = compare({"K=2": fake_fit(loglik_draws(rng, base - 0.4), 2),
                     "K=3": fake_fit(loglik_draws(rng, base), 3)})
    for kwargs in ({}, {"bayes": bayes}):
        page, _ = build_selection_report(em, **kwargs)
        text, cites, listed = _cited_and_listed(page)
        assert cites and len(listed) == len(set(listed)) >= len(cites)
        for authors, year in cites:  # each citation's first author and year head an entry
            assert any(e.startswith(authors.split(",")[0].split()[0] + ",")
                       and f"({year})" in e for e in listed), (authors, year)
        for entry in listed:  # and each entry is cited
            assert any(entry == full and cited in text for cited, full in CITATIONS.items())
        for cited in CITATIONS:  # never the authors without the year
            authors = cited.rsplit(" ", 1)[0]
            assert text.count(authors) == text.count(cited), cited
        assert ('<a href="#references">References</a>' in page) and (
            "Vehtari et al. 2017" in text) == ("bayes" in kwargs)


def test_the_references_list_holds_exactly_what_a_text_cites():
    from bayesgmm.references import references_cited

    text = ("K+ (Malsiner-Walli, Frühwirth-Schnatter &amp; Grün 2016) and BIC (Schwarz "
            "1978); Kass &amp; Raftery without a year cites nothing")
    assert [r.split(" (")[0] for r in references_cited(text)] == [
        "Malsiner-Walli, G., Frühwirth-Schnatter, S. and Grün, B.", "Schwarz, G."]
    assert references_cited("no citation") == ()


def test_the_selection_report_writes_counts_with_thousands_separators():
    """QA: "40000 points" and "to the 40000 observations", where every other report and the
    console write 40,000."""
    import bayesgmm
    from bayesgmm.report import build_selection_report

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (600, 1)), rng.normal(5, 1, (600, 1))])
    page, _ = build_selection_report(bayesgmm.select_em(X, [1, 2], ["full"], n_init=1,
                                                        random_state=0, n_jobs=1))
    assert "1,200 points" in page and "the 1,200 observations" in page


def test_the_one_group_explanation_is_given_once_a_page(em):
    """QA67: the select report gave the long one-group paragraph in the EM section and again
    in the LOO verdict; the second now points to the first."""
    from conftest import fake_fit, loglik_draws

    from bayesgmm.modality import shape_note
    from bayesgmm.selection import compare

    rng = np.random.default_rng(0)
    base = rng.normal(-2.0, 0.5, size=150)
    bayes = compare({"K=2": fake_fit(loglik_draws(rng, base - 0.4), 2),
                     "K=3": fake_fit(loglik_draws(rng, base), 3)})
    loo_note = shape_note([("K=3 (best by elpd_loo)", [[0, 2]])])
    bayes = dataclasses.replace(bayes, verdict=f"{bayes.verdict}\nWarnings: {loo_note}")
    em_note = shape_note([("K=3 full (BIC's choice)", [[0, 2]])])
    for notes, count in (((), 1), ((em_note,), 1)):
        page, _ = build_selection_report(dataclasses.replace(em, notes=notes), bayes=bayes)
        text = html.unescape(page)
        assert text.count("K counts Gaussian components, not clusters") == count
        assert text.count("Such a group is either one cluster") == count
    assert "Components the data show as one group (as explained above): K=3 (best by " \
        "elpd_loo): components 0 and 2" in text


def test_each_posteriors_components_are_placed_beside_its_advice(old_faithful):
    """QA162 M2: select.html's advice "component 2 is bimodal" named the K=3 posterior's
    component 2 (near 32,000 km/s), while the page's one component table, the EM fit's,
    called the main group component 2. The convergence table now says where each
    posterior's components sit."""
    import types

    from conftest import posterior_stand_in

    from bayesgmm.report import _component_key, _section_loo

    result = posterior_stand_in(old_faithful, 2, draws=50)
    key = _component_key(result)
    w = np.median(result.posterior["weights"].values.reshape(-1, 2), axis=0)
    m = np.median(result.posterior["means"].values.reshape(-1, 2, 2), axis=0)
    assert key.startswith(f"0: weight {bayesgmm.formatting.format_number(w[0], 2)}, mean (")
    assert f"{bayesgmm.formatting.format_number(m[1, 0])}" in key.split("; ")[1]
    assert _component_key(types.SimpleNamespace()) == ""
    bayes = types.SimpleNamespace(
        results={"K=2": result}, diagnostics={"K=2": "OK: ..."}, verdict="K=2 is best.",
        comparison=pd.DataFrame({"elpd": [-1.0]}, index=["K=2"]), warnings=(),
        pareto_k=pd.DataFrame({"n_high": [0], "good_k": [0.7], "n_observations": [272]},
                              index=pd.Index(["K=2"], name="model")),
        loo={"K=2": types.SimpleNamespace(pareto_k=np.zeros(272), good_k=0.7)},
        shown_table=lambda: pd.DataFrame({"elpd": [-1.0]}, index=["K=2"]))
    _, _, parts = _section_loo(bayes, lambda *a: "")
    convergence = parts[-1]
    assert "its components (posterior medians)" in convergence and key in \
        html.unescape(convergence)
    assert "Each posterior numbers its components its own way" in convergence


def test_the_loo_tables_best_row_is_the_reference():
    """QA162 L7: the best model's "indistinguishable: no" read as "K=5 is distinguishable
    from itself"; its row says it is the reference the others are compared with."""
    from conftest import fake_fit, loglik_draws

    from bayesgmm.report import _section_loo
    from bayesgmm.selection import compare

    rng = np.random.default_rng(0)
    base = rng.normal(-2.0, 0.5, size=150)
    bayes = compare({"K=2": fake_fit(loglik_draws(rng, base), 2),
                     "K=3": fake_fit(loglik_draws(rng, base - 0.001), 3)})
    _, _, parts = _section_loo(bayes, lambda *a: "")
    table = next(p for p in parts if "indistinguishable</th>" in p)
    assert table.count("<td>the reference</td>") == 1 and "<td>yes</td>" in table
    assert bool(bayes.comparison["indistinguishable"].iloc[0]) is False  # the API's as was
