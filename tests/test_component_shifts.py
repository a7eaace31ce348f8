"""Which well-placed components move with a component that has no single place
(:mod:`bayesgmm.component_shifts`), on draws made to hold a known shift."""

import numpy as np
import xarray as xr

from bayesgmm.component_shifts import shifted_with


def _draws(shift: float, share: float = 0.2, seed: int = 0) -> xr.Dataset:
    """4 chains x 500 draws of K=3 in 2-D: component 2 in a second place in ``share`` of
    the draws, component 1's weight lower by ``shift`` there, component 0 unmoved."""
    rng = np.random.default_rng(seed)
    n = 2000
    there = rng.random(n) < share
    means = rng.normal(0, 0.05, (n, 3, 2)) + np.array([[0.0, 0.0], [5.0, 5.0], [2.0, 2.0]])
    means[there, 2] += [3.0, 3.0]  # component 2 moves into component 1's place
    w1 = 0.6 - shift * there + rng.normal(0, 0.02, n)
    w0 = 0.3 + rng.normal(0, 0.02, n)
    weights = np.stack([w0, w1, 1 - w0 - w1], axis=-1)
    return xr.Dataset({
        "weights": (("chain", "draw", "component"), weights.reshape(4, 500, 3)),
        "means": (("chain", "draw", "component", "feature"), means.reshape(4, 500, 3, 2)),
    }, coords={"feature": ["x", "y"]})


def test_a_component_that_gives_rows_to_a_moving_one_is_named_with_its_shift():
    """QA162 H1: Old Faithful K=3, component 1's weight 0.574 in the draws where component 2
    sat in its cluster against 0.636 in the rest, and the report said it was unaffected."""
    shifts = shifted_with(_draws(0.06), (2,))
    assert list(shifts) == [1]  # component 0 does not move
    shift = shifts[1]
    assert (shift.moving, shift.what) == (2, "weight")
    assert abs(shift.there - 0.54) < 0.01 and abs(shift.elsewhere - 0.6) < 0.01
    assert abs(shift.share - 0.2) < 0.03
    assert shift.describe().startswith("component 1's weight averages 0.54")
    assert "of draws where component 2 is in its other place, against 0.6" in shift.describe()


def test_no_shift_where_the_others_stay_or_the_second_place_is_rare():
    assert shifted_with(_draws(0.0), (2,)) == {}  # component 1 unmoved
    assert shifted_with(_draws(0.06, share=0.02), (2,)) == {}  # a place of 2% of draws
    assert shifted_with(_draws(0.06), ()) == {}
