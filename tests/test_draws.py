"""Sampling until converged (bayesgmm.draws): the checkpoint rule and the nutpie driver."""

import re
import time

import numpy as np
import pytest
import xarray as xr

from bayesgmm import fit_em
from bayesgmm.draws import (
    AdaptiveDraws,
    Checkpoint,
    DrawsRun,
    futile,
    next_checkpoint,
    sample_nutpie_until,
)


def _point(draws, rhat=1.0, bulk=1000.0, tail=1000.0):
    return Checkpoint(draws, rhat, bulk, tail, converged=False, elapsed_s=0.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"rhat_max": 1.0}, "rhat_max"), ({"ess_min": 0}, "ess_min"),
     ({"min_draws": 0}, "min_draws"), ({"max_draws": 1.5}, "max_draws"),
     ({"min_draws": 500, "max_draws": 100}, "max_draws"), ({"max_time": 0}, "max_time"),
     ({"growth": 1.0}, "growth"), ({"min_draws": True}, "min_draws")],
)
def test_settings_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaptiveDraws(**kwargs)


def test_next_checkpoint_follows_the_ess_rate():
    target = AdaptiveDraws(ess_min=400, max_draws=20_000)
    # 1000 draws gave ESS 200: ~2000 needed, with the 20% margin 2400.
    assert next_checkpoint(1000, _point(1000, bulk=200, tail=300), target) == 2400
    # Plenty of ESS but R-hat fails: the geometric step (x1.5).
    assert next_checkpoint(1000, _point(1000, rhat=1.05, bulk=5000), target) == 1500
    # A tiny ESS on short chains: at most 4x at once.
    assert next_checkpoint(1000, _point(1000, bulk=5, tail=5), target) == 4000
    # Never past max_draws; NaN ESS (constant draws) takes the geometric step.
    assert next_checkpoint(1000, _point(1000, bulk=1), AdaptiveDraws(max_draws=1200)) == 1200
    assert next_checkpoint(1000, _point(1000, bulk=np.nan), target) == 1500


def test_futile_when_chains_disagree_far_and_the_budget_is_far_too_short():
    """QA (diabetes, K=2, a component collapsed on a 2-valued column): the run drew on to
    4000, then 10000 draws at R-hat 4.5 and 4.4, for nothing. Far-off R-hat together with an
    ESS rate asking for over 4x the draws left stops it; either alone does not."""
    target = AdaptiveDraws(ess_min=400, max_draws=10_000)
    hopeless = Checkpoint(1000, 4.5, 4.0, 5.0, False, 0.0,
                          failed=("max R-hat", "min bulk ESS", "max chain mode shift (sd)"))
    why = futile(1000, hopeless, target)
    assert "R-hat 4.5 is far above 1.01" in why and "different modes" in why
    assert "needs about 100,000 draws per chain" in why and "9,000" in why
    # chains that agree draw on to max_draws however far the ESS target is
    assert futile(1000, _point(1000, rhat=1.001, bulk=4, tail=4), target) == ""
    # far-off R-hat, but the ESS rate says the budget may do (4x the 9,000 left: 37,000)
    assert futile(1000, _point(1000, rhat=4.5, bulk=11, tail=11), target) == ""
    assert futile(1000, _point(1000, rhat=4.5, bulk=10, tail=11), target) != ""
    assert futile(1000, _point(1000, rhat=1.4, bulk=1, tail=1), target) == ""
    # no ESS to project from, or no budget left: no verdict here
    assert futile(1000, _point(1000, rhat=4.5, bulk=np.nan), target) == ""
    assert futile(10_000, _point(10_000, rhat=4.5, bulk=1, tail=1), target) == ""
    assert "different modes" not in futile(1000, _point(1000, rhat=4.5, bulk=1), target)


