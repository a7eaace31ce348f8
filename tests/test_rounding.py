"""Undoing the rounding of measured values (bayesgmm.dequantise): which columns look rounded,
the noise (within half a step, uniform, seeded), its record in the fit, the command line and
specs, and the advice that names it."""

import contextlib
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesgmm
from bayesgmm import cli
from bayesgmm.observation_record import fitted_criteria, observations_sentence
from bayesgmm.rounding import (
    ATTRS_KEY,
    dequantise,
    parse_steps,
    recorded,
    rounding_step,
    rounding_steps,
)


@pytest.fixture
def rounded():
    """QA89's finches, as a field notebook records them: lengths to 0.5 mm, mass to 0.1 g,
    two groups, 80 rows (so that tied values are common)."""
    rng = np.random.default_rng(7)
    group = rng.integers(0, 2, 80)
    beak = rng.normal(np.where(group, 13.5, 10.5), 0.8)
    mass = rng.normal(np.where(group, 300.0, 190.0), 15.0)
    return pd.DataFrame({"beak_mm": np.round(beak * 2) / 2, "mass_g": np.round(mass, 1)},
                        index=[f"bird{i}" for i in range(80)])


def test_rounding_step_finds_the_grid_of_tied_values():
    rng = np.random.default_rng(0)
    x = rng.normal(50, 10, 300)
    assert rounding_step(np.round(x)) == 1.0
    assert rounding_step(np.round(x, 1)) == 0.1  # not 0.0999999999999659
    assert rounding_step(np.round(x * 2) / 2) == 0.5
    assert rounding_step(x) is None  # continuous: no ties
    assert rounding_step(np.round(x[:8])) is None  # too few values to call a grid
    assert rounding_step(rng.integers(0, 4, 300).astype(float)) is None  # a code
    gapped = np.round(x)
    gapped[::7] = np.nan
    assert rounding_step(gapped) == 1.0  # missing values are no values
    spike = np.r_[np.zeros(100), rng.normal(5, 1, 200)]  # zero-inflated: a spike, no grid
    assert rounding_step(spike) is None


def test_rounding_steps_names_the_rounded_columns(rounded):
    frame = rounded.assign(wing=np.random.default_rng(1).normal(60, 3, len(rounded)))
    assert rounding_steps(frame) == {"beak_mm": 0.5, "mass_g": 0.1}
    assert rounding_steps(frame.to_numpy()) == {"x0": 0.5, "x1": 0.1}


def test_each_value_stays_in_its_rounding_interval_and_the_noise_is_uniform(rounded):
    """The oracle: every dequantised value rounds back to the value recorded, and the noise
    (value - recorded) / step is uniform on (-1/2, 1/2) (Kolmogorov-Smirnov)."""
    copy = dequantise(rounded)
    for column, step in {"beak_mm": 0.5, "mass_g": 0.1}.items():
        noise = (copy[column] - rounded[column]).to_numpy() / step
        assert np.all(np.abs(noise) <= 0.5)
        np.testing.assert_allclose(np.round(copy[column] / step) * step, rounded[column],
                                   atol=1e-9)
        assert stats.kstest(noise, stats.uniform(-0.5, 1).cdf).pvalue > 0.01
    assert copy.index.equals(rounded.index) and list(copy.columns) == list(rounded.columns)


def test_the_same_seed_gives_the_same_copy_and_the_input_is_untouched(rounded):
    before = rounded.copy()
    first, again = dequantise(rounded, random_state=3), dequantise(rounded, random_state=3)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first, dequantise(rounded, random_state=4))
    pd.testing.assert_frame_equal(rounded, before)
    assert rounded.attrs == {}
    assert recorded(first) == {"steps": {"beak_mm": 0.5, "mass_g": 0.1},
                                      "random_state": 3}
    drawn = dequantise(rounded, random_state=None)  # a seed is drawn, and recorded
    seed = drawn.attrs[ATTRS_KEY]["random_state"]
    assert isinstance(seed, int)
    pd.testing.assert_frame_equal(drawn, dequantise(rounded, random_state=seed))


