"""The multi-chain rank test's p-values against ArviZ's own ``mchain_uniformity_test``."""

import numpy as np
import pytest
import xarray as xr

from bayesgmm.rank_uniformity import mchain_uniformity_pvalues


def _ranks(draws: np.ndarray) -> xr.DataArray:
    """ArviZ's fractional ranks of draws (scalars, chains, draws), as the rank check takes
    them."""
    import arviz_stats  # noqa: F401 (the .azstats accessor)

    ds = xr.Dataset({"x": (("scalar", "chain", "draw"), draws)})
    return ds.azstats.compute_ranks(dim=["chain", "draw"], relative=True)["x"]


@pytest.mark.parametrize(("chains", "draws", "shift"), [
    (4, 500, 0.0), (4, 500, 0.3), (2, 40, 1.0), (4, 7, 0.0), (8, 300, 0.1), (3, 1000, 0.05)])
def test_the_p_values_are_arvizs(chains, draws, shift):
    """ArviZ evaluates SciPy's hypergeometric pmf and cdf per scalar and chain; the table
    here gives the same p-values (to the rounding of 1 - a tail near 1, which both take)."""
    import arviz_stats  # noqa: F401

    rng = np.random.default_rng(chains * draws)
    x = rng.normal(size=(12, chains, draws))
    x[:, 0] += shift  # one chain off: small p-values too
    x[:3] = np.round(x[:3], 1)  # tied values
    ranks = _ranks(x)
    expected, _, _ = ranks.azstats.mchain_uniformity_test(dim=["chain", "draw"])
    ours = mchain_uniformity_pvalues(ranks.transpose("scalar", "chain", "draw").to_numpy())
    np.testing.assert_allclose(ours, expected.to_numpy(), rtol=1e-5, atol=1e-12)


def test_far_chains_give_p_values_near_zero_as_arvizs():
    """A chain 2 sd off: ArviZ's p rounds to 0; so does this one, or nearly."""
    import arviz_stats  # noqa: F401

    x = np.random.default_rng(1).normal(size=(2, 4, 400))
    x[:, 1] += 2.0
    ranks = _ranks(x)
    expected, _, _ = ranks.azstats.mchain_uniformity_test(dim=["chain", "draw"])
    ours = mchain_uniformity_pvalues(ranks.to_numpy())
    assert np.all(expected.to_numpy() < 1e-12) and np.all(ours < 1e-12)


def test_the_shape_of_the_scalars_is_kept_and_bad_ranks_are_refused():
    ranks = _ranks(np.random.default_rng(2).normal(size=(6, 4, 50))).to_numpy()
    assert mchain_uniformity_pvalues(ranks.reshape(2, 3, 4, 50)).shape == (2, 3)
    assert np.isnan(mchain_uniformity_pvalues(np.zeros((3, 4, 0)))).all()
    with pytest.raises(ValueError, match="at least 2 chains"):
        mchain_uniformity_pvalues(ranks[:, :1])
    bad = ranks.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite fractional ranks"):
        mchain_uniformity_pvalues(bad)