def test_futile_when_the_draws_hold_more_divergences_than_the_verdict_allows():
    """QA (D=3, K=4, weights 2000/500/100/30): the retried run diverged 651 times, yet drew
    on from 1,000 to 10,000 draws per chain (200 s) to a verdict that divergences had
    already made PROBLEMS."""
    target = AdaptiveDraws(ess_min=400, max_draws=10_000, max_divergences=0)

    def point(divergences):
        return Checkpoint(1000, 1.065, 59.0, 70.0, False, 0.0, divergences=divergences)

    why = futile(1000, point(3), target)
    assert why.startswith("3 divergent transitions in the first 1,000 draws per chain")
    assert "more than the 0 the verdict allows" in why
    assert futile(1000, point(1), target).startswith("1 divergent transition in")
    # none, or no more than allowed, or not counted, or divergences not asked about: draw on
    assert futile(1000, point(0), target) == ""
    assert futile(1000, point(3), AdaptiveDraws(max_draws=10_000, max_divergences=3)) == ""
    assert futile(1000, point(None), target) == ""
    assert futile(1000, point(3), AdaptiveDraws(max_draws=10_000)) == ""
    with pytest.raises(ValueError, match="max_divergences"):
        AdaptiveDraws(max_divergences=-1)


def test_a_run_whose_draws_diverge_stops_at_its_first_checkpoint(compiled_faithful):
    """Steps far too long (target_accept 0.05 after a 20-draw warm-up) diverge in every
    run of this seed: the first checkpoint counts them and ends the run, unless the target
    does not ask about divergences (then it draws on to max_draws, as before)."""
    def check(post):  # chains that agree, short of the ESS target: never futile by ESS
        return 1.0, 300.0, 300.0, ("min bulk ESS", "min tail ESS")

    kw = {"tune": 20, "chains": 2, "seed": 1, "progressbar": False, "target_accept": 0.05}
    target = AdaptiveDraws(min_draws=100, max_draws=1000, max_divergences=0)
    idata, run = sample_nutpie_until(compiled_faithful, check, target, **kw)
    held = int(idata["sample_stats"]["diverging"].sum())
    assert run.stopped_by == "futile" and run.draws == 100 and held > 0
    assert run.checkpoints[0].divergences == held and "divergent transition" in run.reason
    assert DrawsRun.from_dict(run.to_dict()) == run
    _, run = sample_nutpie_until(compiled_faithful, check, AdaptiveDraws(
        min_draws=100, max_draws=200), **kw)
    assert run.stopped_by == "max_draws" and run.checkpoints[0].divergences > 0


@pytest.mark.parametrize("allowed", [0, 2])
def test_divergences_past_a_checkpoint_end_the_run_before_the_next(compiled_faithful, allowed):
    """The first checkpoint (100 draws) has no divergence and asks for 400; the divergences
    pass the allowance at draw t of a plain run of the same seed, so the run ends at t + 1
    rounded up to 100, checked there (futile), not at 400."""
    import nutpie

    def check(post):
        return 1.0, 10.0, 10.0, ("min bulk ESS", "min tail ESS")

    for seed in range(1, 30):  # a seed whose divergences fall between the checkpoints
        kw = {"tune": 30, "chains": 2, "seed": seed, "progressbar": False,
              "target_accept": 0.2}
        plain = nutpie.sample(compiled_faithful, draws=400, cores=2, progress_bar=False,
                              **{k: v for k, v in kw.items() if k != "progressbar"})
        counts = np.cumsum(plain.sample_stats["diverging"].to_numpy().sum(axis=0))
        past = np.flatnonzero(counts > allowed)
        end = 100 * int(np.ceil((past[0] + 1) / 100)) if len(past) else 0
        if 100 < end < 400:
            break
    assert 100 < end < 400
    target = AdaptiveDraws(min_draws=100, max_draws=1000, max_divergences=allowed)
    idata, run = sample_nutpie_until(compiled_faithful, check, target, **kw)
    assert [c.draws for c in run.checkpoints] == [100, end] and run.draws == end
    assert run.stopped_by == "futile" and run.checkpoints[0].divergences <= allowed
    assert run.checkpoints[1].divergences == counts[end - 1] > allowed
    assert idata["posterior"].sizes["draw"] == end
    np.testing.assert_array_equal(idata["posterior"]["means"].to_numpy(),
                                  plain.posterior["means"].to_numpy()[:, :end])


