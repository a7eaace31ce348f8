"""Shared data for the tests: the bundled data sets and simulated mixtures."""

import io
import types

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayesgmm import load_galaxies, load_old_faithful

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def cli_ok(argv, capsys):
    """Run the command line in process; assert exit status 0 (else show its stderr); return
    its standard output."""
    from bayesgmm import cli

    rc = cli.main(argv)
    out, err = capsys.readouterr()
    assert rc == 0, err
    return out


def read_listed_table(directory, name, **read_csv):
    """A result directory's table ``name`` as a user reads it (``pandas.read_csv`` with
    ``read_csv``), after checking that the manifest lists it with its SHA-256 and that nothing
    in the directory is unaccounted for by the manifest (which lists a report written beside
    the result too)."""
    import hashlib
    import json

    import pandas as pd

    path = directory / name
    manifest = json.loads((directory / "manifest.json").read_text())
    assert name in manifest["files"]
    assert manifest["sha256"][name] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()} \
        == set(manifest["files"])
    return pd.read_csv(path, **read_csv)


def _blank_rendering(fig, files):
    """The report's ``_rendered`` without matplotlib's rasterisation: a blank PNG of the
    figure's size in pixels, a placeholder for each vector copy; the figure is closed."""
    import matplotlib.pyplot as plt
    from PIL import Image

    try:
        size = tuple(round(inches * files.dpi) for inches in fig.get_size_inches())
        png = io.BytesIO()
        Image.new("L", size, 255).save(png, format="png")
        return png.getvalue(), tuple((fmt, f"unrendered {fmt}".encode())
                                     for fmt in files.vector_formats)
    finally:
        plt.close(fig)


@pytest.fixture(autouse=True)
def report_figures_unrendered(request, monkeypatch):
    """A report's figures are made (every figure function runs on the test's data) but not
    rasterised, unless the test is marked ``rendered``: matplotlib's drawing of finished
    figures into PNG was a fifth of the default suite's time (py-spy, stop 69), spent by
    tests that read the page's text. The rendered tests (the report fixture's page, the
    figure files, dpi and vector copies, the browser checks) and every command-line test
    in a subprocess render for real."""
    if request.node.get_closest_marker("rendered") is None:
        from bayesgmm import report

        monkeypatch.setattr(report, "_rendered", _blank_rendering)


@pytest.fixture
def fresh_evidence_caches(monkeypatch):
    """Empty noise and shape evidence caches: the tests of the evidence itself count refits
    and patch its internals, where another test's remembered evidence for an equal fit and
    data set would answer instead."""
    import importlib

    for module in ("bayesgmm.outliers", "bayesgmm.shape_evidence"):
        monkeypatch.setattr(importlib.import_module(module), "_CACHE", {})


@pytest.fixture(scope="session")
def old_faithful():
    return load_old_faithful()


@pytest.fixture(scope="session")
def galaxies():
    return load_galaxies()


def missing_at_random(rng, n=600):
    """Two correlated Gaussian clusters; x2 missing with probability 0.6 where x1 > 2, else
    0.05: missing at random (it depends on the observed x1 only). For the predictive check of
    incomplete data (the tests and benchmarks/bench_ppc.py)."""
    means = np.array([[0.0, 0.0], [4.0, 3.0]])
    chol = np.linalg.cholesky(np.array([[[1, .6], [.6, 1]], [[1, -.4], [-.4, 1.]]]))
    z = rng.choice(2, size=n)
    X = means[z] + np.einsum("nij,nj->ni", chol[z], rng.standard_normal((n, 2)))
    X[rng.random(n) < np.where(X[:, 0] > 2, 0.6, 0.05), 1] = np.nan
    return pd.DataFrame(X, columns=["x1", "x2"])


def simulate_mixture(n=600, seed=0):
    """A well-separated 3-component 2-D mixture with known parameters."""
    rng = np.random.default_rng(seed)
    weights = np.array([0.5, 0.3, 0.2])
    means = np.array([[0.0, 0.0], [6.0, 1.0], [1.0, 7.0]])
    covs = np.array([[[1.0, 0.4], [0.4, 0.8]], [[0.6, -0.2], [-0.2, 1.2]],
                     [[1.5, 0.0], [0.0, 0.5]]])
    labels = rng.choice(3, size=n, p=weights)
    X = np.array([rng.multivariate_normal(means[k], covs[k]) for k in labels])
    return X, labels, (weights, means, covs)


