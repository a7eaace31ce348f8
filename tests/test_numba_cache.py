"""numba's disk cache for the package: keys cover imported sources; has_cached_code agrees.

The end-to-end tests build a throw-away package in ``tmp_path`` (a kernel module and a caller
module, both ``cache=True``), point :mod:`bayesgmm._numba_cache` at it, import it, edit it and
import it again, reading numba's own hit/miss counters: editing the package's sources in a
test would race the other tests.
"""

import importlib
import os
import sys

import pytest

from bayesgmm import _numba_cache
from bayesgmm.backends import native

KERNEL = """
import numba


@numba.njit(cache=True)
def f(x):
    return x + {step}
"""
CALLER = """
import numba

from .kern import f


@numba.njit(cache=True)
def g(x):
    return 2.0 * f(x)
"""


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """A package ``fakepkg_<n>`` in tmp_path, treated as bayesgmm's own by the locators;
    returns (write kernel source, import the caller afresh)."""
    name = f"fakepkg_{abs(hash(tmp_path)) % 10**9}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "caller.py").write_text(CALLER)
    monkeypatch.setattr(_numba_cache, "PACKAGE", root)
    monkeypatch.setattr(_numba_cache, "_TOP", name)
    monkeypatch.syspath_prepend(str(tmp_path))

    def write_kernel(step: str) -> None:
        (root / "kern.py").write_text(KERNEL.format(step=step))

    def fresh_caller():
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]
        importlib.invalidate_caches()
        return importlib.import_module(f"{name}.caller")

    yield write_kernel, fresh_caller
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def _hits(dispatcher) -> int:
    return sum(dispatcher.stats.cache_hits.values())


def test_dependency_files_follow_the_package_imports():
    files = {p.relative_to(_numba_cache.PACKAGE).as_posix()
             for p in _numba_cache.dependency_files(native.__file__)}
    # native's cached code calls the kernels and reads layout's constants (layout -> priors)
    assert {"backends/native.py", "kernels.py", "layout.py", "covariance.py"} <= files
    assert "sampling.py" not in files and "cli.py" not in files
    kernel_files = {p.name for p in _numba_cache.dependency_files(
        _numba_cache.PACKAGE / "kernels.py")}
    assert "native.py" not in kernel_files and "layout.py" not in kernel_files


def test_locators_are_in_front_of_numbas():
    from numba.core import caching

    classes = caching.CacheImpl._locator_classes
    assert _numba_cache._in_front(classes)
    _numba_cache.install()  # idempotent
    assert _numba_cache._in_front(classes)
    assert sum(c in _numba_cache._LOCATORS for c in classes) == len(_numba_cache._LOCATORS)
    # numba's own first choice behind them: it would take the package's functions otherwise
    moved = [caching.UserProvidedCacheLocator] + [c for c in classes
                                                  if c is not caching.UserProvidedCacheLocator]
    assert not _numba_cache._in_front(moved)


def test_an_edited_callee_recompiles_its_cached_caller(fake_package):
    write_kernel, fresh_caller = fake_package
    write_kernel("1.0")
    caller = fresh_caller()
    assert not _numba_cache.has_cached_code(caller.g)
    assert caller.g(1.0) == 4.0
    assert _numba_cache.has_cached_code(caller.g)

    caller = fresh_caller()  # a later process: loads g from the disk cache
    assert _numba_cache.has_cached_code(caller.g)
    assert caller.g(1.0) == 4.0 and _hits(caller.g) == 1

    write_kernel("10.0")  # caller.py unchanged; numba alone would load the stale g (4.0)
    caller = fresh_caller()
    assert not _numba_cache.has_cached_code(caller.g)
    assert caller.g(1.0) == 22.0 and _hits(caller.g) == 0


def test_has_cached_code_ignores_file_times_as_numba_does(fake_package):
    write_kernel, fresh_caller = fake_package
    write_kernel("1.0")
    fresh_caller().g(1.0)
    for module in ("kern.py", "caller.py"):
        path = _numba_cache.PACKAGE / module
        os.utime(path, (path.stat().st_atime + 3600, path.stat().st_mtime + 3600))
    caller = fresh_caller()
    assert _numba_cache.has_cached_code(caller.g)  # content unchanged: still cached
    assert caller.g(1.0) == 4.0 and _hits(caller.g) == 1