def test_a_futile_run_stops_at_the_checkpoint_and_says_why(compiled_faithful):
    """The check says the chains disagree far (R-hat 4.5) and ESS 4 from 100 draws: at that
    rate ESS 400 needs 10,000 draws per chain against 900 left; the run stops at its first
    checkpoint (before: it drew on to max_draws), the reason in the record."""
    def check(post):
        return 4.5, 4.0, 4.0, ("max R-hat", "min bulk ESS", "min tail ESS")

    target = AdaptiveDraws(min_draws=100, max_draws=1000)
    kw = {"tune": 100, "chains": 2, "seed": 1, "progressbar": False, "target_accept": 0.8}
    seen = []
    idata, run = sample_nutpie_until(compiled_faithful, check, target,
                                     report=lambda point, nxt: seen.append((point.draws, nxt)),
                                     **kw)
    assert run.stopped_by == "futile" and run.draws == 100 == idata["posterior"].sizes["draw"]
    assert [c.draws for c in run.checkpoints] == [100] and seen == [(100, None)]
    assert "needs about 10,000 draws per chain" in run.reason
    assert run.to_dict()["reason"] == run.reason
    assert DrawsRun.from_dict(run.to_dict()) == run


def test_run_record_round_trips():
    failed = Checkpoint(1000, 1.0, 900.0, 900.0, False, 0.0, failed=("min rank p-value",))
    run = DrawsRun(1500, "converged", (_point(1000, bulk=300), failed, _point(1500)))
    assert DrawsRun.from_dict(run.to_dict()) == run
    assert failed.other_failed == ("min rank p-value",)
    # Records saved before the failed checks were listed still load.
    old = run.to_dict()
    for c in old["checkpoints"]:
        del c["failed"]
    assert DrawsRun.from_dict(old).checkpoints[1].failed == ()
    # ... and before the divergences were counted (None: not counted; 0 is stated)
    assert DrawsRun.from_dict(old).checkpoints[1].divergences is None
    counted = Checkpoint(1000, 1.0, 900.0, 900.0, False, 0.0, divergences=0)
    assert Checkpoint.from_dict(counted.to_dict()) == counted
    assert counted.to_dict()["divergences"] == 0 and "divergences" not in failed.to_dict()
    # a run that did not stop as futile has no reason in its record (records as before)
    assert "reason" not in run.to_dict() and DrawsRun.from_dict(old).reason == ""


def test_relabelled_check_names_every_failed_mixing_check():
    """The stopping rule is the verdict's: a chain apart fails R-hat (and the costly rank
    test is then skipped); a chain of another shape passes R-hat and ESS but fails the rank
    test; chains that agree pass every check."""
    import xarray as xr

    from bayesgmm.sampling import _relabelled_convergence
    from bayesgmm.settings import DiagnosticThresholds

    rng = np.random.default_rng(0)
    C, S, K = 4, 800, 2
    w = rng.dirichlet([300, 300], size=(C, S))
    mu = np.stack([rng.normal(-2, 0.05, (C, S)), rng.normal(2, 0.05, (C, S))], axis=-1)
    cov = np.broadcast_to(np.eye(1), (C, S, K, 1, 1)).copy()

    def posterior(mu):
        return xr.Dataset({"weights": (("chain", "draw", "component"), w),
                           "means": (("chain", "draw", "component", "feature"), mu[..., None]),
                           "covariances": (("chain", "draw", "component", "f1", "f2"), cov)})

    reference = (np.array([0.5, 0.5]), np.array([[-2.0], [2.0]]), np.ones((2, 1, 1)))
    kw = {"reference": reference, "covariance_type": "full", "X": None,
          "thresholds": DiagnosticThresholds()}
    *_, failed = _relabelled_convergence(posterior(mu), **kw)
    assert failed == ()
    apart = mu.copy()
    apart[0, :, 0] += 0.04  # one chain's mean shifted by 0.8 posterior sd
    rhat, bulk, tail, failed = _relabelled_convergence(posterior(apart), **kw)
    assert rhat > 1.01 and "max R-hat" in failed and "min rank p-value" not in failed
    # One chain samples another shape with the same mean and sd (uniform): R-hat and ESS do
    # not see it, the rank test does. (A chain 0.3 sd off did this before the rank test
    # thinned by 1.5 x draws / ESS: thinned by 2, iid draws see such a shift no sooner than
    # R-hat does.)
    apart = mu.copy()
    apart[0, :, 0] = rng.uniform(-2 - np.sqrt(3) * 0.05, -2 + np.sqrt(3) * 0.05, S)
    rhat, bulk, tail, failed = _relabelled_convergence(posterior(apart), **kw)
    assert rhat < 1.01 and bulk >= 400 and tail >= 400 and failed == ("min rank p-value",)


