"""The overall verdict: the sampling checks and the model checks in one status."""

import types

import numpy as np
import pytest

from bayesgmm import Verdict, overall_verdict

OK = types.SimpleNamespace(ok=True, status="OK", verdict="OK: all", causes=())
BAD = types.SimpleNamespace(ok=False, status="PROBLEMS", verdict="PROBLEMS: R-hat",
                            causes=("slow mixing",))


class _Check:
    not_judged = ""

    def __init__(self, misfits):
        self._misfits = misfits

    def misfit_labels(self):
        return list(self._misfits)

    def finding(self, provisional=False):
        return "the data's skewness lies beyond ..." if self._misfits else ""


def test_any_model_check_turns_ok_into_caution_and_problems_stay():
    """QA68: diagnostics().status said OK of fits the report and result.json called
    CAUTION; the verdict is the box's status, with its reasons."""
    assert Verdict.from_parts(OK).status == "OK" and Verdict.from_parts(OK).ok
    for parts in ({"check": _Check(["skewness"])}, {"outliers": "2 row(s) ..."},
                  {"prior_dominated": "20 rows for 31 parameters"},
                  {"richer_model": "BIC prefers full covariances ..."}):
        verdict = Verdict.from_parts(OK, **parts)
        assert verdict.status == "CAUTION" and verdict.sampling_status == "OK"
        assert not verdict.ok
        assert len(verdict.reasons()) == 2 and str(verdict).startswith("CAUTION\n  - sampling")
    worst = Verdict.from_parts(BAD, outliers="2 row(s) ...")
    # the rows first where sampling failed (QA89 M5: they are the likelier cause)
    assert worst.status == "PROBLEMS" and worst.reasons()[0].startswith("outliers: 2 row(s) ...")
    record = Verdict.from_parts(OK, _Check(["skewness"])).to_dict()
    assert record["status"] == "CAUTION" and record["model_check"] == {
        "misfits": ["skewness"], "not_judged": None,
        "finding": "the data's skewness lies beyond ..."}
    assert Verdict.from_parts(OK).to_dict()["model_check"] is None  # not run
    # every row the outlier evidence names, not only the 8 its text lists (QA77)
    import numpy as np

    rows = Verdict.from_parts(OK, outliers="9 row(s) ...",
                              outlier_rows=np.arange(3, 12)).to_dict()["outlier_rows"]
    assert rows == list(range(3, 12)) and all(type(r) is int for r in rows)


def test_copied_rows_are_the_likelier_cause_of_failed_sampling_than_outliers():
    """QA132 M2: every row written 10 times; the verdict said "check [the rows] for
    recording errors, or refit with the noise component". With copies the copies come first,
    and result.json records them."""
    from bayesgmm.verdict import OUTLIERS_FIRST, outliers_first

    copies = "300 of the 300 rows have an identical twin (30 distinct rows)"
    worst = Verdict.from_parts(BAD, outliers="80 row(s) ...", copies=copies)
    assert worst.reasons()[0] == f"outliers: 80 row(s) .... {outliers_first(copies)}"
    assert outliers_first(copies).startswith(f"The copies may be why the sampling checks "
                                             f"failed: {copies}, and a fit counts each copy")
    assert outliers_first() == OUTLIERS_FIRST and OUTLIERS_FIRST in Verdict.from_parts(
        BAD, outliers="80 row(s) ...").reasons()[0]
    assert worst.to_dict()["copied_rows"] == copies
    assert Verdict.from_parts(BAD).to_dict()["copied_rows"] is None
    assert Verdict.from_parts(OK, copies=copies).status == "OK"  # a warning, no model check


def test_a_fits_verdict_has_its_model_checks(tiny_fit_diag, tiny_fit):
    """Old Faithful fitted with diagonal covariances: BIC prefers full ones clearly, which the
    verdict names beside the sampling checks'; the full fit's has no such reason."""
    diag = overall_verdict(tiny_fit_diag, predictive_check=False)
    assert diag.sampling_status == tiny_fit_diag.diagnostics().status
    assert diag.richer_model.startswith("BIC prefers full covariances at K=2 clearly")
    assert diag.status == ("CAUTION" if diag.sampling_status == "OK" else diag.sampling_status)
    assert diag.model_check is None
    full = overall_verdict(tiny_fit, predictive_check=False)
    assert full.richer_model == "" and full.outliers == ""
    assert full.status == tiny_fit.diagnostics().status
    # each sampling check's numbers, not only the verdict line's prose (QA77)
    import json

    checks = json.loads(json.dumps(full.to_dict()))["checks"]
    expected = tiny_fit.diagnostics().checks
    assert [c["name"] for c in checks] == [c.name for c in expected]
    rhat = next(c for c in checks if c["name"] == "max R-hat")
    assert rhat["threshold"] == 1.01 and isinstance(rhat["passed"], bool)
    assert rhat["value"] == next(c.value for c in expected if c.name == "max R-hat")