@pytest.mark.parametrize("damaged", ["data", "index"])
def test_a_damaged_cache_entry_is_compiled_again_with_a_warning(fake_package, damaged):
    # QA: a truncated .nbc stopped every later call with an UnpicklingError traceback
    write_kernel, fresh_caller = fake_package
    write_kernel("1.0")
    fresh_caller().g(1.0)
    suffix = ".nbc" if damaged == "data" else ".nbi"
    (entry,) = [p for p in (_numba_cache.PACKAGE / "__pycache__").iterdir()
                if p.name.startswith("caller.g-") and p.name.endswith(suffix)]
    entry.write_bytes(entry.read_bytes()[:40])
    caller = fresh_caller()
    with pytest.warns(RuntimeWarning, match=r"disk cache of .*caller\.g could not be read"):
        assert caller.g(1.0) == 4.0
    assert _hits(caller.g) == 0
    caller = fresh_caller()  # the entry was written again
    assert _numba_cache.has_cached_code(caller.g)
    assert caller.g(1.0) == 4.0 and _hits(caller.g) == 1


def test_without_a_writable_place_the_cache_is_a_private_temporary_one(fake_package,
                                                                        tmp_path, monkeypatch):
    """Packager QA: a read-only installation run without a home directory (a service
    account) failed every import of the kernels: "cannot cache function ...: no locator
    available". The last resort is a directory of this user's alone under $TMPDIR."""
    import stat
    import tempfile

    write_kernel, fresh_caller = fake_package
    write_kernel("1.0")
    for unusable in (_numba_cache._UserProvided, _numba_cache._InTree, _numba_cache._UserWide):
        monkeypatch.setattr(unusable, "from_function", classmethod(lambda *args: None))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _numba_cache._private_root.cache_clear()
    try:
        caller = fresh_caller()
        assert caller.g(1.0) == 4.0
        root = tmp_path / f"bayesgmm-numba-{os.getuid()}"
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
        assert list(root.rglob("caller.g-*.nbc"))
        assert _numba_cache.has_cached_code(fresh_caller().g)
    finally:
        _numba_cache._private_root.cache_clear()


def test_a_read_only_numba_cache_dir_is_loaded_and_not_written(fake_package, tmp_path,
                                                               monkeypatch):
    """QA93: a cache warmed once (bayesgmm warm with NUMBA_CACHE_DIR set) and then shared
    read-only was passed over by numba's write probe without a word: every batch job compiled
    for ~70 s into its own $TMPDIR. Its entries are loaded; a function it lacks is compiled,
    not stored, and said once. (Run as root here: read-only is simulated.)"""
    from numba.core import caching, config

    write_kernel, fresh_caller = fake_package
    write_kernel("1.0")
    shared = tmp_path / "shared-cache"
    shared.mkdir()
    monkeypatch.setattr(config, "CACHE_DIR", str(shared))
    caller = fresh_caller()
    assert caller.g(1.0) == 4.0 and list(shared.rglob("caller.g-*.nbc"))  # warmed, writable
    monkeypatch.setattr(_numba_cache, "_writable",
                        lambda path: not str(path).startswith(str(shared)))
    caller = fresh_caller()
    assert caller.g(1.0) == 4.0 and _hits(caller.g) == 1  # loaded from the read-only cache
    assert isinstance(caller.g._cache._impl.locator, _numba_cache._ReadOnlyProvided)

    def refuse(self, sig, data):
        raise PermissionError(13, "Permission denied", str(shared))

    monkeypatch.setattr(caching.Cache, "_save_overload", refuse)
    _numba_cache._say_read_only.cache_clear()
    write_kernel("2.0")  # a release the cache lacks
    caller = fresh_caller()
    with pytest.warns(RuntimeWarning, match=r"NUMBA_CACHE_DIR \(.*shared-cache\) is read-only "
                                            r"and lacks some of these kernels"):
        assert caller.g(1.0) == 6.0
    _numba_cache._say_read_only.cache_clear()


