"""numba's disk cache for bayesgmm's kernels, keyed by every source the compiled code comes from.

numba (0.68) keys a ``cache=True`` function's disk cache by the content hash of the one file
that defines it (plus numba's version, the CPU and the function's bytecode). A cached caller
embeds the machine code of the functions it calls and the values of the module-level constants
it reads, so when those live in another module (``backends/native.py`` calls
:mod:`bayesgmm.kernels` and reads :mod:`bayesgmm.layout`'s constants) an edit there leaves the
caller's cache "fresh" and stale: the old kernel keeps running. :func:`install` puts locators
in front of numba's own that store, for a function of this package, the content hash of its
module *and of every package module that module imports, transitively* (read from the source
with ``ast``; imports inside functions count), so editing any of them recompiles the callers.
The cache stays where numba would put it (``NUMBA_CACHE_DIR``, ``__pycache__`` beside the
source, or numba's per-user directory), under the same file names; where none of them can be
written, in a directory of this user's alone under ``$TMPDIR`` (``bayesgmm-numba-<uid>``).

:func:`has_cached_code` answers "would numba load this function from its disk cache?" the way
numba decides it (index of this numba version, the stored stamp equal to the current one, an
entry for this CPU and bytecode, its data file present), without compiling anything.

A damaged cache entry of a package function (a truncated or overwritten file: numba only
forgives a missing one) would stop every later call with an ``UnpicklingError`` traceback until
the user found and deleted the file; :func:`install` makes such a load a miss instead: the
function's index is removed, a warning names the function, and numba compiles it and writes the
entry again.

Every use of numba's private API (the caching API: ``CacheImpl._locator_classes``, the locator
classes, ``Cache.load_overload``, ``FunctionCache``'s index; and the threading layer's
``_is_initialized``) is here,
behind one version check (:data:`NUMBA_CHECKED`): with another numba release :func:`install`
leaves numba's own caching alone, :func:`has_cached_code` answers False (the progress message
then announces a compile) and :func:`threads_started` answers False.

Where it sits: the vocabulary layer, below the math layer (imports numba and
:mod:`bayesgmm.tempdirs`); imported first
by every module that defines ``cache=True`` functions, so that the locators are in place before
they are decorated.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
from pathlib import Path

import numba
from numba.core import caching, config

from ._warn import IN_PACKAGE, warn
from .tempdirs import private_directory
from .versions import release_problem

__all__ = ["NUMBA_CHECKED", "dependency_files", "has_cached_code", "install", "jit",
           "source_digest", "source_salt", "threads_started"]

# numba releases whose private caching classes this module was checked against:
# [first, last] as (major, minor).
NUMBA_CHECKED = ((0, 68), (0, 68))


# the package's one version check of other packages' internals (QA119 M3: this module had
# a parser of its own)
CHECKED = not release_problem("numba", NUMBA_CHECKED, "disk-cache keys")

PACKAGE = Path(__file__).resolve().parent
_TOP = PACKAGE.name


def _module_file(dotted: str) -> Path | None:
    """The file of package module ``dotted`` (``bayesgmm.x.y``), or None if it is not one."""
    parts = dotted.split(".")
    if parts[0] != _TOP:
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def _imports(path: Path, mtime_ns: int, size: int) -> frozenset[Path]:
    """The package files that ``path`` imports anywhere in its body (keyed by its stat, so an
    edit while the process runs is read again)."""
    relative = path.relative_to(PACKAGE.parent).with_suffix("").parts
    is_package = relative[-1] == "__init__"
    name = list(relative[:-1] if is_package else relative)
    found: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name if is_package else name[:-1]
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # "from . import kernels" imports the module kernels; "from .x import f" module x.
            modules = [f"{module}.{alias.name}" if _module_file(f"{module}.{alias.name}")
                       else module for alias in node.names]
        else:
            continue
        for module in modules:
            # "import bayesgmm.a.b" also runs bayesgmm.a; a name that is no module (an
            # attribute) maps to the longest module prefix.
            while module and _module_file(module) is None:
                module = module.rpartition(".")[0]
            target = _module_file(module) if module else None
            if target is not None and target != path:
                found.add(target)
    return frozenset(found)


def dependency_files(py_file: str | os.PathLike) -> tuple[Path, ...]:
    """``py_file`` and every package module it imports, transitively (sorted).

    Parameters
    ----------
    py_file : path
        A source file of this package.

    Returns
    -------
    tuple of Path
    """
    start = Path(py_file).resolve()
    seen, todo = {start}, [start]
    while todo:
        path = todo.pop()
        st = path.stat()
        for dep in _imports(path, st.st_mtime_ns, st.st_size):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return tuple(sorted(seen))


def source_digest(py_file: str | os.PathLike) -> str:
    """SHA-256 over the contents (and package-relative names) of :func:`dependency_files`."""
    digest = hashlib.sha256()
    for path in dependency_files(py_file):
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def source_salt(py_file: str | os.PathLike) -> int:
    """:func:`source_digest` as a 60-bit integer: the PyTensor numba cache salt of the Ops
    defined in ``py_file``, so that an edit to any module their compiled code reaches (the
    kernel, :mod:`bayesgmm.covariance` through it) recompiles them, as :func:`install` does for
    numba's own cache (QA119 M4: a hand-kept list of files had left ``covariance.py`` out)."""
    return int(source_digest(py_file)[:15], 16)