def test_a_failed_check_keeps_the_run_going(compiled_faithful):
    """R-hat and ESS pass, but another check (the rank test, say) fails: no stop."""
    def check(post):
        return 1.0, 1e6, 1e6, ("min rank p-value",)

    target = AdaptiveDraws(min_draws=100, max_draws=300)
    kw = {"tune": 100, "chains": 2, "seed": 1, "progressbar": False, "target_accept": 0.8}
    _, run = sample_nutpie_until(compiled_faithful, check, target, **kw)
    assert run.stopped_by == "max_draws" and run.draws == 300
    assert all(c.failed == ("min rank p-value",) and not c.converged for c in run.checkpoints)


@pytest.fixture(scope="module")
def compiled_faithful(old_faithful):
    from bayesgmm import model
    from bayesgmm.priors import Priors, Standardisation

    X = old_faithful.to_numpy()
    em = fit_em(X, 2, n_init=2, random_state=0)
    st = Standardisation.from_data(X, "full")
    pm_model = model.build_model(st.transform(X), 2, "full", Priors(), center=st.center,
                                 scale=st.scale, feature_names=list(old_faithful.columns))
    start = model.initial_point(pm_model, em.weights, em.means, em.covariances)
    return model.compile_nutpie(pm_model, start)


def _ess_check(post):
    import arviz as az

    p = post[["weights", "means"]]
    def extreme(ds, fn):
        return fn([fn(ds[v].to_numpy()) for v in ds.data_vars])
    return (extreme(az.rhat(p), np.max), extreme(az.ess(p, method="bulk"), np.min),
            extreme(az.ess(p, method="tail"), np.min))


def test_kept_draws_equal_a_fixed_run_and_repeat(compiled_faithful):
    """The kept draws are exactly the first n of each chain: a fixed run of n draws gives them."""
    import nutpie

    target = AdaptiveDraws(min_draws=200, ess_min=1500, max_draws=3000)
    kw = {"tune": 200, "chains": 2, "seed": 3, "progressbar": False, "target_accept": 0.8}
    idata, run = sample_nutpie_until(compiled_faithful, _ess_check, target, **kw)
    again, run_again = sample_nutpie_until(compiled_faithful, _ess_check, target, **kw)
    assert run.stopped_by == "converged" and run == run_again
    assert len(run.checkpoints) >= 2 and not run.checkpoints[0].converged
    assert [c.draws for c in run.checkpoints][-1] == run.draws
    assert idata["posterior"].sizes["draw"] == run.draws
    fixed = nutpie.sample(compiled_faithful, draws=run.draws, tune=200, chains=2, cores=2,
                          seed=3, progress_bar=False)
    for name in ("weights", "means", "covariances"):
        a = idata["posterior"][name].to_numpy()
        np.testing.assert_array_equal(a, fixed["posterior"][name].to_numpy())
        np.testing.assert_array_equal(a, again["posterior"][name].to_numpy())
    assert idata["sample_stats"].sizes["draw"] == run.draws


def test_abandon_ends_the_run_at_a_checkpoint(compiled_faithful):
    """``abandon`` sees the draws so far at each checkpoint and can end the run there."""
    seen = []

    def abandon(tree):
        seen.append(tree["posterior"].sizes["draw"])
        return len(seen) == 2  # at the second checkpoint

    target = AdaptiveDraws(min_draws=100, max_draws=3000, ess_min=1e9)
    kw = {"tune": 100, "chains": 2, "seed": 1, "progressbar": False, "target_accept": 0.8}
    idata, run = sample_nutpie_until(compiled_faithful, _ess_check, target, abandon=abandon,
                                     **kw)
    assert run.stopped_by == "abandoned" and seen[0] == 100 and len(seen) == 2
    assert run.draws == seen[1] == idata["posterior"].sizes["draw"] > 100
    assert [c.draws for c in run.checkpoints] == [100]  # the abandoned look is not checked