def test_another_numba_release_caches_somewhere_it_can_write(tmp_path, monkeypatch):
    """QA93: with a numba release the locators were not checked against, a read-only
    installation without a writable home failed at import ("no locator available"); numba's
    public CACHE_DIR then points at this user's private temporary directory."""
    import tempfile

    from numba.core import config

    monkeypatch.setattr(config, "CACHE_DIR", "")
    monkeypatch.setattr(_numba_cache, "_writable", lambda path: False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _numba_cache._private_root.cache_clear()
    try:
        _numba_cache._unchecked_cache_dir()
        assert config.CACHE_DIR == str(tmp_path / f"bayesgmm-numba-{os.getuid()}")
        monkeypatch.setattr(config, "CACHE_DIR", "/given")
        _numba_cache._unchecked_cache_dir()  # the user's own choice stays
        assert config.CACHE_DIR == "/given"
    finally:
        _numba_cache._private_root.cache_clear()


def test_has_cached_code_is_false_without_a_disk_cache():
    import numba

    @numba.njit
    def h(x):
        return x

    assert not _numba_cache.has_cached_code(h)



def test_threads_started_says_when_numbas_threads_run():
    import numba

    from bayesgmm import kernels

    kernels.passive_thread_wait()  # as the kernels do: sets the wait policy, starts them
    numba.get_num_threads()
    assert _numba_cache.threads_started() is True


def test_the_wait_policy_is_not_left_in_the_environment():
    """Packager QA: every fit_em left OMP_WAIT_POLICY=PASSIVE in os.environ, inherited by
    subprocesses and read by other OpenMP runtimes started later."""
    import subprocess
    import sys

    code = ("import os, numpy as np; from bayesgmm import kernels; "
            "from bayesgmm._numba_cache import threads_started; "
            "kernels.passive_thread_wait(); "
            "print(threads_started(), os.environ.get('OMP_WAIT_POLICY'))")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.stdout.split() == ["True", "None"], done.stderr[-2000:]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**env, "OMP_WAIT_POLICY": "ACTIVE"}, timeout=300)
    assert done.stdout.split() == ["True", "ACTIVE"], done.stderr[-2000:]  # the user's stays


def test_the_numba_release_is_a_checked_one():
    # the private caching API is used only for the releases it was checked against; a new numba
    # makes this fail so that the check (and NUMBA_CHECKED) is renewed, not silently skipped
    assert _numba_cache.CHECKED, (
        f"numba is not one of {_numba_cache.NUMBA_CHECKED}: recheck bayesgmm/_numba_cache.py")


def test_a_read_only_cache_dir_warmed_elsewhere_is_said(fake_package, tmp_path, monkeypatch):
    """QA94: a read-only NUMBA_CACHE_DIR warmed from another installation path holds no
    subdirectory for this one, and was passed over without a word (the kernels compiled and
    stored elsewhere). It is claimed, its misses compiled for the run, and the warning says
    why."""
    from numba.core import caching, config

    write_kernel, fresh_caller = fake_package
    write_kernel("1.0")
    shared = tmp_path / "warmed-elsewhere"
    shared.mkdir()
    monkeypatch.setattr(config, "CACHE_DIR", str(shared))
    monkeypatch.setattr(_numba_cache, "_writable",
                        lambda path: not str(path).startswith(str(shared)))
    real_save = caching.Cache._save_overload

    def refuse(self, sig, data):
        if isinstance(self._impl.locator, _numba_cache._ReadOnlyProvided):
            raise PermissionError(13, "Permission denied", str(shared))
        return real_save(self, sig, data)

    monkeypatch.setattr(caching.Cache, "_save_overload", refuse)
    _numba_cache._say_read_only.cache_clear()
    caller = fresh_caller()
    with pytest.warns(RuntimeWarning, match="holds none for bayesgmm installed at this path"):
        assert caller.g(1.0) == 4.0
    assert not any(shared.iterdir())
    _numba_cache._say_read_only.cache_clear()


def test_install_with_an_unchecked_numba_points_the_cache_somewhere_writable(monkeypatch):
    """QA94: the unchecked route's fallback was tested on its own, not through install()."""
    seen = []
    monkeypatch.setattr(_numba_cache, "CHECKED", False)
    monkeypatch.setattr(_numba_cache, "_unchecked_cache_dir", lambda: seen.append(True))
    _numba_cache.install()
    assert seen == [True]


@pytest.mark.parametrize("module", ["ops", "plan_ops"])
def test_the_pytensor_ops_salt_follows_every_module_their_compiled_code_reaches(
        module, monkeypatch):
    """QA119 M4: the Ops' PyTensor cache salt hashed a hand-kept list of files (the kernel, the
    Ops, pytensor_numba), which had left out ``covariance.py``, imported by the kernel: an
    edit there would have left PyTensor's compiled Ops stale. The salt is now the digest of
    every package module the Ops' module imports, transitively."""
    import importlib
    from pathlib import Path

    ops = importlib.import_module(f"bayesgmm.{module}")
    assert ops._CACHE_SALT == _numba_cache.source_salt(ops.__file__)
    reached = {path.name for path in _numba_cache.dependency_files(ops.__file__)}
    assert {"kernels.py", "covariance.py", "pytensor_numba.py", f"{module}.py"} <= reached
    read = Path.read_bytes

    def edited(path):
        return read(path) + (b"# edited\n" if path.name == "covariance.py" else b"")

    monkeypatch.setattr(Path, "read_bytes", edited)
    assert _numba_cache.source_salt(ops.__file__) != ops._CACHE_SALT


