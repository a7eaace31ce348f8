"""bayesgmm's warnings name the caller's line, however deep in the package they are raised."""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import posterior_stand_in

import bayesgmm
from bayesgmm import BayesianGMM, fit_em


def _warned_here(call, match):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    hits = [w for w in caught if match in str(w.message)]
    assert hits, [str(w.message) for w in caught]
    return {w.filename for w in hits}


def test_warnings_point_at_the_callers_line(old_faithful):
    """Through fit_em's helpers, the data checks and the estimator (QA: a warning of
    BayesianGMM.fit pointed at estimator.py, one of fit_em's at em.py)."""
    X = old_faithful.to_numpy()
    holed = X.copy()
    holed[0] = np.nan
    labels = np.full(len(X), -1)
    labels[0] = 1
    calls = {
        "n_init > 1 is ignored": lambda: fit_em(X, 2, init={"means": X[:2]}, n_init=3),
        "EM did not converge": lambda: fit_em(X, 2, max_iter=2, n_init=1, random_state=0),
        "known label": lambda: fit_em(holed, 2, labels=labels, random_state=0),
        "fitted without feature names": lambda: BayesianGMM.from_result(
            posterior_stand_in(X, 2)).predict(old_faithful),
    }
    for match, call in calls.items():
        assert _warned_here(call, match) == {__file__}, match
    # one level deeper than fit_em's call of the same check (the QA's case)
    estimator = BayesianGMM(2, draws=20, tune=30, chains=1, progressbar=False, random_state=0)
    assert _warned_here(lambda: estimator.fit(holed, labels=labels),
                        "known label") == {__file__}


def test_the_package_prefix_is_the_package_directory():
    from bayesgmm._warn import IN_PACKAGE

    assert IN_PACKAGE == (str(Path(bayesgmm.__file__).parent) + os.sep,)
    with pytest.warns(UserWarning):  # a plain warnings.warn still works with it
        warnings.warn("x", UserWarning, skip_file_prefixes=IN_PACKAGE)
