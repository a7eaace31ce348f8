"""Where bayesgmm may write: the output-path checks, the temporary siblings of an atomic write.

Where it sits: the data-in layer, below :mod:`bayesgmm.io` (standard library only, no NumPy,
and :mod:`bayesgmm.tempdirs`):
the command line checks an output path before it reads the data or imports PyMC and ArviZ, so
a bad path is refused in a fraction of a second. :mod:`bayesgmm.persistence`, which writes every
result and report (``write_directory``), re-exports these names.

The rules: only a directory whose manifest names a bayesgmm kind (:data:`KINDS`) is ever
replaced, only by an output of the same kind (:data:`REPLACES`), and never the current
directory, a home directory, the filesystem root or a directory containing an input
(:func:`check_writable`); temporary siblings ``.NAME.tmp-PID@MACHINE-X`` and ``.NAME.old-...``
that a killed write left behind are removed (or an interrupted replacement's backup put back)
by the next write to the same place (:func:`clean_orphans`). Readers: :func:`read_consistently`
reads a directory again when another process replaced it meanwhile. And one fallback for
where the home directory is unusable: PyTensor's cache (:func:`pytensor_cache_fallback`).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .tempdirs import is_stale, modified_at, private_directory, writer_tag

__all__ = ["KINDS", "MANIFEST", "ORPHAN_AGE_S", "REPLACES", "check_writable", "clean_orphans",
           "directory_identity", "expand_home", "in_progress", "missing_hint",
           "pytensor_cache_fallback", "read_consistently", "remember_source",
           "replaced_since_read"]

MANIFEST = "manifest.json"
# What a manifest may say a directory is: the kinds bayesgmm writes, and so may replace.
KINDS = ("BayesResult", "EMResult", "Report", "SelectionReport")
# The one rule of replacing: --force (overwrite=True) replaces an earlier output of the same
# kind only, never another kind of bayesgmm output (QA: `em --report --force` over a saved
# posterior left its K=3 fit beside a K=2 EM report, and `select --force` deleted a posterior
# without a word). Key: what a write produces (a manifest kind, or a report written into a
# directory); value: the manifest kinds it may replace. A report goes beside the fit it
# describes or over an earlier report; fit/run write a BayesResult, em --out an EMResult,
# select a SelectionReport.
REPLACES = {"BayesResult": ("BayesResult",), "EMResult": ("EMResult",),
            "SelectionReport": ("SelectionReport",), "Report": ("Report",),
            "posterior report": ("BayesResult", "Report"), "EM report": ("EMResult", "Report")}
# How messages name what a directory holds, and each write (the API's words; the command line
# names its command instead).
_HELD = {"BayesResult": "a posterior fit", "EMResult": "an EM fit",
         "SelectionReport": "a model selection's report", "Report": "a report without its fit"}
_WRITER = {"BayesResult": "saving a posterior fit (BayesResult.save)",
           "EMResult": "saving an EM fit (EMResult.save)",
           "SelectionReport": "a model selection's report", "Report": "a report",
           "posterior report": "a posterior's report (write_report)",
           "EM report": "an EM fit's report (write_em_report)"}
# A result's reports and a selection's tables are listed in the directory's manifest by
# whatever wrote them (result_files.list_further_files): a directory holding anything its
# manifest does not list is not replaced. QA: a report.html and figures/*.png of the user's
# in a result that had no report were deleted by --force, their names being a report's.
_FIGURES = "figures"
# A manifest that lists its reports says so with this key. One without it was written before
# (review: those results could no longer be rewritten): its reports' files are known by name.
LISTS_REPORTS = "lists_reports"
_LEGACY_FILES = ("report.html", "select.html", "criteria.csv", "loo.csv", "n_nonempty.csv")
# The figures a report writes into figures/ (report.py's figure names; a test reads them from
# its source), as PNG and, on request, as vector graphics (settings.VECTOR_FORMATS): known by
# name in a directory of a manifest without LISTS_REPORTS.
REPORT_FIGURES = frozenset({
    "data", "density", "classification", "membership", "em_convergence", "forest", "overlay",
    "trace", "rank", "energy", "ppc", "ppc_statistics", "criteria", "chosen", "loo",
    "n_components"})
_FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
# Temporary siblings: ``.NAME.tmp-PID@MACHINE-X`` while writing, ``.NAME.old-...`` while
# replacing. One whose process is gone, or older than this, is a killed run's leftover.
_TMP, _OLD = ".tmp-", ".old-"
ORPHAN_AGE_S = 6 * 3600.0


def expand_home(path: str | os.PathLike) -> Path:
    """``path`` with a leading ``~`` or ``~user`` made that home, as pandas reads a data file;
    a ``~name`` of no known user is left as it is (a directory of that name). QA: pathlib's
    ``expanduser`` raised "Could not determine home directory" on ``-o '~draft'`` (a
    traceback from every command), where the data path next to it was taken literally."""
    return Path(os.path.expanduser(os.fspath(path)))


def directory_identity(directory: Path) -> tuple[int, ...] | None:
    """Which directory is at ``directory`` now (None: none): its inode and its change time (a
    replaced directory's inode number is soon reused; the swap sets a new change time)."""
    try:
        info = directory.stat()
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_ctime_ns, info.st_mtime_ns


# id(result) -> (a weak reference to it, the directory load() read it from, its identity):
# a report beside it checks it is still that one (QA77: a race with `fit --force`)
_SOURCES: dict[int, tuple[Any, Path, tuple[int, ...]]] = {}


def remember_source(result: Any, directory: Path, identity: tuple[int, ...]) -> None:
    """Record that ``result`` was read from ``directory`` as it was at ``identity``."""
    import weakref

    for key in [k for k, (ref, *_) in _SOURCES.items() if ref() is None]:  # collected
        del _SOURCES[key]
    _SOURCES[id(result)] = (weakref.ref(result), directory.resolve(), identity)


def replaced_since_read(result: Any, directory: Path) -> bool:
    """Whether another directory was swapped in at ``directory``, where ``result`` was read."""
    entry = _SOURCES.get(id(result))
    if entry is None or entry[0]() is not result or entry[1] != directory.resolve():
        return False
    return directory_identity(directory) != entry[2]


def read_consistently(directory: Path, read: Callable[[Path], Any], reads: int = 5) -> Any:
    """``read(directory)``, read again when another process replaced the directory meanwhile
    (a replacement is one atomic swap, but a reader opens its files one by one: some may be
    the old result's, some the new one's). A failed read of a directory that was not
    replaced raises at once: the problem is the directory's own."""
    for attempt in range(reads):
        before = directory_identity(directory)
        try:
            value = read(directory)
        except ValueError:
            if attempt + 1 == reads:
                raise
            time.sleep(0.05)  # a replacement in flight finishes in milliseconds
            if before is not None and directory_identity(directory) == before:
                raise
            continue
        if before is None or directory_identity(directory) == before or attempt + 1 == reads:
            return value
    raise AssertionError("unreachable")


def pytensor_cache_fallback() -> str | None:
    """Point PyTensor's compile cache at a temporary directory when its default one (under the
    home directory) cannot be made, before PyTensor is imported; returns that directory, or
    None when nothing had to change.

    PyTensor creates ``~/.pytensor/...`` on import, and with an unwritable or missing home (a
    service account, ``HOME=/dev/null`` in cron) every Bayesian fit died with a traceback (QA,
    a pipeline). A base directory the user chose (``PYTENSOR_FLAGS=base_compiledir=...``) is
    left alone.
    """
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "base_compiledir" in flags:
        return None
    home = Path(os.path.expanduser("~"))
    default = home / ".pytensor"
    usable = default if default.exists() else home
    if usable.is_dir() and os.access(usable, os.W_OK | os.X_OK):
        return None
    fallback = private_directory(f"bayesgmm-pytensor-{os.getuid()}") \
        if hasattr(os, "getuid") else Path(tempfile.mkdtemp(prefix="bayesgmm-pytensor-"))
    os.environ["PYTENSOR_FLAGS"] = ",".join(filter(None, [flags, f"base_compiledir={fallback}"]))
    return str(fallback)


def check_writable(path: str | os.PathLike, *, overwrite: bool = False,
                   protect: Iterable[str | os.PathLike] = (), writes: str | None = None,
                   by: str | None = None, other: str = "path") -> None:
    """Check, without leaving anything behind, that a directory could be written to ``path``.

    Run it before an expensive fit so that a bad output directory fails in seconds.
    :func:`write_directory` runs it too.

    Parameters
    ----------
    path : str or path-like
        The directory to be created (or replaced).
    overwrite : bool
        Whether an existing non-empty ``path`` may be replaced. Only a directory that bayesgmm
        wrote may be: its ``manifest.json`` names a known kind (:data:`KINDS`) and it holds
        nothing but the files bayesgmm writes there.
    protect : iterable of path-like
        Files or directories (the data file, the specification) that must survive: ``path``
        may be neither one of them nor a directory containing one of them. The current
        directory, the home directories and the filesystem root are always protected.
    writes : str, optional
        What will be written there, a key of :data:`REPLACES`: an existing bayesgmm output
        of another kind is refused, with or without ``overwrite`` (None: not checked).
    by, other : str, optional
        For that message: who writes (default: the API's words for ``writes``; the command
        line names its command) and what to choose instead ("path"; the CLI's "--out").

    Raises
    ------
    ValueError
        Naming the problem: ``.``/``..``/empty name, a symbolic link, a file in the way, a
        mount point, a protected directory, an existing directory without ``overwrite``, one
        that bayesgmm did not write or one holding another kind of output than ``writes``, or
        a nearest existing ancestor that is not a writable directory.
    """
    target = expand_home(path)
    if str(path) == "" or target.name in ("", ".", ".."):
        raise ValueError(f"output path {str(path)!r} does not name a new directory; give one "
                         "such as results/fit")
    if target.is_symlink():
        raise ValueError(f"output path {target} is a symbolic link; give the directory itself")
    if target.exists() and not target.is_dir():
        raise ValueError(f"output path {target} exists and is not a directory; give a new one")
    if target.is_dir() and os.path.ismount(target):  # QA82: EBUSY after the fit was printed
        raise ValueError(f"cannot write {target}: it is a mount point, which cannot be replaced "
                         "by a new directory (bayesgmm writes one beside it, then renames it "
                         f"into place); give a directory inside it, e.g. {target / 'result'}")
    resolved = target.resolve()
    for place, why in _protected(protect):
        if resolved == place or resolved in place.parents:
            inside = "" if resolved == place else f", which contains {why} ({place})"
            label = why if resolved == place else "a directory"
            raise ValueError(f"refusing to write to {target}: it is {label}{inside}; choose a "
                             "new directory for the output")
    for parent in resolved.parents:  # QA64: the outer result could then not be replaced
        if _holds_output(parent):
            raise ValueError(f"refusing to write to {target}: it is inside the bayesgmm output "
                             f"{parent}, which holds only its own files; choose a directory "
                             "outside it")
    if target.is_dir() and any(target.iterdir()):
        # what is not bayesgmm's is refused first, whatever overwrite says: suggesting --force
        # for a directory --force then refuses sent users round in a circle (QA)
        kind = _check_replaceable(target)
        # another kind of output is refused before --force is suggested, for the same reason
        check_same_kind(target, kind, writes, by=by, other=other)
        if not overwrite:  # the command line's own option there (QA136: the API's first)
            how = ("--force" if (by or "").startswith("bayesgmm ") else
                   "overwrite=True in the API, --force on the command line")
            raise ValueError(f"output directory {target} already exists (an earlier bayesgmm "
                             f"output); choose another path or replace it ({how})")
    ancestor = target.parent
    while not ancestor.exists():
        if ancestor == ancestor.parent:
            break
        if ancestor.is_symlink():  # a dangling link
            raise ValueError(f"cannot write {target}: {ancestor} is a broken symbolic link")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"cannot write {target}: {ancestor} is a file, not a directory")
    try:  # the only reliable test (ACLs, read-only mounts, root), with the write's own name
        # length (QA103: a 240-character name passed, then its temporary sibling's failed)
        Path(tempfile.mkdtemp(prefix=f".{target.name}{_TMP}{writer_tag()}-", dir=ancestor)).rmdir()
    except OSError as exc:
        # the folder that refused, and the fix (QA168 L4: "(.)" and no way out)
        raise ValueError(f"cannot write {target}: {_reason(exc)} (in folder {ancestor}): "
                         "write the result to a folder you can write to") from None