@pytest.mark.parametrize("target_accept", [0.1, 0.2])
def test_stop_on_divergence_ends_the_run_just_after_the_first_divergent_draw(
        compiled_faithful, target_accept):
    """The run ends at the earliest divergent draw of any chain (steps this large diverge on
    Old Faithful: one chain at draw 248 with 0.2; both chains, the first at draw 27, with 0.1),
    the same point a fixed run with the same seed shows, whenever the chains report it."""
    import nutpie

    target = AdaptiveDraws(min_draws=1500, max_draws=2000, ess_min=1e9)
    kw = {"tune": 100, "chains": 2, "seed": 1, "progressbar": False,
          "target_accept": target_accept}
    idata, run = sample_nutpie_until(compiled_faithful, _ess_check, target,
                                     stop_on_divergence=True, **kw)
    fixed = nutpie.sample(compiled_faithful, draws=2000, cores=2, progress_bar=False, **{
        k: v for k, v in kw.items() if k != "progressbar"})
    diverging = fixed["sample_stats"]["diverging"].to_numpy()
    first = min(int(np.argmax(row)) for row in diverging if row.any())
    assert run.stopped_by == "diverged" and run.checkpoints == ()
    assert run.draws == first + 1 == idata["posterior"].sizes["draw"]
    kept = idata["sample_stats"]["diverging"].to_numpy()
    assert kept[:, -1].any() and not kept[:, :-1].any()
    np.testing.assert_array_equal(idata["posterior"]["means"].to_numpy(),
                                  fixed["posterior"]["means"].to_numpy()[:, :first + 1])
    # Without the option the same run draws on, past the divergent draw, to a checkpoint
    # (where the ESS target, out of reach, ends it: at the cap, or as futile)
    _, on = sample_nutpie_until(compiled_faithful, _ess_check, target, **kw)
    assert on.stopped_by in ("max_draws", "futile") and on.draws >= 1500


def test_stop_on_divergence_respects_the_divergences_the_verdict_allows(compiled_faithful):
    """With max_divergences = 2 the first run is not ended (for a retry) by divergences the
    verdict would accept: it ends just after the draw where the chains' divergences first
    number 3, as a fixed run of the same seed shows."""
    import nutpie

    target = AdaptiveDraws(min_draws=1500, max_draws=2000, ess_min=1e9, max_divergences=2)
    kw = {"tune": 100, "chains": 2, "seed": 1, "progressbar": False, "target_accept": 0.1}
    idata, run = sample_nutpie_until(compiled_faithful, _ess_check, target,
                                     stop_on_divergence=True, **kw)
    fixed = nutpie.sample(compiled_faithful, draws=2000, cores=2, progress_bar=False, **{
        k: v for k, v in kw.items() if k != "progressbar"})
    counts = np.cumsum(fixed["sample_stats"]["diverging"].to_numpy().sum(axis=0))
    third = int(np.flatnonzero(counts > 2)[0])
    assert int(np.flatnonzero(counts > 0)[0]) < third  # premise: the first came earlier
    assert run.stopped_by == "diverged" and run.draws == third + 1
    assert int(idata["sample_stats"]["diverging"].sum()) == counts[third] > 2


def test_a_spent_time_budget_keeps_the_draws_instead_of_stopping_at_a_divergence(
        compiled_faithful):
    """Once max_time has passed the run stops by time with the draws it has, divergences
    included (the verdict reports them): no stop at a divergence, so no retry past the budget."""
    target = AdaptiveDraws(min_draws=1500, max_draws=2000, ess_min=1e9, max_time=1e-3)
    kw = {"tune": 100, "chains": 2, "seed": 1, "progressbar": False, "target_accept": 0.1}
    idata, run = sample_nutpie_until(compiled_faithful, _ess_check, target,
                                     stop_on_divergence=True, **kw)
    assert run.stopped_by == "max_time"
    assert idata["posterior"].sizes["draw"] == run.draws >= 1


def test_a_warm_up_that_outlives_the_time_budget_ends_with_an_error(compiled_faithful,
                                                                    monkeypatch):
    """max_time spent before the warm-up ends: the run waits its grace for a first draw, then
    stops with one line naming the cause and the fixes (it once waited, silently, for the whole
    warm-up: ~30 min past a 300 s budget on an overfitted K)."""
    from bayesgmm import draws as draws_module

    monkeypatch.setattr(draws_module, "WARMUP_GRACE_S", 0.5)
    target = AdaptiveDraws(min_draws=100, max_draws=200, ess_min=1e9, max_time=0.2)
    kw = {"tune": 10_000_000, "chains": 2, "seed": 1, "progressbar": False,
          "target_accept": 0.8}
    started = time.monotonic()
    with pytest.raises(ValueError, match=r"max_time=0.2 s ran out in the warm-up: after \d+ s "
                       r"the slowest chain had [\d,]+ of its 10,000,000 tuning draws.*allow "
                       r"more time \(max_time, --max-time\) or fewer tuning draws"):
        sample_nutpie_until(compiled_faithful, _ess_check, target, **kw)
    assert time.monotonic() - started < 30
    # a fast warm-up that is only long: its pace is not blamed on the model
    from bayesgmm.draws import _check_warmup_grace

    with pytest.raises(ValueError, match=r"needs ~\d+ min more at this pace\), so") as fast:
        _check_warmup_grace(50_000, 10_000_000, time.monotonic() - 20.0, 1.0)
    assert "more components" not in str(fast.value)
    with pytest.raises(ValueError, match=r"needs ~\d+ min more at this pace; 1.0 s a tuning "
                       r"draw, which often means more components than the data support\)"):
        _check_warmup_grace(600, 1000, time.monotonic() - 600.0, 500.0)


