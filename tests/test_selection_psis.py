"""PSIS-LOO of a fit without its log_likelihood group, in blocks of rows (selection/psis.py)."""

import dataclasses
import warnings

import numpy as np
import pytest
import xarray as xr
from conftest import posterior_stand_in, simulate_mixture

from bayesgmm.selection import psis
from bayesgmm.selection.loo import compare


def _without_group(result):
    groups = {n: node.to_dataset() for n, node in result.idata.children.items()
              if n != "log_likelihood"}
    return dataclasses.replace(result, idata=xr.DataTree.from_dict(groups))


def _with_observed(result, **columns):
    groups = {n: node.to_dataset() for n, node in result.idata.children.items()}
    observed = groups["observed_data"]
    groups["observed_data"] = observed.assign(
        {k: ("observation", v) for k, v in columns.items()})
    return dataclasses.replace(result, idata=xr.DataTree.from_dict(groups))


def _assert_same_loo(blockwise, whole):
    np.testing.assert_allclose(blockwise.elpd_i.values, whole.elpd_i.values, rtol=1e-9)
    np.testing.assert_allclose(blockwise.pareto_k.values, whole.pareto_k.values, rtol=1e-9)
    for field in ("elpd", "se", "p"):
        assert getattr(blockwise, field) == pytest.approx(getattr(whole, field), rel=1e-9)
    assert blockwise.n_data_points == whole.n_data_points
    assert blockwise.warning == whole.warning


@pytest.mark.parametrize("weighted", [False, True])
def test_blockwise_loo_is_az_loo_of_the_whole_log_likelihood(tiny_fit, monkeypatch, weighted):
    """Oracle: the fit's own log_likelihood group through az.loo. Blocks of 30 rows (10 of
    them here) give the same pointwise elpd and Pareto k, and ArviZ's summary of them; with
    frequency weights, the rows the weights stand for."""
    fit = tiny_fit
    if weighted:
        n = fit.idata["observed_data"].sizes["observation"]
        fit = _with_observed(fit, sample_weight=(np.arange(n) % 3).astype(float))
    monkeypatch.setattr(psis, "BLOCK_VALUES", 30 * 2 * 100)
    _assert_same_loo(psis.fit_loo("K=2", _without_group(fit)), psis.fit_loo("K=2", fit))


def test_blockwise_loo_of_rows_with_missing_values_and_labels(monkeypatch):
    """Rows with missing values contribute their observed coordinates' density, labelled rows
    their own component's: the same as the log_likelihood group fit_bayes writes."""
    from bayesgmm.observations import prepare_observations
    from bayesgmm.sampling import _log_likelihood

    X, z, _ = simulate_mixture(n=120, seed=4)
    X[::7, 1] = np.nan
    labels = np.where(np.arange(len(X)) % 5 == 0, 0, -1)
    fit = posterior_stand_in(X, 3, draws=40)
    fit = _with_observed(fit, labels=labels)
    obs = prepare_observations(X, 3, labels=labels)
    groups = {n: node.to_dataset() for n, node in fit.idata.children.items()}
    groups["log_likelihood"] = _log_likelihood(obs, fit.posterior, "full")
    whole = dataclasses.replace(fit, idata=xr.DataTree.from_dict(groups))
    monkeypatch.setattr(psis, "BLOCK_VALUES", 25 * 2 * 40)
    _assert_same_loo(psis.fit_loo("K=3", fit), psis.fit_loo("K=3", whole))


def test_compare_takes_fits_whose_log_likelihood_was_left_out(tiny_fit, tiny_fit_diag):
    """QA (20,000 rows): select --bayes sampled every K, then stopped on "no log_likelihood
    group; refit with log_likelihood=True" (fit_bayes leaves it out above 50 million values,
    and the command line has no such option). The comparison is now the same without it; a
    bare DataTree without the group is still refused in one line."""
    whole = compare({"full": tiny_fit, "diag": tiny_fit_diag})
    left_out = compare({"full": _without_group(tiny_fit), "diag": _without_group(tiny_fit_diag)})
    columns = ["elpd", "se", "p", "elpd_diff", "dse"]
    np.testing.assert_allclose(left_out.comparison[columns].to_numpy(dtype=float),
                               whole.comparison.loc[left_out.comparison.index, columns]
                               .to_numpy(dtype=float), rtol=1e-9)
    assert left_out.best == whole.best
    bare = _without_group(tiny_fit).idata
    with pytest.raises(ValueError, match=r"model 'a' has no log_likelihood group") as error:
        compare({"a": bare, "b": tiny_fit.idata})
    assert "\n" not in str(error.value)


def test_a_row_of_weight_zero_raises_no_pareto_flag():
    """QA165 L4: the weighted LOO kept ArviZ's Pareto-k flag from a row of weight 0 (k 44),
    which it leaves out, while every counted row's k was below good_k; a counted row's high k
    still raises it."""
    rng = np.random.default_rng(0)
    ll = rng.normal(-1.0, 0.05, size=(2, 200, 30))
    # one row whose importance ratios exp(-ll) are Pareto with shape 1/0.9: k near 0.9
    ll[..., 0] = -0.9 * rng.exponential(size=(2, 200))

    def tree(first_weight):
        return xr.DataTree.from_dict({
            "posterior": xr.Dataset({"mu": (("chain", "draw"), rng.normal(size=(2, 200)))}),
            "log_likelihood": xr.Dataset({"x": (("chain", "draw", "observation"), ll)}),
            "observed_data": xr.Dataset({"x": ("observation", np.zeros(30)), "sample_weight": (
                "observation", np.r_[first_weight, np.ones(29)])})})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ's own, of every row
        loo = psis.fit_loo("m", tree(0.0))
        assert float(loo.pareto_k.max()) < loo.good_k and loo.n_data_points == 29
        assert not loo.warning
        counted = psis.fit_loo("m", tree(2.0))
    assert float(counted.pareto_k.max()) > counted.good_k and counted.warning