def missing_hint(path: str | os.PathLike) -> str:
    """For a result directory that is not there: where its earlier version is, when a
    replacement was interrupted between its two renames (a killed ``--force`` or report), else
    "". The next write to ``path`` puts that backup back (:func:`clean_orphans`)."""
    target = expand_home(path)
    try:
        backups = sorted((p for p in target.parent.iterdir()
                          if p.name.startswith(f".{target.name}{_OLD}") and p.is_dir()),
                         key=modified_at)  # the newest last
    except OSError:
        return ""
    if not backups or os.path.lexists(target):
        return ""
    return (f"; an interrupted replacement left the earlier result in {backups[-1]}: rename "
            f"it back to {target} (or write to {target} again, which restores it first)")


def clean_orphans(path: str | os.PathLike, *, max_age_s: float = ORPHAN_AGE_S) -> list[Path]:
    """Remove the temporary siblings of ``path`` that a killed write left behind.

    Writes name their temporary directory ``.NAME.tmp-PID@MACHINE-X``, a replaced directory's
    backup ``.NAME.old-PID@MACHINE-X``. One is stale when its process no longer runs, or (a name
    without a PID or of another machine, or a PID a new process may reuse) when older than
    ``max_age_s``; a concurrent writer's live directory is left alone. A stale backup while
    ``path`` itself is missing means the replacement was interrupted between its two renames:
    the backup is then renamed back to ``path`` (nothing the user had is lost).

    Returns
    -------
    list of Path
        The stale siblings removed or restored.
    """
    target = expand_home(path)
    parent = target.parent
    if not parent.is_dir():
        return []
    handled = []
    prefixes = (f".{target.name}{_TMP}", f".{target.name}{_OLD}")
    try:
        entries = sorted(parent.iterdir(), key=modified_at, reverse=True)
    except OSError:
        return []
    for entry in entries:
        if not entry.name.startswith(prefixes) or entry.is_symlink() or not entry.is_dir():
            continue
        tag = entry.name[len(prefixes[0]):] if entry.name.startswith(prefixes[0]) \
            else entry.name[len(prefixes[1]):]
        if not is_stale(tag, entry, max_age_s):
            continue
        try:
            if entry.name.startswith(prefixes[1]) and not os.path.lexists(target):
                os.rename(entry, target)  # an interrupted replacement: put the old one back
            else:
                shutil.rmtree(entry)
            handled.append(entry)
        except OSError:
            pass  # not ours to fight over (permissions): the next write tries again
    return handled


