"""The terms section: what a page uses, defined once, in the glossary's order."""

import re

from bayesgmm.glossary import TERMS, terms_section


def _defined(section: str) -> list[str]:
    return re.findall(r"<dt>([^<]+)</dt>", section)


def test_only_the_terms_a_page_uses_are_defined_in_order():
    page = ('<p>R-hat 1.003 &lt;= 1.01, min bulk ESS 2154; 3 divergences</p>'
            '<td>eti94_lb</td><p>EM start</p>')
    section = terms_section(page)
    assert section.startswith('<section id="terms"><h2>Terms used in this report</h2>')
    assert _defined(section) == ["EM, MAP-EM", "94% interval (eti94)", "R-hat",
                                 "ESS (bulk, tail)", "divergences"]
    assert terms_section("<p>nothing to define here</p>") == ""
    # words inside tags (attributes, ids) are no use of a term
    assert terms_section('<a href="#rank" class="R-hat">x</a>') == ""


def test_every_term_is_found_where_a_page_names_it_and_its_text_is_escaped():
    for term, _, meaning in TERMS:
        section = terms_section(f"<p>see {term}</p>")  # the page names the term itself
        assert _defined(section)[:1] and term in [t.replace("&#x27;", "'")
                                                   for t in _defined(section)], term
        assert meaning.endswith(".") and len(meaning) < 400, term
    # a definition's text is escaped: markup characters cannot become tags
    assert "<dd>" in terms_section("<p>R-hat</p>") and "<p>R-hat" not in terms_section(
        "<p>R-hat</p>")
    # "Pareto k" is not K: said where both appear
    assert "Not the number of components K" in dict((t, m) for t, _, m in TERMS)["Pareto k"]


def test_a_ranking_is_no_rank_test():
    """QA: the selection report's "rank" column (its best cells ranked) defined the rank
    test, which that report never uses."""
    assert "rank test" not in terms_section("<th>rank</th><td>BIC</td><p>BIC</p>")
    for used in ("the rank test", "Rank plots (ArviZ)", "min rank p 0.016", "rank-test"):
        assert "rank test, rank plot" in terms_section(f"<p>{used}</p>"), used


def test_the_whitened_metric_a_settings_table_names_is_defined():
    """QA: most fits now sample whitened (metric "auto"); the settings table's row said
    "whitened by the curvature at the posterior mode" and nothing said what that means."""
    from bayesgmm.report import _readable_setting

    for whitened in (True, False):
        row = _readable_setting("laplace_metric", whitened)
        assert "whitened (Laplace) metric" in _defined(terms_section(f"<td>{row}</td>"))


def test_a_component_number_is_an_order_under_ordered_means():
    """QA: with ordered_means=True the glossary said a component number "is a name, not an
    order", while the fit numbers them by their means."""
    page = "<p>component 0 and component 1</p>"
    assert "is a name, not an order" in terms_section(page)
    ordered = terms_section(page, ordered_means=True)
    assert "is a name, not an order" not in ordered
    assert "component 0 has the smallest mean" in ordered


def test_the_predictive_checks_terms_are_defined():
    """QA89 L10: the predictive-check paragraph's quartile skewness and octile kurtosis, its
    Bonferroni bound and its Sheather-Jones bandwidth were in no definition."""
    page = ("<p>quartile skewness and octile kurtosis (Bowley's and Moors'); beyond the "
            "Bonferroni bound; Silverman's rule averaged with the improved Sheather-Jones</p>")
    assert _defined(terms_section(page)) == ["quartile skewness, octile kurtosis",
                                             "Bonferroni bound",
                                             "bandwidth (Silverman, Sheather-Jones)"]