@pytest.fixture(scope="session")
def simulated():
    return simulate_mixture()


# --------------------------------------------------------------------------------------------
# Stand-ins for posterior fits, without sampling (model selection and its report)
# --------------------------------------------------------------------------------------------
def fake_fit(loglik, n_components=None, x=None):
    """A DataTree (or a BayesResult look-alike) with a log_likelihood group."""
    chains, draws, n = loglik.shape
    groups = {
        "posterior": xr.Dataset({"mu": (("chain", "draw"), np.zeros((chains, draws)))}),
        "log_likelihood": xr.Dataset({"x": (("chain", "draw", "observation"), loglik)}),
    }
    if x is not None:
        groups["observed_data"] = xr.Dataset({"x": (("observation", "feature"), x)})
    tree = xr.DataTree.from_dict(groups)
    if n_components is None:
        return tree
    return types.SimpleNamespace(idata=tree, n_components=n_components)


def loglik_draws(rng, mean_per_point, n=150, chains=2, draws=250, sd=0.05):
    return mean_per_point + sd * rng.normal(size=(chains, draws, n))


def overfitted_posterior(X, chains=2, draws=60, seed=0):
    """K_max = 5 draws around the truth: 3 filled components, 2 with weight ~1e-12 (empty).

    In the second chain, every other draw gives the 4th component real weight on top of the
    first cluster, so K+ = 4 there (split cluster).
    """
    rng = np.random.default_rng(seed)
    _, _, (w_true, m_true, c_true) = simulate_mixture(n=10, seed=0)
    K, D = 5, 2
    w = np.zeros((chains, draws, K))
    m = np.zeros((chains, draws, K, D))
    c = np.tile(np.eye(D), (chains, draws, K, 1, 1))
    perm_rng = np.random.default_rng(seed + 1)
    for ch in range(chains):
        for d in range(draws):
            wk = np.concatenate([w_true, [1e-12, 1e-12]])
            mk = np.concatenate([m_true + 0.05 * rng.normal(size=(3, D)),
                                 rng.normal(20, 1, size=(2, D))])
            ck = np.concatenate([c_true, np.tile(np.eye(D), (2, 1, 1))])
            if ch == 1 and d % 2:
                wk[3], wk[0] = wk[0] / 2, wk[0] / 2
                mk[3], ck[3] = mk[0], ck[0]
            p = perm_rng.permutation(K)  # label switching, including the empty components
            w[ch, d], m[ch, d], c[ch, d] = wk[p] / wk.sum(), mk[p], ck[p]
    post = xr.Dataset(
        {"weights": (("chain", "draw", "component"), w),
         "means": (("chain", "draw", "component", "feature"), m),
         "covariances": (("chain", "draw", "component", "feature", "feature_bis"), c)},
        coords={"chain": np.arange(chains), "draw": np.arange(draws),
                "component": np.arange(K), "feature": ["a", "b"], "feature_bis": ["a", "b"]},
    )
    ll = rng.normal(-3, 0.1, size=(chains, draws, X.shape[0]))
    tree = xr.DataTree.from_dict({
        "posterior": post,
        "observed_data": xr.Dataset({"x": (("observation", "feature"), X)}),
        "log_likelihood": xr.Dataset({"x": (("chain", "draw", "observation"), ll)}),
    })
    return types.SimpleNamespace(idata=tree, covariance_type="full", n_components=K,
                                 priors=types.SimpleNamespace(weights_concentration=0.01))


# --------------------------------------------------------------------------------------------
# One tiny posterior per covariance type, shared by every test file (and xdist worker) that
# needs a fitted BayesResult: the first worker fits and pickles it, the others read the pickle.
# --------------------------------------------------------------------------------------------
def _shared_fit(tmp_path_factory, worker_id, covariance_type):
    import pickle

    from filelock import FileLock

    from bayesgmm.sampling import fit_bayes

    def fit():
        return fit_bayes(load_old_faithful(), 2, covariance_type=covariance_type, draws=100,
                         tune=100, chains=2, random_state=0, progressbar=False)

    if worker_id == "master":  # not running under xdist
        return fit()
    root = tmp_path_factory.getbasetemp().parent
    path = root / f"tiny_fit_{covariance_type}.pkl"
    with FileLock(str(path) + ".lock"):
        if path.is_file():
            return pickle.loads(path.read_bytes())
        result = fit()
        path.write_bytes(pickle.dumps(result))
        return result