def test_steps_given_by_name_position_or_for_every_column(rounded):
    only_beak = dequantise(rounded, {"beak_mm": 0.5})
    assert (only_beak["mass_g"] == rounded["mass_g"]).all()
    assert not (only_beak["beak_mm"] == rounded["beak_mm"]).any()
    array = dequantise(rounded.to_numpy(), {1: 0.1})
    assert isinstance(array, np.ndarray) and (array[:, 0] == rounded["beak_mm"]).all()
    every = dequantise(rounded.assign(mass_g=np.round(rounded["mass_g"])), 0.5)  # on 0.5 too
    assert every.attrs[ATTRS_KEY]["steps"] == {"beak_mm": 0.5, "mass_g": 0.5}
    series = dequantise(rounded["beak_mm"])
    assert isinstance(series, pd.Series) and series.name == "beak_mm"
    assert series.attrs[ATTRS_KEY]["steps"] == {"beak_mm": 0.5}
    one_d = dequantise(rounded["beak_mm"].to_numpy())
    assert one_d.shape == (80,)
    gaps = rounded.copy()
    gaps.iloc[3, 0] = np.nan
    assert np.isnan(dequantise(gaps).iloc[3, 0])  # a missing value stays missing


@pytest.mark.parametrize(("steps", "message"), [
    ({"wing": 0.5}, "no column 'wing' to dequantise in the data; its columns: "
                    "['beak_mm', 'mass_g']"),
    ({"beak_mm": 0}, "the step of column 'beak_mm' must be a finite number > 0"),
    ({"beak_mm": float("inf")}, "the step of column 'beak_mm' must be a finite number > 0"),
    (-1.0, "the step of column 'beak_mm' must be a finite number > 0"),
    ({}, "steps names no column"),
    ("rounded", "steps must be 'auto', a number or a mapping"),
])
def test_bad_steps_are_one_line_errors(rounded, steps, message):
    with pytest.raises(ValueError) as info:
        dequantise(rounded, steps)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_auto_on_unrounded_data_says_there_is_nothing_to_undo():
    X = np.random.default_rng(0).normal(size=(100, 2))
    with pytest.raises(ValueError, match="no column looks rounded .*nothing to undo"):
        dequantise(X)


def test_a_fit_records_it_and_its_sentence_says_so(rounded, tmp_path):
    em = bayesgmm.fit_em(dequantise(rounded, random_state=5), 2, random_state=0)
    record = em.observations["dequantised"]
    assert record == {"steps": {"beak_mm": 0.5, "mass_g": 0.1}, "random_state": 5}
    sentence = observations_sentence(em.observations)
    assert sentence == ("80 row(s) fitted; 'beak_mm' (step 0.5) and 'mass_g' (step 0.1) "
                        "dequantised: uniform noise within half a step added to their "
                        "rounded values (seed 5)")
    # the criteria are the fit's own (a report re-reading the file would get the rounded ones)
    assert fitted_criteria(em.log_likelihood, em.n_parameters, em.observations, 80)[0] == \
        pytest.approx(em.bic(dequantise(rounded, random_state=5)))
    bayesgmm.save(em, tmp_path / "em")
    assert bayesgmm.load(tmp_path / "em").observations["dequantised"] == record
    plain = bayesgmm.fit_em(rounded, 2, random_state=0)
    assert plain.observations["dequantised"] is None
    assert "dequantised" not in observations_sentence(plain.observations)


def test_parse_steps_takes_what_the_command_line_writes():
    assert parse_steps("auto") == "auto"
    assert parse_steps("0.5") == 0.5
    assert parse_steps("beak_mm=0.5, mass_g=0.1") == {"beak_mm": 0.5, "mass_g": 0.1}
    for bad, message in (("zz", "--dequantise takes auto, a step"),
                         ("=3", "'=3' names no column"),
                         ("a=-1", "--dequantise: the step of column 'a' must be")):
        with pytest.raises(ValueError, match=message):
            parse_steps(bad)


