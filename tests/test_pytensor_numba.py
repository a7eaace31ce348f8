"""PyTensor's internals behind one version check: a checked release gets the Ops' numba
implementations; another gets none (the NUMBA mode runs ``perform``, with the same numbers) and
no jitted core."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bayesgmm import pytensor_numba, versions


def test_the_pytensor_release_is_a_checked_one():
    # its internals are used only on the releases they were checked against; a new release
    # makes this fail so that the check (and PYTENSOR_CHECKED) is renewed
    assert not pytensor_numba.PYTENSOR_PROBLEM, pytensor_numba.PYTENSOR_PROBLEM


def test_release_problem_names_the_release_and_the_checked_ones():
    assert versions.release_problem("numpy", ((0, 0), (999, 0)), "kernels") == ""
    problem = versions.release_problem("numpy", ((0, 1), (0, 2)), "kernels")
    assert problem.startswith("numpy ") and "kernels" in problem and "(0.1 to 0.2)" in problem
    assert versions.release_problem("no-such-package-xyz", ((0, 1), (0, 1)), "x") == (
        "no-such-package-xyz is not installed")


def test_jitted_core_is_refused_on_an_unchecked_release(monkeypatch):
    class Compiled:  # stands for a NUMBA-mode pytensor.function
        class vm:
            jit_fn = staticmethod(len)

    assert pytensor_numba.jitted_core(Compiled) is len
    monkeypatch.setattr(pytensor_numba, "PYTENSOR_PROBLEM", "pytensor 9.9 is not checked")
    with pytest.raises(pytensor_numba.UncheckedPyTensorError, match="9.9"):
        pytensor_numba.jitted_core(Compiled)


UNCHECKED = textwrap.dedent("""
    import warnings
    import bayesgmm.versions as versions
    if {unchecked}:  # before the Ops are defined: the check is made once, at import
        versions.release_problem = lambda package, checked, used_by: "pytensor 9.9 unchecked"
    import numpy as np, pytensor, pytensor.tensor as pt
    from pytensor.link.numba.dispatch.basic import numba_funcify_default_op_cache_key
    from bayesgmm.ops import MixtureLogLikTotal, mixture_loglik_total
    rng = np.random.default_rng(0)
    w, m, c = pt.dvector("w"), pt.dmatrix("m"), pt.dtensor3("c")
    out = mixture_loglik_total(rng.standard_normal((30, 2)), w, m, c)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = pytensor.function([w, m, c], out, mode="NUMBA")
        value = f([0.4, 0.6], rng.standard_normal((2, 2)), np.stack([np.eye(2)] * 2))
    print(MixtureLogLikTotal in numba_funcify_default_op_cache_key.registry)
    print(any("object mode" in str(w.message) for w in caught))
    print(repr(float(value)))
""")


def _unchecked_env(cache: Path) -> dict[str, str]:
    """A faked unchecked release turns the package's numba caching off too (``release_problem``
    answers for numba as well), so numba's own caching would rewrite the package's cache
    indexes with its own stamps, and the next checked process compile the kernels again
    (after ``make test``, ``make run`` spent ~13 s recompiling EM): such a process gets a
    cache of its own."""
    return {**os.environ, "NUMBA_CACHE_DIR": str(cache)}


def _package_cache_indexes() -> dict[Path, bytes]:
    import bayesgmm

    root = os.environ.get("NUMBA_CACHE_DIR") or Path(bayesgmm.__file__).parent / "__pycache__"
    return {path: path.read_bytes() for path in Path(root).rglob("*.nbi")}


def _run(unchecked: bool, cache: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", UNCHECKED.format(unchecked=unchecked)],
                          capture_output=True, text=True, timeout=300,
                          env=_unchecked_env(cache) if unchecked else None)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_an_unchecked_release_registers_nothing_and_the_ops_give_the_same_numbers(tmp_path):
    checked = _run(False, tmp_path)
    before = _package_cache_indexes()
    unchecked = _run(True, tmp_path)
    assert _package_cache_indexes() == before  # the package's cache is left as it was
    assert checked[:2] == ["True", "False"]  # registered: compiled by numba, no fallback
    assert unchecked[:2] == ["False", "True"]  # nothing registered: PyTensor runs perform
    assert float(unchecked[2]) == pytest.approx(float(checked[2]), rel=1e-12)


def test_the_plan_ops_declare_float64_whatever_dtype_a_constant_has():
    """QA88: a model without noise passes its noise weight as pt.constant(0.0), float32 by
    PyTensor's floatX rules, and as_tensor_variable(..., dtype="float64") left it so: the plan
    VJP declared a float32 gradient it filled with float64, which the perform route (another
    PyTensor release's NUMBA mode) refused to unbox ("can't unbox array")."""
    import numpy as np
    import pytensor.tensor as pt

    from bayesgmm.kernels import RowPlan
    from bayesgmm.plan_ops import MixturePlanVJP, mixture_plan_loglik

    X = np.random.default_rng(0).normal(size=(6, 2))
    X[0, 1] = np.nan
    plan = RowPlan.build(X)
    w, m, c = pt.dvector("w"), pt.dmatrix("m"), pt.dtensor3("c")
    noise_weight = pt.constant(0.0)
    assert noise_weight.dtype == "float32"  # the premise
    X_, _, *rest = plan.arrays  # (X, g, bounds, columns, n_obs, label, log_noise)
    node = mixture_plan_loglik(X_, *rest, w, noise_weight, m, c).owner
    assert all(v.dtype == "float64" for v in node.inputs if v.dtype.startswith("float"))
    vjp = MixturePlanVJP()(X_, np.ones(6), *rest, w, noise_weight, m, c)
    assert [v.dtype for v in vjp] == ["float64"] * 4


@pytest.mark.slow
def test_an_unchecked_release_samples_a_plan_model_with_the_same_gradient(tmp_path):
    """QA88 M1, end to end: a model with missing values (the plan Ops), its value and
    gradient compiled in NUMBA mode, equal on a checked and an unchecked release."""
    script = textwrap.dedent("""
        import warnings
        import bayesgmm.versions as versions
        if {unchecked}:
            versions.release_problem = lambda package, checked, used_by: "pytensor 9.9"
        import numpy as np
        from bayesgmm.model import build_model
        warnings.simplefilter("ignore")
        X = np.random.default_rng(0).normal(size=(40, 2))
        X[::5, 1] = np.nan
        model = build_model(X, 2, "full")
        point = model.initial_point()
        print(repr(float(model.compile_logp(mode="NUMBA")(point))),
              repr(float(np.sum(model.compile_dlogp(mode="NUMBA")(point)))))
    """)
    values = []
    for unchecked in (False, True):
        done = subprocess.run([sys.executable, "-c", script.format(unchecked=unchecked)],
                              capture_output=True, text=True, timeout=600,
                              env=_unchecked_env(tmp_path) if unchecked else None)
        assert done.returncode == 0, done.stderr[-2000:]
        values.append([float(v) for v in done.stdout.split()])
    assert values[1] == pytest.approx(values[0], rel=1e-12)