def test_budget_limits_end_the_run(compiled_faithful):
    kw = {"tune": 100, "chains": 2, "seed": 1, "progressbar": False, "target_accept": 0.8}
    never = AdaptiveDraws(min_draws=100, max_draws=300, ess_min=1e9)
    idata, run = sample_nutpie_until(compiled_faithful, _ess_check, never, **kw)
    assert run.stopped_by == "max_draws" and run.draws == 300
    assert [c.draws for c in run.checkpoints][-1] == 300
    assert not any(c.converged for c in run.checkpoints)
    timed = AdaptiveDraws(min_draws=100, max_draws=1_000_000, ess_min=1e9, max_time=3.0)
    idata, run = sample_nutpie_until(compiled_faithful, _ess_check, timed, **kw)
    assert run.stopped_by == "max_time"
    assert idata["posterior"].sizes["draw"] == run.draws >= 1
    assert not np.isnan(idata["posterior"]["weights"].to_numpy()).any()


# --------------------------------------------------------------------------------------------
# draws="auto" through fit_bayes (the default)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def auto_fit(old_faithful):
    from bayesgmm import fit_bayes

    return fit_bayes(old_faithful, 2, random_state=5, tune=300, chains=2, progressbar=False)


def test_fit_bayes_samples_until_converged_by_default(auto_fit):
    record = auto_fit.settings["adaptive"]
    assert auto_fit.sampler_settings.draws == "auto"
    assert record["stopped_by"] == "converged"
    last = record["checkpoints"][-1]
    assert last["converged"] and last["draws"] == record["draws"] == auto_fit.settings["draws"]
    assert auto_fit.posterior.sizes["draw"] == record["draws"]
    # The stopping rule measured what the verdict measures: the verdict agrees, on every
    # check that more draws can settle.
    diagnostics = auto_fit.diagnostics()
    assert diagnostics.max_rhat == pytest.approx(last["max_rhat"])
    assert diagnostics.min_ess_bulk == pytest.approx(last["min_ess_bulk"])
    assert last["failed"] == []
    sampler = ("divergences", "min E-BFMI", "max tree depth fraction")
    assert all(c.passed for c in diagnostics.checks if c.name not in sampler)


def test_auto_equals_a_fixed_run_of_the_draws_it_kept(auto_fit, old_faithful):
    from bayesgmm import fit_bayes

    fixed = fit_bayes(old_faithful, 2, random_state=5, tune=300, chains=2, progressbar=False,
                      draws=auto_fit.settings["draws"])
    assert "adaptive" not in fixed.settings
    for name in ("weights", "means", "covariances"):
        np.testing.assert_array_equal(auto_fit.posterior[name].to_numpy(),
                                      fixed.posterior[name].to_numpy())
    # the auto run kept its last checkpoint's relabelling instead of relabelling again: the
    # same permutations, report and coordinates as relabelling the kept draws afresh
    assert auto_fit.settings["adaptive"]["stopped_by"] == "converged"
    np.testing.assert_array_equal(auto_fit.label_switching.permutations,
                                  fixed.label_switching.permutations)
    assert str(auto_fit.label_switching) == str(fixed.label_switching)
    xr.testing.assert_identical(auto_fit.posterior.drop_attrs(), fixed.posterior.drop_attrs())