def _in_package(py_file: str) -> bool:
    try:
        return Path(py_file).resolve().is_relative_to(PACKAGE) and Path(py_file).is_file()
    except OSError:
        return False


class _DependencyStamp:
    """Mixin: numba's own stamp of the defining file plus the digest of its imports."""

    def get_source_stamp(self):
        return (super().get_source_stamp(), source_digest(self._py_file))

    @classmethod
    def from_function(cls, py_func, py_file):
        if not _in_package(py_file):
            return None
        return super().from_function(py_func, py_file)


class _UserProvided(_DependencyStamp, caching.UserProvidedCacheLocator):
    """``NUMBA_CACHE_DIR`` (numba's first choice)."""


def _writable(path: str | os.PathLike) -> bool:
    return os.access(path, os.W_OK | os.X_OK)


class _ReadOnlyProvided(_UserProvided):
    """``NUMBA_CACHE_DIR`` where it can be read but not written: a cache warmed once and shared
    read-only with an installation (QA93: numba's write probe passed it over without a word,
    and every batch job compiled for ~70 s into its own ``$TMPDIR``). Its entries are loaded;
    a function it lacks is compiled for the run and not stored (:func:`_save_or_skip`)."""

    def ensure_cache_path(self):
        # the directory given, not this installation's subdirectory of it: one warmed from
        # another path has none, and its functions are then compiled with a warning, not
        # stored elsewhere without a word (QA94)
        root = config.CACHE_DIR
        if not root or not os.path.isdir(root) or _writable(root) \
                or not os.access(root, os.R_OK | os.X_OK):
            raise OSError(f"{root}: not a read-only cache")  # the next locator's case


class _InTree(_DependencyStamp, caching.InTreeCacheLocator):
    """``__pycache__`` beside the source, when it is writable."""


class _UserWide(_DependencyStamp, caching.UserWideCacheLocator):
    """numba's per-user cache directory (a read-only installation)."""


class _PrivateTemporary(_DependencyStamp, caching._SourceFileBackedLocatorMixin,
                        caching._CacheLocator):
    """A directory of this user's alone under ``$TMPDIR``, the last resort: a read-only
    installation run by a service account without a home (packager QA: numba found no
    locator, and every import of the kernels failed with a RuntimeError)."""

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(_private_root(), self.get_suitable_cache_subpath(py_file))

    def get_cache_path(self):
        return self._cache_path

    @classmethod
    def from_function(cls, py_func, py_file):
        try:  # no usable temporary directory either: numba's own "no locator" error follows
            _private_root()
        except OSError:
            return None
        return super().from_function(py_func, py_file)