@pytest.fixture(scope="session")
def tiny_fit(tmp_path_factory, worker_id):
    """Old Faithful, K=2, full covariances, 2 chains x 100 draws (seed 0)."""
    return _shared_fit(tmp_path_factory, worker_id, "full")


@pytest.fixture(scope="session")
def tiny_fit_diag(tmp_path_factory, worker_id):
    """As ``tiny_fit`` with diagonal covariances."""
    return _shared_fit(tmp_path_factory, worker_id, "diag")


# --------------------------------------------------------------------------------------------
# a posterior without sampling
# --------------------------------------------------------------------------------------------
def posterior_stand_in(X, K, seed=0, draws=30, n_init=1):
    """A BayesResult around an EM fit of ``X``, its ``draws`` per chain (2 chains)
    jittered about the estimate: the posterior's figures and report without sampling."""
    from bayesgmm.em import fit_em
    from bayesgmm.posterior import BayesResult
    from bayesgmm.priors import Priors, Standardisation
    from bayesgmm.relabel import LabelSwitchingReport

    em = fit_em(X, K, random_state=seed, n_init=n_init)
    rng = np.random.default_rng(seed)
    C, S = 2, draws
    N, D = np.asarray(X).reshape(len(X), -1).shape
    w = em.weights * np.exp(0.05 * rng.standard_normal((C, S, K)))
    w /= w.sum(axis=-1, keepdims=True)
    sd = np.sqrt(np.diagonal(em.full_covariances, axis1=1, axis2=2))
    m = em.means + 0.05 * sd * rng.standard_normal((C, S, K, D))
    cov = np.broadcast_to(em.covariances, (C, S, *em.covariances.shape)).copy()
    features = list(em.feature_names)
    coords = {"chain": [0, 1], "draw": np.arange(S), "component": np.arange(K),
              "feature": features, "feature_bis": features}
    post = xr.Dataset({"weights": (("chain", "draw", "component"), w),
                       "means": (("chain", "draw", "component", "feature"), m),
                       "covariances": (("chain", "draw", "component", "feature", "feature_bis"),
                                       cov)}, coords=coords)
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((C, S), bool)),
                        "energy": (("chain", "draw"), rng.standard_normal((C, S)))},
                       coords={"chain": [0, 1], "draw": np.arange(S)})
    Xv = np.asarray(X, dtype=float).reshape(N, D)
    tree = xr.DataTree.from_dict({
        "posterior": post, "sample_stats": stats,
        "observed_data": xr.Dataset({"x": (("observation", "feature"), Xv)},
                                    coords={"feature": features}),
    })
    perms = np.broadcast_to(np.arange(K), (C, S, K))
    return BayesResult(tree, em, Priors(), Standardisation.from_data(Xv, "full"), "full",
                       LabelSwitchingReport.from_permutations(perms), {"random_state": seed})


# --------------------------------------------------------------------------------------------
# BayesianGMM.fit's call of fit_bayes, recorded instead of run
# --------------------------------------------------------------------------------------------
class FitBayesCalled(Exception):
    """Raised by the :func:`fit_bayes_arguments` stand-in once it has recorded the call."""


@pytest.fixture
def fit_bayes_arguments(monkeypatch):
    """What BayesianGMM.fit passes to fit_bayes, which is not run (it raises FitBayesCalled)."""
    from bayesgmm import estimator

    seen = {}

    def record(X, n_components, **kwargs):
        seen.update(X=X, n_components=n_components, **kwargs)
        raise FitBayesCalled

    monkeypatch.setattr(estimator, "fit_bayes", record)
    return seen


@pytest.fixture
def density_sizes(monkeypatch):
    """The number of points each 2-D density evaluation of the figures takes (a list that
    fills as they draw): what the contour figures cost."""
    from bayesgmm.plots import fit as fit_plots

    sizes = []
    real = fit_plots._density_2d

    def spy(points, *args):
        sizes.append(len(points))
        return real(points, *args)

    monkeypatch.setattr(fit_plots, "_density_2d", spy)
    return sizes