def test_the_report_box_takes_its_colour_from_the_same_rule():
    """Review: the box kept its own copy of the rule that result.json and overall_verdict
    use; every combination now gives the box the verdict's status."""
    import itertools

    from bayesgmm.report import _verdict_box

    caution = types.SimpleNamespace(ok=True, verdict="OK: all", causes=("K too large",),
                                    checks=(), advice=())
    for diag, outliers, misfit, prior, shape in itertools.product(
            (OK, BAD, caution), (False, True), ((), ("skewness",)), ("", "few rows"),
            ("", "type")):
        box = _verdict_box(diag, outliers=outliers, misfit=misfit, prior_dominated=prior,
                           shape=shape, n_components=2)
        status = Verdict.from_parts(diag, outliers="x" if outliers else "", misfits=misfit,
                                    prior_dominated=prior, richer_model=shape).status
        cls = {"OK": "ok", "CAUTION": "caution", "PROBLEMS": "bad"}[status]
        assert f'<div class="verdict {cls}">' in box


def test_model_evidence_names_outlier_rows_as_the_report_does(old_faithful):
    """QA79: overall_verdict named the outliers of a fit to a DataFrame indexed pt000...
    by their positions (300, 301, 302) while the report and the advice said pt300...; a
    df.loc on those numbers picks other rows. Rows are named by result.row_names."""
    import numpy as np
    import pandas as pd
    import xarray as xr

    import bayesgmm
    from bayesgmm.observations import prepare_observations
    from bayesgmm.sampling import _observed_dataset
    from bayesgmm.verdict import model_evidence

    far = pd.DataFrame({"eruptions": [40.0, -30.0, 60.0], "waiting": [5.0, 300.0, -200.0]})
    frame = pd.concat([old_faithful, far], ignore_index=True)
    frame.index = [f"pt{i:03d}" for i in range(len(frame))]
    with pytest.warns(bayesgmm.DegenerateComponentWarning):  # one outlier, one component
        em = bayesgmm.fit_em(frame, 2, n_init=3, random_state=0)
    obs = prepare_observations(frame, 2)
    result = types.SimpleNamespace(
        em=em, n_components=2, covariance_type="full", noise=False,
        idata=xr.DataTree.from_dict({"observed_data": _observed_dataset(obs)}),
        row_names=np.asarray(obs.row_names, dtype=str))
    found = model_evidence(result)
    assert found["outlier_rows"] == ("pt272", "pt273", "pt274")
    assert "3 row(s) (pt272, pt273, pt274)" in found["outliers"]
    record = Verdict.from_parts(OK, **found).to_dict()
    assert record["outlier_rows"] == ["pt272", "pt273", "pt274"]


def test_bad_arguments_are_named(old_faithful):
    """QA82: overall_verdict(an EM fit) raised AttributeError ('no attribute diagnostics');
    a negative seed, and EMResult.sample's, NumPy's words with no parameter named; sample
    of 10**20 rows an OverflowError."""
    import bayesgmm

    em = bayesgmm.fit_em(old_faithful, 2, random_state=0)
    with pytest.raises(TypeError, match="overall_verdict needs a BayesResult.*got EMResult: "
                                        "an EM fit has no sampling"):
        overall_verdict(em)
    for other in (bayesgmm.BayesianGMM(), types.SimpleNamespace(posterior=None)):  # QA85
        with pytest.raises(TypeError, match=f"got {type(other).__name__}$"):
            overall_verdict(other)
    with pytest.raises(ValueError, match="random_state must be"):
        em.sample(10, random_state=-1)
    with pytest.raises(ValueError, match="n_samples must be at most 1,000,000,000"):
        em.sample(10**20)