@functools.cache
def _private_root() -> str:
    user = os.getuid() if hasattr(os, "getuid") else os.getlogin()
    return str(private_directory(f"bayesgmm-numba-{user}"))


_LOCATORS = (_ReadOnlyProvided, _UserProvided, _InTree, _UserWide, _PrivateTemporary)


def install() -> None:
    """Put the package's locators in front of numba's own (idempotent; before any decoration).

    Other libraries' locators (PyTensor puts one at the front for its generated functions) may
    stand before them: each claims only its own functions.
    """
    if not CHECKED:  # another numba: its own caching, with a place it can write
        _unchecked_cache_dir()
        return
    if not getattr(caching.Cache.load_overload, "_bayesgmm", False):
        caching.Cache.load_overload = _load_or_miss
    if not getattr(caching.Cache.save_overload, "_bayesgmm", False):
        caching.Cache.save_overload = _save_or_skip
    classes = caching.CacheImpl._locator_classes
    if _in_front(classes):
        return
    for locator in _LOCATORS:
        if locator in classes:
            classes.remove(locator)
    for locator in reversed(_LOCATORS):
        classes.insert(0, locator)


_numba_load_overload = caching.Cache.load_overload


def _load_or_miss(self, sig, target_context):
    """numba's ``Cache.load_overload``, but a package function's unreadable entry is a miss.

    Any exception counts (a damaged pickle raises UnpicklingError, EOFError, ValueError,
    AttributeError, ...): the cache only saves time. Other libraries' functions keep numba's
    behaviour.
    """
    try:
        return _numba_load_overload(self, sig, target_context)
    except Exception as error:
        if not isinstance(getattr(self._impl, "locator", None), _DependencyStamp):
            raise
        index = Path(self._cache_file._index_path)
        index.unlink(missing_ok=True)  # a fresh index: numba's save would read the damaged one
        function = f"{self._py_func.__module__}.{self._py_func.__qualname__}"
        warn(f"numba's disk cache of {function} could not be read "
             f"({type(error).__name__}: {error}; {index.parent}); compiling it "
             "again and rewriting the cache", RuntimeWarning,
             skip_file_prefixes=IN_PACKAGE)
        return None


_load_or_miss._bayesgmm = True


_numba_save_overload = caching.Cache.save_overload


def _save_or_skip(self, sig, data):
    """numba's ``Cache.save_overload``, but a read-only ``NUMBA_CACHE_DIR``'s missing entry is
    not stored (:class:`_ReadOnlyProvided`), said once a run; other failures are numba's."""
    try:
        return _numba_save_overload(self, sig, data)
    except OSError:
        if not isinstance(getattr(self._impl, "locator", None), _ReadOnlyProvided):
            raise
        locator = self._impl.locator
        _say_read_only(config.CACHE_DIR, os.path.isdir(locator.get_cache_path()))
        return None


_save_or_skip._bayesgmm = True


@functools.cache
def _say_read_only(directory: str, has_this_path: bool = True) -> None:
    why = ("another bayesgmm or numba release, or another CPU" if has_this_path else
           "it holds none for bayesgmm installed at this path: warm it from the path the "
           "users run")
    warn(f"NUMBA_CACHE_DIR ({directory}) is read-only and lacks some of these kernels "
         f"({why}): they are compiled for this run and not stored; run 'bayesgmm "
         "warm' once with it writable to add them", RuntimeWarning,
         skip_file_prefixes=IN_PACKAGE)


def _unchecked_cache_dir() -> None:
    """With a numba release this module was not checked against, numba's own locators only,
    and none of them can write in a read-only installation without a writable home: point
    numba's public ``CACHE_DIR`` at this user's private temporary directory then (QA93: with
    numba 0.69, importing the kernels failed: "no locator available")."""
    if config.CACHE_DIR or _writable(PACKAGE) or _writable(os.path.expanduser("~")):
        return
    try:
        config.CACHE_DIR = _private_root()
    except OSError:  # no temporary directory either: numba's own error follows
        pass


