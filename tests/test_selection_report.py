"""The model-selection report (``select.html``): EM's warnings listed once per kind."""

import dataclasses
import html

import pytest
from conftest import simulate_mixture

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
    assert "<li>" + html.escape("K=2 full ([1]; [1.0]), K=3 full ([1, 2]; [1.0, 1.0]), K=3 "
                                "diag ([1]; [1.0]): component(s) \u2026 hold fewer than D+1=3 "
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


def test_em_selection_without_warnings_lists_none(em):
    assert "<h4>EM's warnings</h4>" not in build_selection_report(
        dataclasses.replace(em, table=em.table.assign(warnings=""), cell_warnings={}))[0]