@pytest.fixture
def rounded_csv(rounded, tmp_path, monkeypatch):
    rounded.to_csv(tmp_path / "birds.csv", index_label="bird")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_em_dequantises_with_its_seed_and_records_it(rounded_csv, rounded, capsys):
    rc = cli.main(["em", "birds.csv", "-k", "2", "--index", "bird", "--seed", "11",
                   "--dequantise", "auto", "--out", "out", "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    line = ("'beak_mm' (step 0.5) and 'mass_g' (step 0.1) dequantised: uniform noise within "
            "half a step added to their rounded values (seed 11)")
    assert line in out
    saved = bayesgmm.load(rounded_csv / "out")
    assert saved.observations["dequantised"]["random_state"] == 11
    # the fit is that of the API's copy with the same seed
    em = bayesgmm.fit_em(dequantise(rounded, random_state=11), 2, n_init=10,
                         init=bayesgmm.em.BOTH_INITS, random_state=11)
    assert saved.log_likelihood == pytest.approx(em.log_likelihood, rel=1e-9)
    manifest = json.loads((rounded_csv / "out" / "em.json").read_text())
    assert "dequantised" in json.dumps(manifest)


@pytest.mark.parametrize(("flag", "message"), [
    ("wing=0.5", "--dequantise: no column 'wing' to dequantise in the data"),
    ("zz", "argument --dequantise: --dequantise takes auto, a step"),
])
def test_a_bad_dequantise_flag_is_one_line(rounded_csv, capsys, flag, message):
    with pytest.raises(SystemExit) if "argument" in message else contextlib.nullcontext() as info:
        rc = cli.main(["em", "birds.csv", "-k", "2", "--index", "bird", "--dequantise", flag])
    rc = info.value.code if info is not None else rc
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and message in err[-1], err


def test_dequantise_beside_counts_is_refused_with_the_expansion(rounded_csv, rounded, capsys):
    """QA134 M2: a counts table of rounded values: "no column looks rounded" (auto), or with a
    step "dequantised" while one jitter per row left a row's w tied values tied. Refused, with
    the rows' expansion; weights of 0 and 1 only mark rows in or out, and pass."""
    frame = rounded.assign(n=np.arange(len(rounded)) % 3 + 1)
    frame.to_csv(rounded_csv / "counts.csv", index_label="bird")
    rc = cli.main(["em", "counts.csv", "-k", "2", "--index", "bird", "--weights", "n",
                   "--dequantise", "auto"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1] == (
        "bayesgmm: error: --dequantise with weights: a row of weight w stands for w tied "
        "values, which one jitter per row cannot tell apart; expand the rows first (one per "
        "count: in pandas df.loc[df.index.repeat(df['n'])]) and fit them without weights")
    # fractional weights: no counts to expand (QA141 L2: the recipe dropped rows below 1)
    frame.assign(n=np.arange(len(rounded)) % 3 + 0.5).to_csv(rounded_csv / "shares.csv",
                                                             index_label="bird")
    rc = cli.main(["em", "shares.csv", "-k", "2", "--index", "bird", "--weights", "n",
                   "--dequantise", "auto"])
    assert rc == 2 and capsys.readouterr().err.strip().splitlines()[-1] == (
        "bayesgmm: error: --dequantise with weights that are not whole numbers: a row's "
        "weight is no count of tied values to spread; fit without --dequantise")
    frame.assign(n=np.arange(len(rounded)) % 2).to_csv(rounded_csv / "marks.csv",
                                                       index_label="bird")
    assert cli.main(["em", "marks.csv", "-k", "2", "--index", "bird", "--weights", "n",
                     "--dequantise", "auto",
                     "--no-progress"]) == 0


def test_a_spec_dequantises_and_checks_its_key(rounded_csv, monkeypatch, capsys):
    seen = {}

    def record(frame, n_components, **kwargs):
        seen.update(frame=frame)
        raise ValueError("stop here")

    monkeypatch.setattr(cli, "fit_bayes", record)
    spec = rounded_csv / "spec.toml"
    body = ('[data]\npath = "birds.csv"\nindex = "bird"\ndequantise = {}\n[model]\n'
            'n_components = 2\n[sampler]\nseed = 4\n[output]\ndirectory = "o"\n')
    spec.write_text(body.format("{ beak_mm = 0.5 }"))
    assert cli.main(["run", str(spec)]) == 2
    assert recorded(seen["frame"]) == {"steps": {"beak_mm": 0.5}, "random_state": 4}
    assert "'beak_mm' (step 0.5) dequantised" in capsys.readouterr().out
    for value, message in (('"maybe"', '[data] dequantise must be "auto", a step'),
                           ("{ beak_mm = -1 }", "[data] dequantise: the step of column "
                                                "'beak_mm' must be a finite number > 0"),
                           ("{ wing = 0.5 }", "[data] dequantise: no column 'wing'")):
        spec.write_text(body.format(value))
        assert cli.main(["run", str(spec)]) == 2
        assert message in capsys.readouterr().err


def test_the_collapse_advice_names_the_cure():
    """QA89 L8: the advice said to add jitter by hand; it names --dequantise and
    bayesgmm.dequantise with the column's step."""
    from bayesgmm.diagnostics import _collapse_remedy

    x = np.round(np.random.default_rng(0).normal(25, 6, (300, 1)))
    advice = _collapse_remedy(x, ["age"], ["age"])
    assert ("--dequantise age=1 does that on the command line, bayesgmm.dequantise(X, "
            "{'age': 1}) in Python") in advice


def test_the_methods_paragraph_says_the_values_were_dequantised(rounded):
    """A paper's Methods must say that the values fitted carried added noise."""
    em = bayesgmm.fit_em(dequantise(rounded, {"beak_mm": 0.5}, random_state=2), 2,
                         random_state=0)
    text = str(bayesgmm.methods_text(em))
    assert ("'beak_mm' (step 0.5) dequantised: uniform noise within half a step added to its "
            "rounded values (seed 2)") in text
    assert "dequantised" not in str(bayesgmm.methods_text(bayesgmm.fit_em(rounded, 2,
                                                                          random_state=0)))


def test_a_step_a_column_was_not_recorded_to_is_refused(old_faithful):
    """QA92: one step of 0.5 for every column moved Old Faithful's eruptions (recorded to
    0.001) by up to 0.25, out of the intervals its values were rounded from."""
    with pytest.raises(ValueError) as info:
        dequantise(old_faithful, 0.5)
    assert str(info.value) == ("column 'eruptions' is not recorded to 0.5 (its values do not "
                               "lie on a grid of that step; they lie on one of 0.001): give "
                               "each column its own step, e.g. {'eruptions': 0.001}, or leave "
                               "it out")
    moved = dequantise(old_faithful, {"waiting": 1})["waiting"] - old_faithful["waiting"]
    assert np.abs(moved).max() <= 0.5
    offset = pd.DataFrame({"x": np.arange(40) % 12 * 0.5 + 0.25})  # 0.25, 0.75, ...: on 0.5
    assert np.abs(dequantise(offset, 0.5)["x"] - offset["x"]).max() <= 0.25


def test_without_a_seed_the_noise_is_seeded_by_the_seed_printed(rounded_csv, capsys):
    """QA94: every command-line test gave --seed; without one, the seed drawn and printed in
    the header is the one the noise was drawn with (and recorded)."""
    import re

    assert cli.main(["em", "birds.csv", "-k", "2", "--index", "bird", "--dequantise", "auto",
                     "--out", "drawn", "--no-progress"]) == 0
    out = capsys.readouterr().out
    printed = int(re.search(r"; seed (\d+)", out.splitlines()[0]).group(1))
    assert f"rounded values (seed {printed})" in out
    saved = bayesgmm.load(rounded_csv / "drawn")
    assert saved.observations["dequantised"]["random_state"] == printed


def test_the_advised_flag_survives_the_shell_and_the_parser_for_any_column_name():
    """QA94: for columns "beak length (mm)" and "mass, g" the advice wrote
    --dequantise beak length (mm)=0.5,mass, g=1, which the shell splits and the parser
    refused. It is quoted for the shell, and the parser takes commas inside names."""
    import shlex

    from bayesgmm.diagnostics import _collapse_remedy

    rng = np.random.default_rng(0)
    x = np.c_[np.round(rng.normal(25, 6, 300) * 2) / 2, np.round(rng.normal(60, 9, 300))]
    names = ["beak length (mm)", "mass, g"]
    advice = _collapse_remedy(x, names, names)
    flag = advice[advice.index("--dequantise "):advice.index(" does that")]
    words = shlex.split(flag)
    assert words[0] == "--dequantise" and len(words) == 2
    assert parse_steps(words[1]) == {"beak length (mm)": 0.5, "mass, g": 1.0}


def test_float_noise_is_no_grid_and_a_sparse_grid_is_found():
    """QA94: a difference of two columns recorded to 0.1 was "rounded to 4.4e-16" (5.3 - 2.1
    and 4.2 - 1.0 differ by float noise, and np.allclose's relative tolerance passed every
    gap), and dequantise then added 1e-16 of noise under a record saying it had cured the
    ties; a continuous column with one near-duplicate was a grid of 1e-12; incomes recorded
    to the cent, their smallest gap several cents, were no grid."""
    rng = np.random.default_rng(0)
    a, b = np.round(rng.normal(5, 1, 300), 1), np.round(rng.normal(2, 1, 300), 1)
    assert rounding_step(a - b) == 0.1
    copy = dequantise(pd.DataFrame({"d": a - b}))["d"].to_numpy()
    assert 0.02 < np.abs(copy - (a - b)).max() <= 0.05 and np.unique(copy).size == 300
    x = rng.normal(50, 10, 300)
    x[:5] = x[5]
    x[6] = x[7] + 1e-12
    assert rounding_step(x) is None
    cents = np.round(rng.lognormal(10, 1, 300), 2)
    cents[:20] = cents[20]
    assert rounding_step(cents) == 0.01
    assert rounding_step(np.round(rng.normal(-5, 2, 300), 1)) == 0.1  # below zero too


def test_the_record_holds_only_for_the_values_dequantise_left(rounded):
    """QA94: pandas hands attrs on through subsets, rounding and arithmetic, and a fit of
    mass alone, or of the values rounded back, said beak was dequantised. Only the columns
    there with the values dequantise left are said."""
    D = dequantise(rounded, {"beak_mm": 0.5}, random_state=3)
    assert recorded(D) == {"steps": {"beak_mm": 0.5}, "random_state": 3}
    assert recorded(D["beak_mm"]) == recorded(D)
    for changed in (D[["mass_g"]], D["mass_g"], D.round(0), D.assign(beak_mm=rounded.beak_mm),
                    (D - D.mean()) / D.std(), D.rename(columns={"beak_mm": "b"}), D.iloc[:40]):
        assert recorded(changed) is None
    em = bayesgmm.fit_em(D[["mass_g"]], 2, random_state=0)
    assert em.observations["dequantised"] is None



def test_a_selection_of_dequantised_data_says_so(rounded):
    """QA94: select_em on a dequantised frame (and select --dequantise) said it nowhere but
    on the console: its notes say it, and each cell's fit keeps the record."""
    D = dequantise(rounded, random_state=1)
    sel = bayesgmm.select_em(D, [1, 2], ["full", "diag"], n_jobs=1, random_state=0)
    assert ("'beak_mm' (step 0.5) and 'mass_g' (step 0.1) dequantised: uniform noise within "
            "half a step added to their rounded values (seed 1): the criteria are those of "
            "this copy") in sel.notes
    assert sel.fits[(2, "full")].observations["dequantised"]["random_state"] == 1


@pytest.mark.parametrize("offset", [0.0, 1e6, 1e9, 1e12, -1e12])
@pytest.mark.parametrize("step", [0.1, 0.25, 0.37, 5.0])
def test_the_step_is_the_decimal_written_far_from_zero(offset, step):
    """Far from zero float spacing bends a 0.1 gap (to 0.09997558594 at 1e12): the step found
    is still the short decimal the values were written to."""
    rng = np.random.default_rng(1)
    x = offset + np.round(rng.normal(0, 40 * step, 300) / step) * step
    assert rounding_step(x) == step
    assert rounding_step(offset + rng.normal(0, 40 * step, 300)) is None  # no ties: none


def test_the_api_refuses_dequantised_rows_with_counts_as_the_command_line_does(rounded):
    """QA165 M1: fit_em(dequantise(df), sample_weight=counts) was taken and recorded as
    dequantised, while 335 of 407 counted points were still tied; the command line refused
    it. One rule, in prepare_observations, for both."""
    from bayesgmm import EMGaussianMixture, dequantise, fit_em

    jittered = dequantise(rounded, random_state=1)
    counts = np.arange(len(rounded)) % 3 + 1
    with pytest.raises(ValueError, match=r"^X was dequantised \(bayesgmm\.dequantise\) and "
                                         r"sample_weight holds weights other than 0 and 1: a "
                                         r"row of weight w stands for w tied values.*repeat "
                                         r"the rows by their counts before dequantising"):
        fit_em(jittered, 2, sample_weight=counts, random_state=0)
    with pytest.raises(ValueError, match=r"a row's weight is no count of tied values to "
                                         r"spread; fit without dequantising$"):
        EMGaussianMixture(2, random_state=0).fit(jittered, sample_weight=counts + 0.5)
    # rows subset or reordered since: still jittered, still refused (QA166 M2)
    for changed in (jittered.iloc[::-1], jittered.iloc[5:], jittered.sort_values(
            jittered.columns[0])):
        with pytest.raises(ValueError, match=r"^X was dequantised"):
            fit_em(changed, 2, sample_weight=counts[:len(changed)], random_state=0)
    # weights of 0 and 1 mark rows in or out: taken, and the record kept
    fit = fit_em(jittered, 2, sample_weight=counts % 2, random_state=0)
    assert fit.observations["dequantised"]["steps"]


def test_a_step_refused_on_the_command_line_is_advised_in_its_words(old_faithful, capsys,
                                                                     tmp_path, monkeypatch):
    """QA165 L2: --dequantise 0.5 was advised "e.g. {'eruptions': 0.001}", Python's dict,
    where the command line takes eruptions=0.001."""
    monkeypatch.chdir(tmp_path)
    old_faithful.to_csv("faithful.csv", index=False)
    rc = cli.main(["em", "faithful.csv", "-k", "2", "--dequantise", "0.5", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 2 and err.endswith("give each column its own step, e.g. --dequantise "
                                    "eruptions=0.001, or leave it out"), err
    # a name with a space, quoted as the shell needs it (QA166)
    old_faithful.rename(columns={"eruptions": "erupt min"}).to_csv("spaced.csv", index=False)
    assert cli.main(["em", "spaced.csv", "-k", "2", "--dequantise", "0.5",
                     "--no-progress"]) == 2
    assert "e.g. --dequantise 'erupt min=0.001', or leave" in capsys.readouterr().err