def in_progress(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a temporary directory that this process is filling right now (the
    ``write`` of a :func:`write_directory` call): private to it, so written into directly."""
    name = Path(path).name
    return name.startswith(".") and f"{_TMP}{writer_tag()}-" in name


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _make_parents(parent: Path) -> list[Path]:
    """Create missing parent directories; return those created (outermost first)."""
    missing = []
    p = parent
    while not p.exists():
        missing.append(p)
        p = p.parent
    created = []
    try:
        for directory in reversed(missing):
            directory.mkdir()
            created.append(directory)
    except OSError as exc:
        for directory in reversed(created):
            _rmdir_quietly(directory)
        raise ValueError(f"cannot create {parent}: {_reason(exc)}") from None
    return created


def _protected(extra: Iterable[str | os.PathLike]) -> list[tuple[Path, str]]:
    """Places an output directory may neither be nor contain, resolved, with what they are."""
    places = [(Path.cwd(), "the current directory")]
    homes = {Path.home(), Path(os.path.expanduser("~"))}
    try:
        import pwd

        homes |= {Path(entry.pw_dir) for entry in pwd.getpwall() if entry.pw_dir not in ("", "/")}
    except (ImportError, OSError):
        pass
    places += [(home, "a home directory") for home in homes]
    places += [(Path(p), f"the input {Path(p).name}") for p in extra]
    out = []
    for place, why in places:
        try:
            out.append((place.resolve(), why))
        except (OSError, RuntimeError):
            continue
    out.append((Path(Path.cwd().anchor or "/").resolve(), "the filesystem root"))
    return out


def check_same_kind(target: Path, kind: str | None, writes: str | None, *,
                    by: str | None = None, other: str = "path") -> None:
    """Refuse to let ``writes`` (a key of :data:`REPLACES`) replace ``target``, a bayesgmm
    output of manifest kind ``kind``, unless :data:`REPLACES` allows it (None: no check)."""
    if writes is None or kind is None or kind in REPLACES[writes]:
        return
    who = f"that {by} would replace" if by else f"that {_WRITER[writes]} would replace"
    raise ValueError(f"{target} holds {_HELD.get(kind, kind)}{_details(target, kind)} {who}: "
                     f"choose another {other}, or delete {target} first")


def _manifest_kind(directory: Path) -> str | None:
    """The kind ``directory``'s manifest names; None when it has none or it is unreadable."""
    try:
        kind = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))["kind"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return kind if kind in KINDS else None


def _details(target: Path, kind: str) -> str:
    """What the output in ``target`` is of, for a message: " (K=3, from big.csv)" from a
    posterior's record, else the title of its page; "" where neither can be read."""
    try:
        if kind == "BayesResult":
            record = json.loads((target / "result.json").read_text(encoding="utf-8"))
            k, source = record["settings"]["n_components"], record["settings"].get("data_source")
            return f" (K={k}" + (f", from {source})" if source else ")")
        for page in ("report.html", "select.html"):
            if (target / page).is_file():
                with open(target / page, encoding="utf-8") as f:
                    title = re.search(r"<title>(.*?)</title>", f.read(4096), re.S)
                return f" ({html.unescape(title[1]).strip()})" if title else ""
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return ""


def _holds_output(directory: Path) -> bool:
    """Whether ``directory`` is a bayesgmm output: its manifest names a known kind."""
    manifest = directory / MANIFEST
    try:
        return manifest.is_file() and json.loads(manifest.read_text()).get("kind") in KINDS
    except (OSError, ValueError, AttributeError):
        return False


def _check_replaceable(target: Path) -> str:
    """Refuse to replace a directory that bayesgmm did not write (or that holds more); return
    the kind its manifest names."""
    entries = sorted(p.name + ("/" if p.is_dir() and not p.is_symlink() else "")
                     for p in target.iterdir())
    shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5
                                      else "")
    # one parenthesis: why it is none, then what it holds (QA168 L6: two side by side)
    refuse = (f"refusing to replace {target}: it is not a bayesgmm result or report "
              f"({{}}; it holds {shown}); move it away or choose another output directory")
    manifest_path = target / MANIFEST
    if not manifest_path.is_file() or manifest_path.is_symlink():
        raise ValueError(refuse.format(f"no {MANIFEST}"))
    try:
        manifest = json.loads(manifest_path.read_text())
        kind = manifest["kind"]
        listed = manifest.get("files", [])
        if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
            raise TypeError("'files' is not a list of names")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(refuse.format(f"its {MANIFEST} is unreadable: {_reason(exc)}")) \
            from None
    if kind not in KINDS:
        raise ValueError(refuse.format(f"its {MANIFEST} says kind {kind!r}"))
    legacy = not manifest.get(LISTS_REPORTS, False)
    known = {MANIFEST, _FIGURES, *(n.split("/", 1)[0] for n in listed),
             *(_LEGACY_FILES if legacy else ())}  # figures/: below
    foreign = [e for e in entries if e.rstrip("/") not in known]
    # figures/ holds the reports' figures, each listed (or, from before they were, by their
    # fixed names): anything else there (a script, or a PNG or PDF of the user's, even under a
    # report figure's name) is the user's, which replacing the directory would delete. Hidden
    # files (a file manager's .DS_Store) are not the user's work and do not block.
    figures = target / _FIGURES
    if figures.is_dir() and not figures.is_symlink():
        foreign += [f"{_FIGURES}/{p.name}" for p in sorted(figures.iterdir())
                    if not p.name.startswith(".")
                    and (p.is_symlink() or not p.is_file()
                         or not (f"{_FIGURES}/{p.name}" in listed
                                 or legacy and p.suffix in _FIGURE_SUFFIXES
                                 and p.stem in REPORT_FIGURES))]
    if foreign:
        raise ValueError(
            f"refusing to replace {target}: it is a bayesgmm {kind} but also holds "
            f"{', '.join(foreign[:5])}, which bayesgmm did not write; move it away first"
        )
    return kind


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _rmdir_quietly(directory: Path) -> None:
    try:
        directory.rmdir()
    except OSError:
        pass


def _reason(exc: BaseException) -> str:
    return exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else str(exc)