def test_auto_result_saves_and_loads(auto_fit, tmp_path):
    from bayesgmm import load

    auto_fit.save(tmp_path / "r")
    back = load(tmp_path / "r")
    assert back.sampler_settings == auto_fit.sampler_settings
    assert back.settings["adaptive"] == auto_fit.settings["adaptive"]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"draws": "many"}, "draws must be an integer >= 1 or 'auto'"),
    ({"max_draws": 0}, "max_draws"), ({"max_time": -1}, "max_time"),
])
def test_bad_draws_settings(kwargs, match):
    from bayesgmm import SamplerSettings

    with pytest.raises(ValueError, match=match):
        SamplerSettings(**kwargs)


def test_cli_draws_flag(tmp_path, capsys):
    from bayesgmm.cli import main

    with pytest.raises(SystemExit) as exit_:  # argparse's usage error
        main(["fit", "bundled:old_faithful", "-k", "2", "--draws", "lots",
              "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "'auto'" in err and not (tmp_path / "o").exists()


def test_divergences_in_the_first_run_retry_with_smaller_steps(galaxies):
    """A first run that diverges is ended just after its first divergent draw and sampled
    again, once, with target_accept raised to retry_target_accept; None keeps the divergent
    run."""
    from bayesgmm import SamplerSettings, fit_bayes

    settings = SamplerSettings(target_accept=0.3, tune=200, chains=2, max_draws=300,
                               progressbar=False)
    kept = fit_bayes(galaxies, 4, random_state=1,
                     settings=settings.replace(retry_target_accept=None))
    assert "retried" not in kept.settings and kept.settings["target_accept"] == 0.3
    assert kept.diagnostics().n_divergences > 0  # the premise: steps this large diverge
    retried = fit_bayes(galaxies, 4, random_state=1, settings=settings)
    record = retried.settings["retried"]
    assert record["target_accept"] == [0.3, 0.95] and record["divergences"] > 0
    assert record["tune"] == [200, 600]  # the retry warms up three times as long
    # Ended at its first divergent draw, before the first checkpoint (min(1000, max_draws)).
    first = kept.idata["sample_stats"]["diverging"].to_numpy().any(axis=0).argmax()
    assert record["after_draws"] == first + 1 <= 300
    assert retried.settings["target_accept"] == 0.95
    assert retried.settings["tune"] == 600  # the warm-up of the draws kept (QA: it said 200)
    assert retried.sampler_settings.target_accept == 0.3  # what was asked for, unchanged


def test_a_retry_that_the_time_budget_cannot_hold_keeps_the_first_run(galaxies, monkeypatch):
    """QA167 F7: with max_time, the retry had a budget of its own (39.9 s of sampling for
    30), and where its longer warm-up could not fit, the run ended in an error with nothing
    kept. The retry shares the budget; where its warm-up cannot fit, the first run's draws
    are the result, said why (a warm-up made this long stands for a budget too short)."""
    from bayesgmm import SamplerSettings, fit_bayes, sampling

    monkeypatch.setattr(sampling, "_RETRY_WARMUP", 10**6)
    settings = SamplerSettings(target_accept=0.3, tune=200, chains=2, max_draws=300,
                               max_time=600, progressbar=False)
    result = fit_bayes(galaxies, 4, random_state=1, settings=settings)
    run = result.settings["adaptive"]
    assert "retried" not in result.settings and result.settings["target_accept"] == 0.3
    assert run["stopped_by"] == "max_time" and run["draws"] < 300
    assert re.match(r"a divergent transition by draw \d+; the time limit \(max_time\) left "
                    r"\d+ s, too little for the retry at target_accept=0\.95 \(its "
                    r"200,000,000-draw warm-up needs about \d+ s\), so the run ends there",
                    run["reason"])
    assert result.idata["posterior"].sizes["draw"] == run["draws"]  # the draws are kept
    assert result.diagnostics().n_divergences > 0


def test_a_divergence_from_a_collapsed_component_is_not_retried():
    """QA (diabetes, a two-valued column): the first run diverged because a component had
    collapsed onto the column's tied values, and the retry's three-times-longer warm-up spent
    minutes at tree depth 10 for the same verdict. Smaller steps cannot cure a collapse: the
    run now ends at the divergence, says why, and the diagnostics name the cause."""
    from bayesgmm import SamplerSettings, fit_bayes

    rng = np.random.default_rng(0)
    two_valued = rng.integers(1, 3, size=150).astype(float)
    X = np.column_stack([rng.normal(size=150) + 0.3 * two_valued, two_valued])
    with pytest.warns(UserWarning, match="only 2 distinct values"):
        result = fit_bayes(X, 2, random_state=1, settings=SamplerSettings(
            tune=300, chains=2, max_draws=2000, progressbar=False))
    run = result.settings["adaptive"]
    assert "retried" not in result.settings and result.settings["target_accept"] == 0.8
    assert run["stopped_by"] == "futile" and run["draws"] < 1000  # at the divergence
    assert run["draws"] == result.idata["posterior"].sizes["draw"]
    # no component number: the chains' own labels, before relabelling (QA167 F3)
    assert re.match(r"a divergent transition by draw \d+ came with a collapsed component "
                    r"\(a component collapses onto feature 'x1' \(in chain\(s\) [\d, and]+\); "
                    r"the diagnostics", run["reason"])
    assert "collapsed component" in result.diagnostics().causes


@pytest.mark.parametrize(("value", "match"), [(1.0, "retry_target_accept"),
                                              (True, "retry_target_accept")])
def test_retry_target_accept_validated(value, match):
    from bayesgmm import SamplerSettings

    with pytest.raises(ValueError, match=match):
        SamplerSettings(retry_target_accept=value)


def test_waiting_lines_come_while_the_chains_run(compiled_faithful, monkeypatch):
    """Where nutpie's bar does not show (a log, CI), ``waiting`` gets the slowest chain's
    draws (warm-up included, never going back) every HEARTBEAT_S seconds; the draws are the
    same as without it."""
    from bayesgmm import draws

    monkeypatch.setattr(draws, "HEARTBEAT_S", 0.01)
    seen, checks = [], []
    target = AdaptiveDraws(min_draws=2000, ess_min=1e9, max_draws=2000)
    kw = {"tune": 1000, "chains": 2, "seed": 4, "progressbar": False, "target_accept": 0.8}
    idata, run = sample_nutpie_until(compiled_faithful, _ess_check, target,
                                     waiting=lambda done, elapsed, due: seen.append(
                                         (done, elapsed)) or checks.append(due),
                                     **kw)
    assert seen and all(0 <= d <= 3000 for d, _ in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert [e for _, e in seen] == sorted(e for _, e in seen)
    assert set(checks) == {2000}  # the one check this target has
    plain, _ = sample_nutpie_until(compiled_faithful, _ess_check, target, **kw)
    np.testing.assert_array_equal(idata["posterior"]["means"], plain["posterior"]["means"])


def test_looking_at_a_sampler_with_fewer_draws_than_chains_does_not_warn():
    """QA: a run stopped by max_time at 2-3 draws a chain printed ArviZ's "Found chain
    dimension to be longer than draw dimension" 14 times, once per look at the sampler;
    the names are nutpie's and right. Other warnings still pass."""
    import warnings

    from bayesgmm.draws import _inspect

    class Sampler:
        def __init__(self, message):
            self.message = message

        def inspect(self):
            warnings.warn(self.message, UserWarning, stacklevel=1)
            return "draws"

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _inspect(Sampler("Found chain dimension to be longer than draw dimension, "
                                "check dimensions are correctly named.")) == "draws"
        with pytest.raises(UserWarning, match="something else"):
            _inspect(Sampler("something else"))


def test_the_defaults_are_the_settings_ones():
    """Review: AdaptiveDraws' max_draws was 20,000 where SamplerSettings' is 10,000, and the
    thresholds were written out in three places."""
    import inspect

    from bayesgmm import DiagnosticThresholds, SamplerSettings
    from bayesgmm.diagnostics import diagnose
    from bayesgmm.draws import AdaptiveDraws

    target, thresholds = AdaptiveDraws(), DiagnosticThresholds()
    assert target.max_draws == SamplerSettings().max_draws
    assert (target.rhat_max, target.ess_min) == (thresholds.rhat_max, thresholds.ess_min)
    defaults = inspect.signature(diagnose).parameters
    assert {k: defaults[k].default for k in thresholds.to_dict()} == thresholds.to_dict()


@pytest.mark.parametrize(("seconds", "words"), [
    (40, "40 s"), (100, "2 min"), (6000, "1.7 h"), (9000, "2.5 h")])
def test_one_rule_says_how_long(seconds, words):
    """QA119 L1: the warm-up's message and the progress line each had a rule of their own
    (100 s was "100 s" in one and "2 min" in the other)."""
    from bayesgmm.formatting import duration_words

    assert duration_words(seconds) == words