def test_a_posteriors_bad_sizes_and_seeds_are_named(tiny_fit):
    """QA85: the QA82 checks had reached EMResult.sample only; overall_verdict, the
    estimator's sample and sample_posterior_predictive gave NumPy's words."""
    import bayesgmm

    with pytest.raises(ValueError, match="random_state must be"):
        overall_verdict(tiny_fit, random_state=-1)
    with pytest.raises(ValueError, match="random_state must be"):
        tiny_fit.sample_posterior_predictive(10, random_state=-1)
    with pytest.raises(ValueError, match="n_samples must be at most 1,000,000,000"):
        tiny_fit.sample_posterior_predictive(10**20)
    gmm = bayesgmm.BayesianGMM.from_result(tiny_fit)
    with pytest.raises(ValueError, match="n_samples must be at most"):
        gmm.sample(10**20)
    with pytest.raises(ValueError, match="random_state must be"):
        gmm.sample(5, random_state=-1)
    assert gmm.sample(5, random_state=0)[0].shape == (5, 2)


def test_outliers_come_before_the_samplers_advice_where_sampling_failed(capsys):
    """QA89 M5: a 10x typo held by a labelled species' component failed the sampling checks;
    the verdict blamed divergences and asked for 4,149 more draws, and the outlier hint came
    after it. Where sampling failed and rows fit a noise component far better, the verdict's
    reasons, the report's box and the console say the rows first."""
    from bayesgmm.cli import _print_outliers_first
    from bayesgmm.report import _verdict_box
    from bayesgmm.verdict import OUTLIERS_FIRST

    failed = Verdict.from_parts(BAD, outliers="1 row(s) (LI009) fit a uniform noise component")
    reasons = failed.reasons()
    assert reasons[0].startswith("outliers: 1 row(s) (LI009)") and OUTLIERS_FIRST in reasons[0]
    assert reasons[1].startswith("sampling: ")
    passed = Verdict.from_parts(OK, outliers="1 row(s) (LI009) fit a uniform noise component")
    assert passed.reasons()[0].startswith("sampling: ")
    assert OUTLIERS_FIRST not in " ".join(passed.reasons())
    assert OUTLIERS_FIRST.split(":")[0] in _verdict_box(BAD, outliers=True, n_components=2)
    assert OUTLIERS_FIRST.split(":")[0] not in _verdict_box(OK, outliers=True, n_components=2)
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 2)))
    _print_outliers_first("1 row(s) (LI009) ...", BAD, frame, {})
    _print_outliers_first("", BAD, frame, {})
    _print_outliers_first("1 row(s) (LI009) ...", OK, frame, {})
    assert capsys.readouterr().out == f"  {OUTLIERS_FIRST}.\n"
    # QA132 M2: rows written ten times each: the copies first, not the outliers' remedy
    copied = pd.DataFrame(np.repeat(frame.to_numpy(), 10, axis=0))
    _print_outliers_first("1 row(s) (LI009) ...", BAD, copied, {})
    assert capsys.readouterr().out.startswith(
        "  The copies may be why the sampling checks failed: 400 of the 400 rows")
    _print_outliers_first("1 row(s) (LI009) ...", BAD, copied,
                          {"sample_weight": np.ones(400)})  # weighted: the user's rows
    assert capsys.readouterr().out == f"  {OUTLIERS_FIRST}.\n"


class _Printer:
    """IPython's pretty printer, as far as ``_repr_pretty_`` uses it."""

    def __init__(self):
        self.text_shown = ""

    def text(self, value):
        self.text_shown += value


def test_a_notebook_cell_ending_in_a_verdict_shows_its_reasons(tiny_fit):
    """QA96 M2: a cell ending in overall_verdict(post) showed a 627-character dataclass repr
    nesting the whole Diagnostics."""
    verdict = overall_verdict(tiny_fit)
    assert len(repr(verdict)) < 120 and repr(verdict).startswith(f"Verdict({verdict.status!r}")
    printer = _Printer()
    verdict._repr_pretty_(printer, cycle=False)
    assert printer.text_shown == str(verdict)
    assert all(reason in printer.text_shown for reason in verdict.reasons())


def test_a_methods_paragraph_shows_as_text_in_a_notebook(tiny_fit):
    from bayesgmm import methods_text

    text = methods_text(tiny_fit)
    assert len(repr(text)) < 100 and f"{len(text.references)} references" in repr(text)
    printer = _Printer()
    text._repr_pretty_(printer, cycle=False)
    assert printer.text_shown == str(text) and "\nReferences\n" in printer.text_shown


