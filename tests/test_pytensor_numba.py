"""PyTensor's internals behind one version check: a checked release gets the Ops' numba
implementations; another gets none (the NUMBA mode runs ``perform``, with the same numbers) and
no jitted core."""

import subprocess
import sys
import textwrap

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


def _run(unchecked: bool) -> list[str]:
    done = subprocess.run([sys.executable, "-c", UNCHECKED.format(unchecked=unchecked)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_an_unchecked_release_registers_nothing_and_the_ops_give_the_same_numbers():
    checked, unchecked = _run(False), _run(True)
    assert checked[:2] == ["True", "False"]  # registered: compiled by numba, no fallback
    assert unchecked[:2] == ["False", "True"]  # nothing registered: PyTensor runs perform
    assert float(unchecked[2]) == pytest.approx(float(checked[2]), rel=1e-12)