LENIENT_CALLER = """
import numba

from bayesgmm._numba_cache import jit


@jit()
def ratio(x, y):
    total = 0.0
    for v in x:  # a sum that reassociation would vectorise (and round differently)
        total += v
    return total / y


@numba.njit(cache=True, error_model="python", fastmath=True)
def lenient(x, y):
    return ratio(x, y)
"""


def test_a_function_first_compiled_under_a_caller_keeps_its_own_options(fake_package):
    """Stop 67's fresh-clone failures: numba compiles a function that leaves ``fastmath`` and
    ``error_model`` unset with the options of the caller that reached it first and caches that
    code for every later process (the kernels first compiled inside PyTensor's NUMBA mode
    summed with reassociation). :func:`_numba_cache.jit` states both."""
    import numpy as np

    (_numba_cache.PACKAGE / "lenient.py").write_text(LENIENT_CALLER)
    importlib.invalidate_caches()
    module = importlib.import_module(f"{_numba_cache._TOP}.lenient")
    x = np.random.default_rng(0).standard_normal(1001)
    module.lenient(x, 3.0)  # compiles ratio as lenient's callee first
    assert np.isinf(module.ratio(x, 0.0))  # error_model="numpy" kept, not lenient's "python"
    (signature, compiled), = module.ratio.overloads.items()
    from numba.core.compiler import Flags

    flags = Flags.demangle(compiled.fndesc.abi_tags[0])
    assert "fastmath" not in flags and "error_model=numpy" in flags
    exact = 0.0
    for v in x:
        exact += v
    assert module.ratio(x, 1.0) == exact  # the source's order of the sum, to the bit


def test_every_compiled_function_of_the_package_states_the_options_numba_would_inherit():
    import pkgutil

    import numba.core.registry

    import bayesgmm

    undeclared = []
    for info in pkgutil.walk_packages(bayesgmm.__path__, "bayesgmm."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, numba.core.registry.CPUDispatcher) \
                    and value.py_func.__module__ == info.name \
                    and not {"fastmath", "error_model"} <= value.targetoptions.keys():
                undeclared.append(f"{info.name}.{name}")
    assert not undeclared, f"declare with bayesgmm._numba_cache.jit: {undeclared}"


KERNEL_FIRST_UNDER_FASTMATH = """
import sys
import numba
import numpy as np
from bayesgmm import kernels
X, weights, means, L = (np.load(sys.argv[1] + f"/{name}.npy") for name in "X w mu L".split())


@numba.njit(fastmath={"reassoc", "contract", "afn", "nsz", "arcp"})  # PyTensor's NUMBA mode
def caller(X, weights, means, L):
    return kernels.loglik_value_and_grad(X, weights, means, L)


caller(X, weights, means, L)
out = kernels.loglik_value_and_grad(X, weights, means, L)
print(b"".join(np.asarray(a, np.float64).tobytes() for a in out).hex())
"""


@pytest.mark.slow
def test_the_kernels_give_the_same_bits_whichever_route_compiled_them_first(tmp_path):
    """The reproducibility the brief asks for: the same seed, the same draws, whatever state
    the machine's numba cache is in. A fresh cache filled by a reassociating caller first
    (PyTensor's NUMBA mode) gave other gradient bits (at iris: 36 of 44 entries, ~1e-14),
    which NUTS turned into another trajectory."""
    import subprocess

    import numpy as np

    from bayesgmm import kernels

    rng = np.random.default_rng(0)
    K, D = 3, 4
    X = np.round(rng.standard_normal((150, D)) @ rng.standard_normal((D, D)) + 5.0, 1)
    arrays = {"X": X, "w": np.array([0.3, 0.3, 0.4]), "mu": rng.standard_normal((K, D)),
              "L": np.stack([np.linalg.cholesky(np.eye(D) * (1 + k) + 0.2) for k in range(K)])}
    for name, value in arrays.items():
        np.save(tmp_path / f"{name}.npy", value)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", KERNEL_FIRST_UNDER_FASTMATH, str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    here = kernels.loglik_value_and_grad(*arrays.values())
    assert done.stdout.strip() == b"".join(np.asarray(a, np.float64).tobytes()
                                           for a in here).hex()