def test_a_richer_model_hint_on_copied_rows_says_the_copies_count():
    """QA126 M3: 30 points of one Gaussian, each written 10 times: the verdict advised
    "consider n_components=3" (BIC on the copies) and never named the copies the fit had
    warned of; on the 30 distinct rows BIC prefers K = 1."""
    from conftest import posterior_stand_in

    from bayesgmm.verdict import model_evidence

    rng = np.random.default_rng(5)
    X = np.repeat(rng.normal(0, 1, (30, 2)), 10, axis=0)
    with pytest.warns(UserWarning, match="identical twin"):
        fit = posterior_stand_in(X, 2)
    evidence = model_evidence(fit)
    said = evidence["richer_model"] or evidence["outliers"]
    assert said, "the copies make a richer model look better (the case of the report)"
    assert ". Note: 300 of the 300 rows have an identical twin (30 distinct rows)" in said
    assert "copies also make extra components look better" in said


# QA135: V2, the richer-model hint's own copies caveat (the test above is carried by the
# outliers hint on its data: the richer model says nothing there)
def test_a_richer_model_hint_itself_names_the_copies():
    from conftest import posterior_stand_in

    from bayesgmm.verdict import model_evidence

    rng = np.random.default_rng(5)  # two groups of 15 rows, each row written 10 times; K = 1
    X = np.repeat(np.r_[rng.normal(0, 1, (15, 2)), rng.normal(0, 1, (15, 2)) + 6], 10, axis=0)
    with pytest.warns(UserWarning, match="identical twin"):
        fit = posterior_stand_in(X, 1)
    said = model_evidence(fit)["richer_model"]
    assert said.startswith("BIC prefers K=2 components")
    assert said.endswith("copies also make extra components look better, so judge this with "
                         "one row of each")


def test_weights_that_look_like_no_counts_make_an_ok_a_caution():
    """QA139 H1: survey weights summing to 2,481,481 over 60 rows were said on stderr only;
    the intervals were 116x too narrow under a green "can be used as they are". The verdict
    names them, CAUTION, and result.json keeps them."""
    import types

    from bayesgmm.report import _verdict_box

    fact = "the weights are not whole numbers and sum to 3,049,382, 30,494 times the 100 rows"
    verdict = Verdict.from_parts(OK, design_weights=fact)
    assert verdict.status == "CAUTION" and verdict.sampling_status == "OK"
    assert verdict.reasons()[-1].startswith(f"weights: {fact}; a fit counts each row")
    assert verdict.to_dict()["design_weights"] == fact
    assert Verdict.from_parts(OK).to_dict()["design_weights"] is None
    ok = types.SimpleNamespace(ok=True, checks=(), causes=(), advice=(), verdict="OK: all")
    box = _verdict_box(ok, weights=fact)
    assert 'class="verdict caution"' in box and "can be used as they are" not in box
    assert f"Mind the weights: {fact}, and a fit counts each row" in box


def test_the_command_line_prints_the_overall_status_where_it_differs(capsys):
    """QA139 M3: the console printed "Diagnostics: OK" and never CAUTION, where result.json's
    status and the report's box were CAUTION (a richer model, design weights); QA141 L3:
    the box named only where a report is written."""
    from bayesgmm.cli import _overall_verdict, _print_overall

    overall = _overall_verdict(OK, None, "", shape="BIC prefers K=3 ...",
                               design_weights="the weights are not whole numbers ...")
    assert overall.to_dict()["status"] == "CAUTION" and capsys.readouterr().out == ""
    _print_overall(overall, report=True)
    assert capsys.readouterr().out == (
        "\nVerdict: CAUTION, as result.json and the report's box say: the sampling checks "
        "pass, but a richer model fits clearly better (the hint above); the weights look "
        "like no counts (the warning above)\n")
    _print_overall(overall, report=False)
    assert capsys.readouterr().out.startswith("\nVerdict: CAUTION, as result.json says: ")
    # QA158 L7: a run whose status is the sampling checks' own printed no Verdict line
    _print_overall(_overall_verdict(OK, None, ""), report=True)
    assert capsys.readouterr().out == (
        "\nVerdict: OK, as result.json and the report's box say: the sampling checks pass "
        "and no model check questions the fit\n")
    _print_overall(_overall_verdict(BAD, None, "", shape="BIC prefers K=3 ..."),
                   report=False)
    assert capsys.readouterr().out == (
        "\nVerdict: PROBLEMS, as result.json says: the sampling checks above do not all "
        "pass\n")
    # a CAUTION whose checks all pass is its notes' (QA162 M1: "do not all pass")
    noted = types.SimpleNamespace(ok=True, status="CAUTION", verdict="CAUTION: ...",
                                  causes=("mixed components",))
    _print_overall(_overall_verdict(noted, None, ""), report=True)
    assert capsys.readouterr().out == (
        "\nVerdict: CAUTION, as result.json and the report's box say: the sampling checks "
        "pass, with the notes above (mixed components)\n")