def _in_front(classes: list) -> bool:
    """Whether the package's locators come, in order, before numba's first own locator."""
    try:
        positions = [classes.index(locator) for locator in _LOCATORS]
        return positions == sorted(positions) and \
            positions[-1] < classes.index(caching.UserProvidedCacheLocator)
    except ValueError:
        return False


# The options numba gives a function that leaves them unset from the function whose compilation
# reached it first ("inherit_if_not_set" in numba's CPU target options), and the package's
# values: IEEE arithmetic (a division by zero is inf, which the samplers reject and the Python
# side checks with isfinite, not a ZeroDivisionError out of a sampler's callback) in the order
# the source states (no reassociation).
_INHERITED = {"fastmath": False, "error_model": "numpy"}


def jit(**options):
    """``numba.njit(cache=True, **options)`` with ``fastmath`` and ``error_model`` always set
    (``False`` and ``"numpy"`` where ``options`` leaves them out).

    numba compiles a function that leaves those two unset with the values of the caller whose
    compilation reached it first, and caches that machine code for every later process: a
    kernel first compiled inside PyTensor's NUMBA mode (``fastmath`` with reassociation) sums
    in another order than one first compiled under the native density, and the same seed then
    gave other draws according to which route had filled the cache (stop 67's slow-test
    failures in fresh clones). Every ``njit`` function of the package is declared with this;
    the nutpie callbacks (``numba.cfunc``) are compiled by no caller, and the PyTensor Ops'
    implementations (:mod:`bayesgmm.pytensor_numba`) take ``fastmath`` from PyTensor's own
    setting, stated explicitly: neither inherits. numba passes on ``nrt`` and ``forceinline``
    too, which no function of the package sets.

    Parameters
    ----------
    **options
        numba's ``njit`` options (``nogil``, ``parallel``, ``fastmath``, ``error_model``, ...).

    Returns
    -------
    callable
        The decorator.
    """
    return numba.njit(cache=True, **{**_INHERITED, **options})


def has_cached_code(dispatcher) -> bool:
    """Whether numba would load ``dispatcher`` (a ``cache=True`` function) from its disk cache.

    Reads numba's index the way numba does when a call needs machine code: an index written by
    this numba version, whose stored source stamp equals the current one (content hashes, see
    :func:`install`), with an entry for this CPU and this bytecode whose data file exists. Any
    signature counts. Nothing is compiled.

    Parameters
    ----------
    dispatcher : numba.core.registry.CPUDispatcher
        A function decorated with ``numba.njit(cache=True)``.

    Returns
    -------
    bool
        False also when the function has no disk cache at all (numba found no writable place).
    """
    cache = getattr(dispatcher, "_cache", None)
    if not CHECKED or not isinstance(cache, caching.FunctionCache):
        return False
    cache_file = cache._cache_file
    try:  # {}: missing, another numba version, or stale
        overloads = cache_file._load_index()
    except Exception:  # damaged: the call will compile (see _load_or_miss)
        return False
    _, machine, code = cache._index_key(None, dispatcher.targetctx.codegen())
    return any(key[1:] == (machine, code) and Path(cache_file._data_path(name)).is_file()
               for key, name in overloads.items())


def threads_started() -> bool:
    """Whether numba's parallel threading layer has started its threads (numba's private
    ``numba.np.ufunc.parallel._is_initialized``; numba has no public way to ask).

    False with another numba release, where nothing tells: a caller that sets the threads'
    environment (:func:`bayesgmm.kernels.passive_thread_wait`) then sets it anyway, which
    does nothing once they run.
    """
    if not CHECKED:  # pragma: no cover - another numba
        return False
    from numba.np.ufunc import parallel

    return bool(parallel._is_initialized)


install()
