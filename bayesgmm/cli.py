"""The ``bayesgmm`` command line: argument parsing, calling the API, formatting, exit codes.

Commands: ``fit`` (a data file), ``run`` (a TOML specification), ``report`` (regenerate the
HTML report of a saved result), ``select`` (choose the number of components: EM criteria,
optionally PSIS-LOO and a sparse mixture), ``em`` (EM alone, optionally its report, no PyMC)
and ``warm`` (compile the numba kernels ahead; ``make install`` runs it). ``fit`` and ``run``
save the result directory (see :mod:`bayesgmm.persistence`) with ``estimates.csv`` (one row per
scalar parameter, :mod:`bayesgmm.estimates`), ``memberships.csv`` (one row per fitted data
row, :mod:`bayesgmm.memberships_file`) and optionally the report inside it; ``em --out``
saves the EM fit and its two tables (``--report`` adds its report); ``select`` writes its
report directory.

Exit status: 0 success, 2 bad input (one-line message naming the problem, no traceback), 3 a
PROBLEMS verdict under ``--strict``, 4 standard output could not be written (its printout
lost; a result directory is still written whole), 130 interrupted (Ctrl-C), 143 terminated
(SIGTERM), 129 hung up (SIGHUP: the terminal closed). Every
flag, and the output directory, is checked before the data are read (a bad flag is then the
only output), the data before sampling starts, and the result is written atomically, so a
failure leaves no partial output. Rows of a data file are named by the ``--index`` column's
IDs, else numbered from 0 in file order, header excluded (the hints and reports say so).

(Over 500 lines: six commands with their flags, help texts and input checks; the heavy
modules load on first use through ``_Lazy``, so this module itself imports only NumPy.)

Where it sits: the surface layer, at the top; imports any lower layer (the heavy ones on first
use) and is imported by nothing but the ``bayesgmm`` console script and ``__main__``
(``python -m bayesgmm``).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib
import json
import os
import re
import shlex
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import progress
from ._scalars import draw_seed
from ._validation import COVARIANCE_TYPES, check_columns_fit, check_seed
from ._warn import IN_PACKAGE, ignored, warn
from .covariance import covariance_words, has_correlations, mclust_hint, sd_and_correlation
from .formatting import format_count, format_number, per_chain, timing_parts
from .settings import (  # NumPy only
    MAX_REG_COVAR,
    MAX_RESTARTS,
    METRICS,
    SAMPLERS,
    VECTOR_FORMATS,
    DiagnosticThresholds,
    FigureFiles,
    SamplerSettings,
)

if TYPE_CHECKING:
    from .diagnostics import Diagnostics


class _Lazy:
    """A module, or a name in one, imported on first use: ``--help``, ``--version`` and input
    errors answer in a fraction of a second instead of the seconds PyMC, ArviZ and numba take
    to load.

    Calling it calls the real object, its attributes are the real object's, and
    ``isinstance(x, lazy)`` checks against the real class. Tests replace these module
    attributes (``monkeypatch.setattr(cli, "fit_bayes", ...)``) as they would the real ones.
    """

    def __init__(self, module: str, name: str | None = None, what: str | None = None, *,
                 before_checks: bool = False) -> None:
        self._module, self._name, self._what = module, name, what
        self._before_checks = before_checks

    def get(self) -> Any:
        full = f"{__package__}{self._module}" if self._module.startswith(".") else self._module
        # A name used while the input is still being checked announces its import on a
        # terminal only: a script reading stderr gets exactly one line for a bad input.
        if self._what and full not in sys.modules and (not self._before_checks
                                                       or sys.stderr.isatty()):
            progress.say(f"loading {self._what}...")
        module = importlib.import_module(full)
        return module if self._name is None else getattr(module, self._name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.get()(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):  # never recurse through a half-built proxy
            raise AttributeError(attr)
        return getattr(self.get(), attr)

    def __instancecheck__(self, obj: Any) -> bool:
        return isinstance(obj, self.get())


_STACK = "PyMC, nutpie and ArviZ"
pd = _Lazy("pandas")
load_spec = _Lazy(".io", "load_spec")
read_table = _Lazy(".io", "read_table")
read_data = _Lazy(".io", "read_data")
file_sha256 = _Lazy(".io", "file_sha256")
check_writable = _Lazy(".paths", "check_writable")  # standard library only: answers at once
missing_hint = _Lazy(".paths", "missing_hint")
expand_home = _Lazy(".paths", "expand_home")
load = _Lazy(".persistence", "load", "ArviZ", before_checks=True)
write_directory = _Lazy(".result_files", "write_directory")
save_files = _Lazy(".result_files", "save_files")
BayesResult = _Lazy(".posterior", "BayesResult")
fit_bayes = _Lazy(".sampling", "fit_bayes", _STACK)
fit_sparse = _Lazy(".selection", "fit_sparse", _STACK)
select_bayes = _Lazy(".selection", "select_bayes", _STACK)
select_em = _Lazy(".selection", "select_em")

EXIT_BAD_INPUT = 2
EXIT_PROBLEMS = 3  # --strict: the diagnostics verdict is PROBLEMS
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report a SIGINT
EXIT_TERMINATED = 143  # SIGTERM (a cancelled CI job, `timeout`), as shells report it
EXIT_HUNG_UP = 129  # SIGHUP (a closed terminal), likewise
# standard output failed (a full disk, an I/O error; not a reader that left, `| head`): its
# printout is lost, which for `spec` and `em` without --out is the whole product (QA117 H2)
EXIT_OUTPUT_LOST = 4


# The command line of the running ``main``, as a shell would retype it: in every result's
# record (QA112: an auditor found the settings, never the command that made them).
_command_line = ""
# The directories this command has put in place, for the interrupt's line: a stop that comes
# after the result is published says so (QA117 L1: status 130 with a complete result, and
# the line said the directory might hold what it held before).
_published: list[Path] = []


def main(argv: Sequence[str] | None = None) -> int:
    global _command_line
    parser = _parser()
    with _reader_may_leave() as early:  # --help and --version print here (QA168 L1: into a
        try:                             # full disk, exit 0 and nothing said)
            args, extra = parser.parse_known_args(argv)
        except SystemExit as done:
            early.flush()
            if done.code in (0, None) and early.lost:
                return EXIT_OUTPUT_LOST
            raise
    if extra:  # said by the subcommand's parser, which names its own help (QA117 L4)
        getattr(args, "subparser", parser).error(
            f"unrecognized arguments: {' '.join(extra)}")
    _command_line = shlex.join(["bayesgmm", *(sys.argv[1:] if argv is None else argv)])
    _published.clear()
    quiet = getattr(args, "no_progress", False)
    interrupted = _Interrupts()
    try:
        with (progress.silenced() if quiet else contextlib.nullcontext(),
              progress.checks_told("the printout of the result (stdout) has every check "
                                   "and what to do"),
              _one_line_warnings(), interrupted, _reader_may_leave() as out):
            if getattr(args, "cores", None) is not None:
                _limit_threads(args.cores)
            status = args.func(args)
            if interrupted.seen:  # its KeyboardInterrupt was swallowed (see STOP_REQUESTED)
                raise KeyboardInterrupt
            out.flush()  # a write error still in its buffer shows now
            return EXIT_OUTPUT_LOST if out.lost and not status else status
    except (KeyboardInterrupt, Exception) as exc:
        # nutpie turns a Ctrl-C during sampling into its own error ("Sampler has no results
        # to take"): an interrupt seen anywhere is reported as one.
        if interrupted.seen or isinstance(exc, KeyboardInterrupt):
            signum = interrupted.signum or EXIT_INTERRUPTED - 128  # a KeyboardInterrupt: Ctrl-C
            how = {EXIT_TERMINATED - 128: "terminated",
                   EXIT_HUNG_UP - 128: "hung up (the terminal closed)"}.get(signum, "interrupted")
            # a closed terminal cannot take the line (QA104: OSError, a traceback, status 1)
            saved = ", ".join(map(str, _published))
            with contextlib.suppress(OSError, ValueError):
                print(f"\nbayesgmm: {how} after saving {saved}: that result is complete "
                      "(only the printout after it was cut short)" if saved else
                      f"\nbayesgmm: {how}; results are "
                      "written whole or not at all, so an output directory holds what it held "
                      "before the run or this run's complete result", file=sys.stderr)
            return 128 + signum  # as shells report a run a signal stopped
        message = _path_error(exc) if not isinstance(exc, ValueError) else str(exc)
        if message is None:
            raise
        with contextlib.suppress(OSError, ValueError):  # stderr unwritable too (QA117 L2)
            print(f"bayesgmm: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _path_error(exc: BaseException) -> str | None:
    """One line for an error of the file system about a path the user gave (a name too long,
    a symbolic link loop, no permission, a full disk), None for anything else (QA: a
    300-character path was a 30-line traceback in every command)."""
    if isinstance(exc, RuntimeError) and str(exc).startswith("Symlink loop"):
        return f"{exc}: give a path that does not loop through symbolic links"
    import errno

    paths = {errno.ENAMETOOLONG, errno.ELOOP, errno.EACCES, errno.EPERM, errno.ENOSPC,
             errno.EROFS, errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST}
    if not isinstance(exc, OSError) or exc.strerror is None or not exc.filename \
            or exc.errno not in paths:  # (review: not "too many open files")
        return None
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror.lower()}{where}: give another path or fix the one given"


class _StreamWithoutReader:
    """sys.stdout (or sys.stderr) that outlives its reader (``bayesgmm em ... | head -3``):
    once the pipe is closed, what would have been printed is dropped and the command goes on
    to write its result and report, instead of dying in a BrokenPipeError traceback half-way.
    So too when the stream cannot be written at all (a full log volume, an I/O error: said
    once on stderr for stdout; a closed file descriptor, where the stream is None): the
    printout is the least of a run, and losing it must not cost the fit (QA, a pipeline; and
    ``bayesgmm fit ... 2>&1 | head -2``, whose status lines killed the fit with exit 1 and
    nothing saved)."""

    def __init__(self, stream: Any, *, is_stderr: bool = False) -> None:
        self._stream, self._is_stderr = stream, is_stderr
        self.reader_gone = stream is None
        self.lost = False  # stdout failed (not a reader that left): main's exit status says so

    # A non-blocking stdout whose pipe is briefly full (some CI runners) raises
    # BlockingIOError: a wait, not a reader gone (review). The text is in the stream's buffer
    # by then (written again it would print twice); a flush retries for up to ~1 s.
    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self._stream.write(text)
            except BlockingIOError:
                pass
            except OSError as exc:
                self._drop_output(exc)
        return len(text)

    def flush(self) -> None:
        for _ in range(100):
            if self.reader_gone:
                return
            try:
                self._stream.flush()
                return
            except BlockingIOError:
                time.sleep(0.01)
            except OSError as exc:
                self._drop_output(exc)

    def _drop_output(self, exc: OSError) -> None:
        self.reader_gone = True
        if self._is_stderr:  # nowhere left to tell it; the status lines stop too
            progress.set_enabled(False)
        elif not isinstance(exc, BrokenPipeError):  # a reader that left is no news; this is
            self.lost = True
            try:
                print(f"bayesgmm: standard output cannot be written ({exc.strerror or exc}): "
                      "what it would show is lost (a result directory the command writes is "
                      f"still written whole); exit status {EXIT_OUTPUT_LOST}", file=sys.stderr)
            except (OSError, ValueError, AttributeError):
                pass
        try:  # so that Python's own flush at exit does not report the closed pipe either
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # not a real file (a test's capture): nothing to do
            pass

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


@contextlib.contextmanager
def _reader_may_leave():
    """Run with :class:`_StreamWithoutReader` as sys.stdout and sys.stderr; flushed before
    they are put back."""
    original_out, original_err = sys.stdout, sys.stderr
    guarded_out = sys.stdout = _StreamWithoutReader(original_out)
    guarded_err = sys.stderr = _StreamWithoutReader(original_err, is_stderr=True)
    try:
        yield guarded_out
    finally:
        guarded_out.flush()
        guarded_err.flush()
        sys.stdout, sys.stderr = original_out, original_err


class _Interrupts:
    """Notes whether Ctrl-C (SIGINT) or SIGTERM arrived while the command ran, and raises
    KeyboardInterrupt for either: a SIGTERM (a cancelled CI job, `timeout`) then unwinds like
    Ctrl-C, removing a half-written temporary directory, where Python's default would die at
    once, leaving it (QA: 13 MB in r/.b20.tmp-*) and printing nothing. The command line's
    only, never the library's; the previous handlers are put back on exit (tests call main in
    the same process). Main thread only (signal handlers cannot be set elsewhere)."""

    def __init__(self) -> None:
        self.seen = False
        self.signum: int | None = None  # the signal that stopped the run
        self._previous: dict[int, Any] = {}
        self._unraisable: Any = None

    def __enter__(self) -> _Interrupts:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return self
        # The KeyboardInterrupt raised in a gc or ctypes callback (JAX's, numba's, while
        # they load or compile) cannot propagate: Python prints it with a traceback through
        # sys.unraisablehook (QA82: 5 of 11 early Ctrl-Cs). The stop is noted all the same
        # (STOP_REQUESTED), and the run ends at its next status line: drop that report.
        self._unraisable = sys.unraisablehook
        sys.unraisablehook = self._quiet_unraisable
        # SIGHUP too (a closed terminal, a dropped SSH session; QA103: the run died silently,
        # leaving its 48 MB temporary directory), where the platform has it
        hangup = (signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()  # not on Windows
        for signum in (signal.SIGINT, signal.SIGTERM, *hangup):
            # never where the signal is ignored (Ctrl-C in a background job, nohup):
            # installing a handler would undo that
            if signal.getsignal(signum) is signal.SIG_IGN:
                continue
            previous = signal.signal(signum, self._note)
            # None: a handler not set from Python, which cannot be put back; Python's own.
            self._previous[signum] = previous if previous is not None else (
                signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
        return self

    def _note(self, signum: int, frame: Any) -> None:
        import signal

        from .result_files import STOP_REQUESTED

        self.seen = True
        if self.signum in (None, signal.SIGINT):  # the first stop that is not Ctrl-C's
            self.signum = signum
        STOP_REQUESTED.set()  # should the KeyboardInterrupt be swallowed, no write publishes
        progress.request_stop()  # ... and the run stops at its next status line
        if _importing(frame):  # raised there it can abort the process (QA168 M1: jaxlib's
            return             # native set-up, 3 of 12 SIGTERMs: exit 134/139); main() ends it
        raise KeyboardInterrupt

    def _quiet_unraisable(self, report: Any) -> None:
        if self.seen and report.exc_type is KeyboardInterrupt:
            return
        (self._unraisable or sys.__unraisablehook__)(report)

    def __exit__(self, *exc: Any) -> None:
        import signal

        if sys.unraisablehook == self._quiet_unraisable:  # ours, whatever it replaced (QA85)
            sys.unraisablehook = self._unraisable or sys.__unraisablehook__
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        if self.seen:  # this run's stop, not the next one's (main() runs again in-process)
            from .result_files import STOP_REQUESTED

            STOP_REQUESTED.clear()
            progress.clear_stop()


def _importing(frame: Any) -> bool:
    """An import is running in ``frame`` or a caller of it (importlib's own frames): a
    module's native set-up may not survive an exception raised into it."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Warnings shown as one line each ("bayesgmm: warning: ..."), like the errors, instead of
    Python's file:line header followed by the source line that raised them."""
    previous = warnings.formatwarning
    warnings.formatwarning = lambda message, *args, **kwargs: f"bayesgmm: warning: {message}\n"
    try:
        # ArviZ's guess that dims are misnamed when a run has fewer draws than chains (QA:
        # --draws 1 printed it twice): the names are right, and the diagnostics say what so
        # few draws are worth; the data's status line names the rows with nothing observed,
        # by the file's row names
        with ignored(message="Found chain dimension to be longer than draw"), \
                ignored(message=r"\d+ row\(s\) of X have no observed value"):
            yield
    finally:
        warnings.formatwarning = previous


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2), like every other error."""

    def error(self, message: str) -> None:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _command(sub: Any, name: str, func: Callable[[argparse.Namespace], int], examples: str,
             **texts: str) -> argparse.ArgumentParser:
    """The subcommand ``name`` (``texts``: its help and description), run by ``func``, with
    ``examples`` after its options as they are written."""
    parser = sub.add_parser(name, epilog=examples,
                            formatter_class=argparse.RawDescriptionHelpFormatter, **texts)
    parser.set_defaults(func=func, subparser=parser)
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bayesgmm",
        description="Gaussian mixtures: EM estimate and NUTS posterior, with diagnostics.",
        epilog="Run 'bayesgmm COMMAND --help' for a command's options and examples. Exit "
               "status: 0 done; 2 bad input, or an output that may not be replaced (one "
               "line on stderr); 3 the verdict is PROBLEMS with --strict; 4 standard output "
               "could not be written (a full disk: the printout is lost; a result directory "
               "is still written whole); 130 interrupted "
               "(Ctrl-C); 143 terminated (SIGTERM); 129 hung up (SIGHUP: the terminal "
               "closed); 1 an unexpected error (a traceback: "
               "please report it).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    fit = _command(sub, "fit", _cmd_fit, _FIT_EXAMPLES,
        help="fit EM then the posterior to a CSV/Parquet file",
        description="Find the posterior mode by MAP-EM (three families of 10 restarts: "
                    "k-means++, random data points, and ML-EM polished under the prior; the "
                    "best by the model's own log density), then sample the posterior with NUTS "
                    "from it; print the EM estimate beside the "
                    "posterior and the convergence verdict, and save the result directory "
                    "(reload it with bayesgmm.load) with estimates.csv, the posterior summary "
                    "as one row per parameter (weights, means, covariance entries, then the sds "
                    "and correlations: mean, sd, "
                    "94% interval, ESS, R-hat, MCSE), and memberships.csv, one row per fitted "
                    "row (named by --index, else numbered from 0 in file order; rows with "
                    "nothing observed are left out): its most probable component and "
                    "P(component k | x) with 94% intervals.")
    _data_flags(fit)
    _sampling_flags(fit)
    _shared_flags(fit, seed="seed of EM and the sampler: the same seed gives the same draws "
                            "(default: a random one)",
                  out="result directory: the fit, estimates.csv, memberships.csv and with "
                      "--report the report (default: results/<data stem>_k<K>)",
                  force="replace an earlier result of fit or run in the output directory "
                        "(never another kind of bayesgmm output)",
                  report="write report.html (and the figures as PNG) into the result")
    _threshold_flags(fit)
    _figure_flags(fit)
    _strict_flag(fit)

    em = _command(sub, "em", _cmd_em, _EM_EXAMPLES,
        help="fit EM only (seconds, no sampler) and optionally write its report",
        description="Fit the mixture by maximum-likelihood EM (the best of several "
                    "restarts) and print the estimate, log-likelihood, BIC and AIC. With "
                    "--out, save the fit itself (bayesgmm.load reads it back) and "
                    "estimates.csv (the estimate as one row per parameter: weights, means, "
                    "covariance entries, sds, correlations) and memberships.csv (one row per "
                    "fitted row, named by --index, else numbered from 0 in file order: its "
                    "most probable component "
                    "and P(component k | x)); with --report, also an "
                    "EM-only report (density "
                    "contours, ellipses, classification, convergence). PyMC is never loaded.")
    _data_flags(em)
    em.add_argument("--n-init", type=_whole_number, default=10, metavar="N",
                    help="EM restarts from each of two seedings (k-means++, random data "
                         "points); the best is kept (default: 10)")
    _reg_covar_flag(em)
    _cores_flag(em, chains=False)
    _shared_flags(em, seed="seed of the restarts (default: a random one, printed)",
                  progress="no status lines",
                  out="save the fit (em.json, em.npz), estimates.csv and memberships.csv "
                      "here (with --report, the report too; default with --report: "
                      "results/<data stem>_em_k<K>; without either, nothing is written)",
                  force="replace an earlier output of em in --out (never another kind of "
                        "bayesgmm output)",
                  report="write report.html, figures/*.png, the fit (em.json, em.npz), "
                         "estimates.csv and memberships.csv into --out")
    _figure_flags(em)

    warm = _command(sub, "warm", _cmd_warm, _WARM_EXAMPLES,
        help="compile the numba kernels and the sampler ahead (make install runs it)",
        description="Compile (or load from numba's disk cache) every kernel a fit uses, on a "
                    "tiny data set, so that the first real run on this machine does not spend "
                    "a minute compiling. Safe to run again: it then takes seconds.")
    _shared_flags(warm, progress="no status lines")

    run = _command(sub, "run", _cmd_run, _RUN_EXAMPLES,
        help="run a declarative model specification (a TOML file; `bayesgmm spec` writes one)",
        description="Fit the model a TOML specification declares (data, columns, K, "
                    "covariance type, priors, sampler settings, thresholds, output directory; "
                    "`bayesgmm spec` writes one with every key explained) and save the "
                    "result with estimates.csv "
                    "(the posterior summary, one row per parameter), memberships.csv (one row "
                    "per fitted row: its component and membership probabilities), and its "
                    "report when the "
                    "spec asks for one. Paths in the spec are relative to the spec file.")
    run.add_argument("spec", help="path to a TOML specification")
    _shared_flags(run, force="replace an earlier result of fit or run in the spec's output "
                             "directory (never another kind of bayesgmm output)")
    _threshold_flags(run, " (overrides the spec's [diagnostics])", "the spec's, else ")
    _cores_flag(run, "the spec's [sampler] cores, else all the process may use")
    _figure_flags(run, " (overrides the spec's [output])", "the spec's, else ")
    _strict_flag(run)

    spec = _command(sub, "spec", _cmd_spec, _SPEC_EXAMPLES,
        help="write a model specification to edit, every key explained",
        description="Print a TOML specification for `bayesgmm run` with every key, its "
                    "default and what it means (or write it to FILE). As written it fits the "
                    "bundled Old Faithful data; with --data its [data] names that file and "
                    "lists its numeric columns.")
    spec.add_argument("file", nargs="?", metavar="FILE",
                      help="write the specification here (default: print it)")
    spec.add_argument("--data", metavar="FILE", help="a CSV/TSV/Parquet file or bundled:NAME "
                      "to fit (a relative path is written relative to FILE's directory, as run "
                      "reads it; an absolute one as given)")
    _text_format_flags(spec)
    spec.add_argument("--force", action="store_true", help="replace an existing FILE")

    report = _command(sub, "report", _cmd_report, _REPORT_EXAMPLES,
        help="(re)generate the HTML report of a saved result",
        description="Write report.html and figures/*.png of a result saved by fit or run into "
                    "its own directory (replacing an earlier report there, its figures/ "
                    "too: vector copies an earlier --vector made go unless --vector is given "
                    "again), judged by the "
                    "thresholds it was fitted with unless the flags below say otherwise.")
    report.add_argument("directory", help="a result directory written by fit or run")
    _shared_flags(report, progress="no status lines")
    _threshold_flags(report, source="those the result was fitted with, else ")
    _figure_flags(report)
    _strict_flag(report, "the report is still written")

    select = _command(sub, "select", _cmd_select, _SELECT_EXAMPLES,
        help="choose the number of components (EM criteria, PSIS-LOO, sparse mixture)",
        description="Fit every K in the grid with every covariance type by EM and tabulate BIC, "
                    "AIC and ICL (lower is better; mclust prints them with the opposite "
                    "sign, and of its 14 models fits VVV = full, EEE = tied, VVI = diag and "
                    "VII = spherical); optionally compare posterior fits by "
                    "PSIS-LOO (--bayes) and fit a sparse overfitted mixture (--sparse). Writes "
                    "select.html, figures/*.png, criteria.csv (loo.csv, n_nonempty.csv with "
                    "--bayes, --sparse) and settings.json (the data, the grid, the root seed, "
                    "the EM floor and stopping rule, the choice and its status) to the output "
                    "directory.")
    select.add_argument("data", help=_DATA_HELP)
    select.add_argument("-k", "--components", default="1-6", metavar="GRID",
                        help="numbers of components: a range (1-6), a list (2,3,5), one K, or a "
                             "mix (1-3,5) (default: 1-6)")
    select.add_argument("--covariance", default="all", metavar="TYPES",
                        help="covariance types for EM: 'all' or a comma-separated list of "
                             f"{', '.join(COVARIANCE_TYPES)} (default: all)")
    select.add_argument("--columns", metavar="A,B",
                        help="comma-separated columns to use (default: all); a name with a "
                             "comma in double quotes: --columns '\"wt, g\",z'")
    _text_format_flags(select)
    _observation_flags(select, " (every fit of the sweep)")
    select.add_argument("--n-init", type=_whole_number, default=5, metavar="N",
                        help="EM restarts per cell from each of two seedings (k-means++, "
                             "random data points; default: 5)")
    _reg_covar_flag(select, " (every EM fit of the sweep)")
    select.add_argument("--jobs", type=_whole_number, default=-1, metavar="N",
                        help="parallel workers over the grid (joblib; -1: all cores, the "
                             "default)")
    select.add_argument("--bayes", action="store_true",
                        help="also fit the posterior for every K and compare the fits by "
                             "PSIS-LOO, with the covariance type of the BIC-best EM fit among "
                             "--covariance (so the given type when only one is given)")
    select.add_argument("--sparse", type=_whole_number, metavar="K_MAX",
                        help="also fit one sparse overfitted mixture with K_MAX components "
                             "(covariance type chosen as for --bayes) and report the posterior "
                             "of the number of non-empty components")
    select.add_argument("--save-fits", action="store_true",
                        help="with --bayes or --sparse: also save each posterior sampled "
                             "under fits/<model>/ in --out (bayesgmm.load reads each; its "
                             "pointwise log-likelihood recomputes loo.csv), about chains x "
                             "draws x rows x 8 bytes each")
    select.add_argument("--concentration", type=_number, default=None, metavar="E0",
                        help="Dirichlet concentration e0 of the sparse mixture's weights "
                             "(default: 0.01)")
    _sampling_flags(select, " (--bayes, --sparse)", draws=None)
    _threshold_flags(select, " (--bayes, --sparse)")
    _figure_flags(select)
    _shared_flags(select, seed="root seed of every fit (default: a random one, printed and "
                               "recorded in the report)",
                  out="report directory (default: results/<data stem>_select)",
                  force="replace an earlier output of select in --out (never another kind "
                        "of bayesgmm output)")
    _strict_flag(select, "the tables and the report are still written", select=True)
    return parser


_DATA_HELP = ("CSV, TSV or Parquet file (or bundled:old_faithful, bundled:galaxies; '-' reads "
              "standard input)")


def _data_flags(parser: argparse.ArgumentParser) -> None:
    """The data, K and model flags that ``fit`` and ``em`` share."""
    parser.add_argument("data", help=_DATA_HELP)
    parser.add_argument("-k", "--components", type=_one_k, required=True, dest="n_components",
                        metavar="K", help="number of mixture components (required; to choose "
                                          "it, compare several with 'bayesgmm select -k 1-6')")
    _covariance_flag(parser)
    parser.add_argument("--columns", metavar="A,B",
                        help="comma-separated columns to use (default: all); a name with a "
                             "comma in double quotes: --columns '\"wt, g\",z'")
    _text_format_flags(parser)
    _observation_flags(parser)


def _text_format_flags(parser: argparse.ArgumentParser) -> None:
    """How a text data file writes its table, where its name does not say (QA106: a German
    Excel export, semicolons and decimal commas, could only be refused)."""
    parser.add_argument("--sep", metavar="CHAR",
                        help="the text file's separator: ',' ';' '|' or tab (default: tabs "
                             "for .tsv and .tab files, else commas)")
    parser.add_argument("--decimal", metavar="MARK",
                        help="the text file's decimal mark: '.' or ',' (default: '.'); "
                             "--sep ';' --decimal ',' reads a CSV as Excel writes it in "
                             "locales of decimal commas")
    parser.add_argument("--thousands", metavar="MARK",
                        help="the text file's thousands separator: ',' '.' \"'\" or space "
                             "(default: none); --thousands ',' reads 4,304 as US and UK "
                             "spreadsheets export it, --decimal ',' --thousands '.' 1.234,5")
    parser.add_argument("--encoding", metavar="NAME",
                        help="the text file's encoding (default: UTF-8): cp1252 reads Excel's "
                             "CSV as saved on Windows in Western Europe, utf-16 its Unicode "
                             "Text")


_MISSING = ("marginalise", "drop", "refuse")  # bayesgmm.io.MISSING_POLICIES (io loads pandas)
STDIN = "-"  # bayesgmm.io.tables.STDIN, likewise


def _missing_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--missing", choices=_MISSING, default=None, metavar="POLICY",
                        help="missing feature values (empty, NA, NaN cells): marginalise = "
                             "integrate them out, each point counting with its observed "
                             "coordinates (assumes they are missing at random); drop = drop "
                             "the rows that have any; refuse = stop with an error (default: "
                             "marginalise)")
    parser.add_argument("--dropna", action="store_true",
                        help="the same as --missing drop (kept for older scripts)")


def _observation_flags(parser: argparse.ArgumentParser, which: str = "") -> None:
    """Row IDs, missing values, weights, labels and noise: what ``fit``, ``em`` and ``select``
    (with ``which`` saying where they apply) know about rows."""
    parser.add_argument("--index", metavar="COLUMN",
                        help="a column of row IDs (sample names, say; each row its own, none "
                             "empty): not a feature; hints, tables and reports name rows by it. "
                             "Without it, rows are numbered from 0 in file order, header "
                             "excluded (the numbers read errors use too)")
    _missing_flags(parser)
    parser.add_argument("--weights", metavar="COLUMN",
                        help="a column of frequency weights (>= 0, summing to 2 or more): "
                             "a row with weight 3 counts as three identical rows; not a "
                             f"feature{which}")
    parser.add_argument("--labels", metavar="COLUMN",
                        help="a column of known labels (names or numbers; empty or -1 = "
                             "unknown; NA too where the column has no empty cell, as R "
                             "writes it; else NA is a name): a labelled row belongs to its "
                             "label's component, and the names (sorted) are given to "
                             f"components 0, 1, ...; at most K names; not a feature{which}")
    parser.add_argument("--noise", action="store_true",
                        help="add a uniform noise component over the data's bounding box "
                             f"(outliers and background points go there; P(noise) per "
                             f"point){which}")
    parser.add_argument("--noise-volume", type=_number, metavar="V",
                        help="with --noise: the volume of the noise density's region instead "
                             "of the bounding box's (in data units, product over the "
                             f"features){which}")
    parser.add_argument("--dequantise", type=_dequantise_steps, metavar="STEPS",
                        help="undo the rounding of measured values before fitting: add "
                             "uniform noise within half a step to each value (seeded by "
                             "--seed; the output says so). STEPS: auto (every column whose "
                             "values lie on a grid with ties), COLUMN=STEP pairs "
                             "(length=0.5,width=0.1), or one step for every column. For data "
                             "recorded to a unit (0.5 mm, whole minutes), where a component "
                             f"can collapse onto tied values{which}")


def _dequantise_steps(text: str) -> Any:
    """--dequantise: auto, a step, or COLUMN=STEP pairs (:func:`bayesgmm.rounding.parse_steps`)."""
    from .rounding import parse_steps

    try:
        return parse_steps(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--dequantise: ")) from None


def _sampling_flags(parser: argparse.ArgumentParser, which: str = "",
                    draws: int | str | None = "auto") -> None:
    """The sampler's flags; ``draws=None``: select's, whose default depends on the route
    (:func:`_select_draws`)."""
    default = "auto with --bayes, 1000 with --sparse" if draws is None else draws
    api = SamplerSettings()  # the API's defaults, stated once (QA125: restated here, a change
    # of the default target_accept left the command line's)
    parser.add_argument("--draws", type=_draws, default=draws,
                        help=f"draws per chain, or 'auto': sample until R-hat and ESS pass the "
                             f"thresholds{which} (default: {default})")
    parser.add_argument("--max-draws", type=_whole_number, default=None, metavar="N",
                        help=f"with --draws auto: draws per chain at most (default: "
                             f"{api.max_draws})")
    parser.add_argument("--max-time", type=_number, default=None, metavar="SECONDS",
                        help="with --draws auto: stop sampling after this many seconds "
                             "(warm-up included), converged or not; how far the chains get "
                             "then depends on the machine (default: no limit)")
    parser.add_argument("--metric", choices=METRICS, default="auto",
                        help="nutpie's metric: 'diag' (its diagonal adaptation), 'laplace' "
                             "(the same in coordinates whitened by the posterior's curvature "
                             "at its mode), or 'auto': laplace where the whitening is "
                             "cheap beside the density (parameters^2 <= 2 x rows x K x D) "
                             f"and the posterior close to Gaussian{which} (default: auto)")
    parser.add_argument("--tune", type=_whole_number, default=api.tune,
                        help=f"tuning steps per chain{which} (default: {api.tune})")
    parser.add_argument("--chains", type=_whole_number, default=api.chains,
                        help=f"chains{which} (default: {api.chains})")
    # QA: the divergence advice says "raise target_accept (e.g. 0.95)", which fit could not
    parser.add_argument("--target-accept", type=_number, default=api.target_accept,
                        metavar="P",
                        help="the step size's target acceptance rate, in (0, 1): higher means "
                             f"smaller steps, fewer divergences{which} (default: "
                             f"{api.target_accept})")
    parser.add_argument("--sampler", choices=SAMPLERS, default=api.sampler,
                        help=f"NUTS implementation{which} (default: {api.sampler})")
    _cores_flag(parser)


def _cores_flag(parser: argparse.ArgumentParser, default: str = "all the process may use", *,
                chains: bool = True) -> None:
    # run reads its draws from the spec (QA160 L7: "--draws auto", a flag run has not)
    auto = ("[sampler] draws = \"auto\"" if parser.prog.endswith(" run")
            else "--draws auto")
    sampler = (f"N chains run at once (with {auto} every chain still gets a thread, and "
               "the fit says so), and the kernels, the BLAS and the sampler's runtime get N "
               "threads each") if chains else "the EM kernels and the BLAS get N threads each"
    parser.add_argument("--cores", type=_whole_number, default=None, metavar="N",
                        help=f"use N cores at most: {sampler} (select: at most N --jobs "
                             f"workers); for jobs side by side on one node (default: {default})")


# The thread pools a fit may start (numba's kernels, OpenMP, the BLAS, nutpie's runtime), each
# sized by its variable when it starts: --cores sets them before any of them is loaded.
_THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                     "MKL_NUM_THREADS", "TOKIO_WORKER_THREADS", "RAYON_NUM_THREADS")


def _limit_threads(cores: int) -> None:
    """Size every thread pool of this process at ``cores`` (QA93: a 64-core node started 72
    threads per fit). A pool already running (numba's, where the command line runs inside a
    process that has used it) is narrowed through numba's own setter."""
    if cores < 1:
        raise ValueError(f"--cores {cores}: give 1 core or more")
    # a cap, never more threads than the process may use (QA100: --cores 8 on 2 cores
    # raised OpenBLAS from 2 threads to 8)
    cores = min(cores, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                else os.cpu_count() or cores)
    for name in _THREAD_VARIABLES:
        os.environ[name] = str(cores)
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.set_num_threads(min(cores, numba.config.NUMBA_NUM_THREADS))
    # NumPy's BLAS is loaded already (this module imports pandas), its pool sized: narrowed
    # here (QA98: --cores 1 left OpenBLAS at 2 threads)
    from threadpoolctl import threadpool_info, threadpool_limits

    running = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    threadpool_limits(limits=min([cores, *running]), user_api="blas")  # numba's: set above


def _threshold_flags(parser: argparse.ArgumentParser, which: str = "",
                     source: str = "") -> None:
    """The threshold flags; ``source``: where the value comes from when a flag is not given
    (e.g. "the spec's, else "), before the built-in default."""
    defaults = DiagnosticThresholds()
    group = parser.add_argument_group("diagnostic thresholds")
    group.add_argument("--rhat-max", type=_number, metavar="R",
                       help=f"largest acceptable R-hat{which} (default: {source}"
                            f"{defaults.rhat_max:g})")
    group.add_argument("--ess-min", type=_number, metavar="N",
                       help=f"smallest acceptable bulk and tail ESS{which} (default: {source}"
                            f"{defaults.ess_min:g})")
    group.add_argument("--ebfmi-min", type=_number, metavar="E",
                       help=f"smallest acceptable E-BFMI per chain{which} (default: {source}"
                            f"{defaults.ebfmi_min:g})")
    group.add_argument("--max-divergences", type=_whole_number, metavar="N",
                       help=f"divergent transitions tolerated{which} (default: {source}"
                            f"{defaults.max_divergences})")


def _figure_flags(parser: argparse.ArgumentParser, which: str = "", source: str = "") -> None:
    """--dpi and --vector: how the report's figures are written (``FigureFiles``)."""
    defaults = FigureFiles()
    group = parser.add_argument_group("report figures")
    group.add_argument("--dpi", type=_whole_number, metavar="N",
                       help=f"resolution of the figures' PNGs, e.g. 300 for print; the page "
                            f"shows them at the same size{which} (default: {source}"
                            f"{defaults.dpi})")
    group.add_argument("--vector", metavar="FORMATS",
                       help=f"also write every figure as vector graphics, figures/<name>."
                            f"{{{','.join(VECTOR_FORMATS)}}}; one or both, comma-separated"
                            f"{which} (default: {source}none)")


def _figure_files(args: argparse.Namespace, base: FigureFiles | None = None,
                  report: bool = True, how: str = "--report") -> FigureFiles:
    """The figure flags over ``base`` (the spec's, else the defaults), checked at once; given
    where no report is written (``report`` false) they are refused, not ignored (paper QA)."""
    if not report and (args.dpi is not None or args.vector is not None):
        raise ValueError(f"--dpi and --vector shape the report's figures, and this run writes "
                         f"no report: add {how}, or leave them out")
    base = base or FigureFiles()
    try:
        base = FigureFiles(base.dpi if args.dpi is None else args.dpi, base.vector_formats)
    except ValueError as exc:
        raise ValueError(f"--{exc}") from None
    try:
        return FigureFiles(base.dpi, base.vector_formats if args.vector is None else args.vector)
    except ValueError as exc:
        raise ValueError(f"--vector: {exc}") from None


def _thresholds(args: argparse.Namespace, base: DiagnosticThresholds | None = None
                ) -> DiagnosticThresholds:
    """The thresholds: ``base`` (default ones) with the flags that were given."""
    base = base or DiagnosticThresholds()
    given = {name: getattr(args, name) for name in ("rhat_max", "ess_min", "ebfmi_min",
                                                     "max_divergences")
             if getattr(args, name, None) is not None}
    try:
        return DiagnosticThresholds.from_dict({**base.to_dict(), **given})
    except ValueError as exc:
        raise ValueError(f"--{str(exc).replace('_', '-')}") from None


def _sampler_settings(args: argparse.Namespace) -> SamplerSettings:
    """The sampler flags as SamplerSettings, with every check the fit would make (what the
    sampler cannot run included), so that a bad flag fails before the data are read."""
    _check_sampling(args)
    try:
        settings = SamplerSettings(sampler=args.sampler, draws=args.draws, tune=args.tune,
                                   chains=args.chains, target_accept=args.target_accept,
                                   progressbar=not args.no_progress, cores=args.cores,
                                   # the API's default, as --help says (QA146 L7)
                                   max_draws=SamplerSettings().max_draws
                                   if args.max_draws is None else args.max_draws,
                                   max_time=getattr(args, "max_time", None),
                                   metric=getattr(args, "metric", "auto"))
        settings.check_runnable()
    except ValueError as exc:
        raise ValueError(_flag_words(str(exc))) from None
    return settings


def _flag_words(message: str) -> str:
    """An API message about sampler settings in the command line's words: ``tune=1`` is
    ``--tune 1``, ``sampler='pymc'`` is ``--sampler pymc``, a leading ``tune`` is ``--tune``."""
    names = "draws|tune|chains|sampler|max_draws|target_accept|metric"
    message = re.sub(rf"\b({names})=('?)([\w.]+)\2",
                     lambda m: f"--{m[1].replace('_', '-')} {m[3]}", message)
    return re.sub(rf"^({names})\b", lambda m: f"--{m[1].replace('_', '-')}", message)


def _strict_flag(parser: argparse.ArgumentParser, kept: str = "the result is still saved",
                 select: bool = False) -> None:
    what = ("no candidate is fit to choose from: every EM cell degenerate or unfitted, with "
            "--bayes every posterior's verdict PROBLEMS, or with --sparse its verdict "
            "PROBLEMS" if select
            else "the diagnostics verdict is PROBLEMS")
    parser.add_argument("--strict", action="store_true",
                        help=f"exit with status {EXIT_PROBLEMS} when {what} ({kept}); default: "
                             + ("exit 0 (settings.json's status says it)" if select else
                                "exit 0 and print the verdict"))


def _covariance_type(text: str) -> str:
    """--covariance of fit and em: one type (QA: an mclust name was refused without a hint;
    argparse's own message for the others)."""
    hint = mclust_hint(text) if text not in COVARIANCE_TYPES else ""
    if hint:
        raise argparse.ArgumentTypeError(f"{text!r} is not a covariance type{hint}")
    return text


def _covariance_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--covariance", choices=COVARIANCE_TYPES, default="full",
                        type=_covariance_type,
                        help="covariance structure: full (each component its own), tied (one "
                             "shared), diag (axis-aligned), spherical (one variance per "
                             "component) (default: full)")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bayesgmm")
    except PackageNotFoundError:  # a source tree without installation
        return "0+unknown"


_FIT_EXAMPLES = """examples:
  bayesgmm fit bundled:old_faithful -k 2 --seed 1 --report
      two full-covariance components; results/old_faithful_k2/report.html
  bayesgmm fit data.csv -k 3 --columns x,y --covariance diag --out fits/xy3
      the result in fits/xy3; its numbers, one row per parameter, in fits/xy3/estimates.csv;
      each row's component and membership probabilities in fits/xy3/memberships.csv
  bayesgmm fit data.csv -k 3 --draws 2000 --tune 2000 --chains 4 --force
      longer chains, replacing an earlier result in results/data_k3
  bayesgmm fit data.csv -k 3 --weights count --labels species --noise
      frequency weights and partly known labels from two columns, plus a noise component;
      empty cells are integrated out (--missing drop drops their rows instead)
"""

_RUN_EXAMPLES = """examples:
  bayesgmm spec model.toml --data data.csv && bayesgmm run model.toml
      a specification with every key explained, for data.csv; results/model beside it
  bayesgmm run models/old_faithful.toml
      (in the source tree) the bundled Old Faithful, K=2, with report.html
  bayesgmm run model.toml --strict --force
      exit status 3 when the verdict is PROBLEMS; replace an earlier result
"""

_SPEC_EXAMPLES = """examples:
  bayesgmm spec model.toml && bayesgmm run model.toml
      every key with its default; as written it fits the bundled Old Faithful, K=2
  bayesgmm spec model.toml --data measurements.csv
      [data] names measurements.csv and lists its numeric columns: edit K and run
"""

_REPORT_EXAMPLES = """examples:
  bayesgmm fit bundled:old_faithful -k 2 --seed 1
  bayesgmm report results/old_faithful_k2
      the saved fit's report.html and figures/*.png, written into its directory again
  bayesgmm report results/old_faithful_k2 --rhat-max 1.005 --ess-min 1000 --strict
      judged by stricter thresholds; exit status 3 when the verdict is PROBLEMS
  bayesgmm report results/old_faithful_k2 --dpi 300 --vector pdf
      figures for a paper: 300-dpi PNGs and figures/*.pdf
"""

_SELECT_EXAMPLES = """examples:
  bayesgmm select bundled:old_faithful -k 1-4 --seed 1
      BIC, AIC and ICL of EM fits for K = 1..4 and every covariance type;
      results/old_faithful_select/select.html
  bayesgmm select bundled:galaxies -k 2-5 --covariance full,diag --bayes --seed 1
      also the posterior for every K, compared by PSIS-LOO
  bayesgmm select data.csv -k 1-6 --sparse 8 --seed 1 --out fits/k_choice --force
      also a sparse mixture of 8 components: the posterior of the number in use;
      replacing an earlier select output in fits/k_choice
"""

_WARM_EXAMPLES = """examples:
  bayesgmm warm
      once after installing (make install runs it); seconds when the cache is warm
"""

_EM_EXAMPLES = """examples:
  bayesgmm em bundled:old_faithful -k 2
  bayesgmm em data.csv -k 3 --seed 1 --out fits/em3
      the fit and its estimates, one row per parameter, in fits/em3/estimates.csv;
      each row's component and P(component k | x) in fits/em3/memberships.csv
  bayesgmm em bundled:galaxies -k 3 --seed 1 --report --out results/galaxies_em
      the report, the fit and its estimates (results/galaxies_em/estimates.csv)
  bayesgmm em data.csv -k 3 --labels species --noise --report
      known labels (empty = unknown) and a uniform noise component, P(noise) in the report
"""


def _shared_flags(parser: argparse.ArgumentParser, *, seed: str | None = None,
                  progress: str = "no progress bars or status lines", out: str | None = None,
                  force: str | None = None, report: str | None = None) -> None:
    """The flags several commands share, each with its command's help (None: not a flag of
    this command); every command has --no-progress."""
    if seed is not None:
        parser.add_argument("--seed", type=_whole_number, default=None, metavar="S", help=seed)
    parser.add_argument("--no-progress", action="store_true", help=progress)
    if out is not None:
        parser.add_argument("-o", "--out", metavar="DIR", type=_directory, help=out)
    if force is not None:
        parser.add_argument("--force", action="store_true", help=force)
    if report is not None:
        parser.add_argument("--report", action="store_true", help=report)


def _seed_words(seed: int, drawn: bool, repeat: str = "") -> str:
    """The header's seed: a drawn one with how to repeat the run (QA150 L1: the saved
    command line, without it, gives other draws)."""
    if not drawn:
        return f"seed {seed}"
    return f"seed {seed} (drawn at random; {repeat or f'--seed {seed}'} repeats this run)"


def _record_seed_drawn(result: Any, drawn: bool) -> Any:
    """``result`` saying whether the seed was drawn here (and printed), in its record and in
    its EM start's, which was fitted with it (QA: em.json said ``seed_drawn: false`` beside
    result.json's true)."""
    em = replace(result.em, settings={**(result.em.settings or {}), "seed_drawn": drawn})
    return replace(result, em=em, settings={**result.settings, "seed_drawn": drawn})


def _cmd_fit(args: argparse.Namespace) -> int:
    # every flag, and the output directory, before the data are read
    _check_k(args.n_components, None, args.data)
    columns = _columns(args.columns)
    seed = check_seed(args.seed, "--seed")
    settings = _sampler_settings(args)
    thresholds = _thresholds(args)
    figure_files = _figure_files(args, report=args.report)
    out = expand_home(args.out) if args.out else default_output(args.data, args.n_components)
    # before reading or fitting anything: a bad output path fails in seconds, not minutes
    _checked_observation_flags(args)
    check_writable(out, overwrite=args.force, protect=_inputs(args.data),
                   writes="BayesResult", by="bayesgmm fit", other="--out")
    _check_index_name(args.index)
    notes: list[str] = []  # printed once the data have passed every check
    seed = seed if seed is not None else draw_seed()  # printed, so repeatable
    frame, observed, names = _read_observations(args.data, columns, args, args.n_components,
                                                seed=seed, notes=notes)
    _check_columns(frame, args.covariance, "--columns")
    print(f"{_data_header(args.data, frame)}"
          f"{_named_by(args.index)}; K={args.n_components}, "
          f"{covariance_words(args.covariance, frame.shape[1])}; "
          f"{_seed_words(seed, args.seed is None)}")
    _print_notes(notes)  # after the header, which names the data
    _check_room(out, settings, frame.shape, args.n_components)
    result = fit_bayes(frame, args.n_components, covariance_type=args.covariance,
                       random_state=seed, settings=settings, thresholds=thresholds, **observed)
    result = _record_seed_drawn(result, args.seed is None)
    _name_components(result, names)
    diag, check = _print_result(result, thresholds)
    _print_observations(result, names)
    _print_noise_rows(result, frame, observed, index=args.index)
    hint, hint_rows = _print_noise_hint(result.em, frame, observed, index=args.index)
    _print_outliers_first(hint, diag, frame, observed)
    shape = _print_shape_hint(result.em, frame, observed)
    _save(result, out, force=args.force, report=args.report,
          data_source=_shown(args.data), thresholds=thresholds, diagnostics=diag,
          predictive_check=check, outliers=hint, outlier_rows=hint_rows, shape=shape,
          rows=_rows_setting(args.index), figure_files=figure_files, data_file=args.data,
          index=args.index, weights=args.weights, labels=args.labels, reading=args)
    return _strict_status(args, diag)


def _check_room(out: Path, settings: Any, shape: tuple[int, int], K: int) -> None:
    """Room for the result before sampling (QA117 M1: a full disk was found after the run):
    the least it will need, its draws (raw and relabelled, full covariances), the sampler's
    statistics and the pointwise log-likelihood where it is stored, at the draws asked for
    (``draws="auto"``: its first checkpoint, 1,000 per chain)."""
    from .result_files import check_room
    from .sampling import stores_log_likelihood

    N, D = shape
    draws = settings.draws if isinstance(settings.draws, int) else min(1000, settings.max_draws)
    values = settings.chains * draws * (2 * (K + K * D + K * D * D) + 10)
    if stores_log_likelihood(settings.chains, draws, N):
        values += settings.chains * draws * N
    check_room(out, 8.0 * values)


def _directory(text: str) -> str:
    """--out: a directory's path (an empty one would silently mean the default)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a directory; got an empty path (leave "
                                         "--out out for the default)")
    return text


def _one_k(text: str) -> int:
    """-k of fit and em: one whole number (QA: "-k 2-3" got argparse's "invalid int value")."""
    try:
        k = int(text.strip())
    except ValueError:
        several = re.fullmatch(r"\s*\d+\s*([-,]\s*\d+\s*)+", text) is not None
        raise argparse.ArgumentTypeError(
            f"{text!r}: this command fits one number of components" + (
                f"; to compare several, run 'bayesgmm select -k {text.strip()}'" if several
                else " (a whole number such as 2)")) from None
    return k


def _whole_number(text: str) -> int:
    """A count or seed flag (QA: argparse's bare "invalid int value: '1e3'")."""
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number such as 4; got {text!r}") from None


def _number(text: str) -> float:
    """A numeric flag; the API checks its range (QA: argparse's bare "invalid float value")."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.9; got {text!r}") from None


def _reg_covar_flag(parser: argparse.ArgumentParser, which: str = "") -> None:
    """--reg-covar: what the messages of a fit that fails numerically ask to increase (QA:
    "increase reg_covar" with no option to do it)."""
    parser.add_argument("--reg-covar", type=_reg_covar, default=None, metavar="R",
                        help="added to each covariance's diagonal, in the data's units, to "
                             "keep it positive definite" + which + " (default: 1e-6, or "
                             "1e-6 of the smallest column variance when that is below 1, as "
                             "fit_em chooses)")


def _reg_covar(text: str) -> float:
    """--reg-covar: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0 <= value <= MAX_REG_COVAR):  # fit_em's limit
        limit = f"{MAX_REG_COVAR:.0e}".replace("e+", "e")  # 1e150, as a user types it
        raise argparse.ArgumentTypeError(f"expected a number >= 0 and at most {limit}, e.g. "
                                         f"1e-4; got {text!r}")
    return value


def _draws(text: str) -> int | str:
    """--draws: a positive integer or 'auto' (checked by SamplerSettings)."""
    text = text.strip().lower()
    try:
        return text if text == "auto" else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of draws or 'auto'; got {text!r}") from None


def _cmd_em(args: argparse.Namespace) -> int:
    # --out alone saves the fit and its estimates.csv; --report adds the report; neither
    # writes nothing (the estimate is printed)
    writes = bool(args.report or args.out)
    if args.force and not writes:
        raise ValueError("--force replaces an earlier output of em: give --out DIR (the fit "
                         "and estimates.csv) or --report")
    # every flag, and the output directory, before the data are read
    _check_k(args.n_components, None, args.data)
    columns = _columns(args.columns)
    _check_n_init(args.n_init)
    check_seed(args.seed, "--seed")
    figure_files = _figure_files(args, report=args.report)
    _checked_observation_flags(args)
    out = expand_home(args.out) if args.out else default_output(
        args.data, suffix=f"em_k{args.n_components}")
    if writes:  # the whole check the write will make, before any fitting
        check_writable(out, overwrite=args.force, protect=_inputs(args.data),
                       writes="EMResult", by="bayesgmm em", other="--out")
        _check_index_name(args.index)
    notes: list[str] = []  # printed once the data have passed every check
    seed = args.seed if args.seed is not None else draw_seed()
    frame, observed, names = _read_observations(args.data, columns, args, args.n_components,
                                                seed=seed, notes=notes)
    _check_columns(frame, args.covariance, "--columns")
    print(f"{_data_header(args.data, frame)}"
          f"{_named_by(args.index)}; K={args.n_components}, "
          f"{covariance_words(args.covariance, frame.shape[1])}; {args.n_init} EM restarts "
          f"from k-means++ and {args.n_init} from random data points; "
          f"{_seed_words(seed, args.seed is None)}")
    _print_notes(notes)  # after the header, which names the data
    from .em import BOTH_INITS, fit_em  # after the checks (numba loads); never PyMC

    with progress.step(f"fitting EM ({2 * args.n_init} restarts)"):
        em = fit_em(frame, args.n_components, covariance_type=args.covariance,
                    n_init=args.n_init, init=BOTH_INITS, random_state=seed,
                    reg_covar=args.reg_covar, **observed)
    # The record saved with the fit (em.json) says which data and how they were read (QA:
    # neither the file nor the --weights column was there); the report shows it.
    em = replace(em, settings={**em.settings, **({"seed_drawn": True} if args.seed is None
                                                  else {}),
                               **_data_record(_shown(args.data), args.data, args.index,
                                              args.weights, args.labels, args)})
    bic, aic = _em_criteria(em, frame)  # in em.json as printed (QA77: the console only)
    em = replace(em, settings={**em.settings, "criteria": {
        "log_likelihood": em.log_likelihood, "n_parameters": em.n_parameters, "bic": bic,
        "aic": aic}})
    _name_components(em, names)
    _print_em(em, frame, observed.get("sample_weight"))
    _print_observations(em, names)
    _print_noise_rows(em, frame, observed, index=args.index)
    _print_noise_hint(em, frame, observed, index=args.index)
    _print_shape_hint(em, frame, observed)
    # the rows fitted (a row with no observed value, or with any missing under "drop", has
    # no place in the figures or memberships.csv)
    nan = frame.isna().to_numpy()
    kept = ~(nan.any(axis=1) if observed.get("missing") == "drop" else nan.all(axis=1))
    labels, weights = observed.get("labels"), observed.get("sample_weight")
    # the kept rows by their file names: IDs (--index), else positions in the file
    rows = frame.index.to_numpy()[kept] if args.index else kept.nonzero()[0]
    tables = _result_tables(em, args.index, X=frame.loc[kept], rows=rows,
                            labels=None if labels is None else labels[kept],
                            sample_weight=None if weights is None else weights[kept])
    if args.report:
        _use_agg()
        # the step before the import (QA136 L2: matplotlib and ArviZ loading, 10.7 s silent)
        with progress.step("writing the report", inner_details=False):
            from .report import write_em_report

            def write(directory: Path) -> Path:
                return write_em_report(
                    em, frame.loc[kept], directory, data_source=_shown(args.data), rows=rows,
                    settings={"seed": seed, "EM restarts (per seeding)": args.n_init,
                              "row names": _rows_setting(args.index),
                              **_observation_settings(args, names, labelled=False)},
                    labels=None if labels is None else labels[kept],
                    sample_weight=None if weights is None else weights[kept],
                    dpi=figure_files.dpi, vector_formats=figure_files.vector_formats)

            # the fit itself and its estimates beside its report, written together (PyMC
            # never loads)
            _save_em(em, Path(out), args.force, write, tables)
        print(f"\nreport: {Path(out) / 'report.html'}")
    elif writes:
        _save_em(em, Path(out), args.force, None, tables)
    if writes:
        _published.append(Path(out))
        print(f"{'' if args.report else chr(10)}saved the EM fit to {out} (bayesgmm.load "
              f"reads it back)")
        _print_tables(Path(out), args.index)
    return 0


def _cmd_spec(args: argparse.Namespace) -> int:
    from .io.specs import spec_template, write_spec_template

    if args.file is None:
        if args.force:
            raise ValueError("--force replaces an existing FILE: give the FILE to write")
        print(spec_template(args.data, sep=args.sep, decimal=args.decimal,
                            encoding=args.encoding, thousands=args.thousands), end="")
        return 0
    written = write_spec_template(args.file, args.data, overwrite=args.force, sep=args.sep,
                                  decimal=args.decimal, encoding=args.encoding,
                                  thousands=args.thousands)
    print(f"wrote {written}: edit it, then `bayesgmm run {shlex.quote(str(written))}`")
    return 0


def _cmd_warm(args: argparse.Namespace) -> int:
    from .warm import warm

    timing = warm(show=not args.no_progress)
    print("kernels ready: " + ", ".join(f"{k} {v:.1f} s" for k, v in timing.items()))
    return 0


def _print_em(em, frame, sample_weight=None) -> None:
    bic, aic = _em_criteria(em, frame)
    from .em import gain_left_words, is_degenerate, restarts_reached

    # as select_em excludes such a fit (small-sample QA: a K=3 fit with a 2-point component
    # printed "BIC 208.03 (lower is better)" below the true K=2's 221.64)
    degenerate = em.prior is None and is_degenerate(em, frame, sample_weight)
    # two decimals each, with thousands separators, as the report prints them
    print(f"\nEM: log-likelihood {em.log_likelihood:,.2f} after {em.n_iter} iterations "
          f"(converged: {'yes' if em.converged else 'no'}); BIC {bic:,.2f}, AIC {aic:,.2f} "
          "(lower is better"
          + ("; not comparable: a component is empty, too small for its covariance or "
             "collapsed (see the warning), so bayesgmm select would exclude this fit)"
             if degenerate else ")"))
    if gain_left_words(em.gain_left):  # QA83: 1.15+ units short at N=1e6, K=6, unsaid
        print(gain_left_words(em.gain_left))
    at_best = (em.settings or {}).get("restarts_at_best")
    if at_best:
        print(restarts_reached(at_best, (em.settings or {}).get("rival_optimum")))
    passed_over = (em.settings or {}).get("degenerate_restarts_passed_over")
    if passed_over:
        print(f"{passed_over} restart(s) reached a higher log-likelihood only by collapsing a "
              "component (a spurious singularity) and were passed over: the best proper fit "
              "is kept")
    if em.noise:
        print(f"noise weight {format_number(em.noise_weight)} (the Gaussians' weights sum to "
              f"{format_number(em.weights.sum())})")
    # em.warnings were shown on stderr as the fit raised them ("bayesgmm: warning: ...").
    _print_estimate(em, "in estimates.csv (with --out or --report) and the report's table; "
                        "in Python bayesgmm.estimates_table(em)")


def _print_estimate(em, where: str) -> None:
    """An EM fit's weights, means, sds and correlations, a column per component; beyond
    :data:`_CONSOLE_ROWS` rows only the weights and means, and ``where`` the others are (QA97:
    518 lines for D=30, the criteria tables scrolled away)."""

    names = list(em.feature_names)
    rows = {"weight": em.weights}
    for i, f in enumerate(names):
        rows[f"mean[{f}]"] = em.means[:, i]
    sd, corr = sd_and_correlation(em.full_covariances)  # (K, D), (K, D, D)
    # as the reports' tables: one sd of every feature for spherical, and no correlations
    # where the type has none (QA: "corr 0 0 0" rows, and sd[p] = sd[q] twice)
    if em.covariance_type == "spherical":
        rows["sd (every feature)"] = sd[:, 0]
    else:
        for i, f in enumerate(names):
            rows[f"sd[{f}]"] = sd[:, i]
    for i in range(len(names) if has_correlations(em.covariance_type) else 0):
        for j in range(i + 1, len(names)):
            rows[f"corr[{names[i]}, {names[j]}]"] = corr[:, i, j]
    table = pd.DataFrame(rows).T
    from .observation_record import component_titles

    table.columns = [f"component {k}" for k in component_titles(em, em.n_components)]
    left_out = 0
    if len(table) > _CONSOLE_ROWS:
        kept = table.index.str.startswith(("weight", "mean"))
        table, left_out = table[kept], int((~kept).sum())
    # Numbers as the reports print them (33,004, not 3.3e+04 beside 514.8).
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        # point estimates to 4 significant digits, zeros kept ("0.1440" beside "0.2123")
        print(table.astype(object).map(lambda v: format_number(v, keep_zeros=True))
              .to_string())
    if left_out:
        print(f"({left_out} more rows, the sds and correlations: {where})")


def _check_sampling(args: argparse.Namespace) -> None:
    if args.draws != "auto" and args.draws < 1:
        raise ValueError(f"--draws must be >= 1 or 'auto'; got {args.draws}")
    if args.max_draws is not None:
        if args.max_draws < 1:
            raise ValueError(f"--max-draws must be >= 1; got {args.max_draws}")
        if args.draws != "auto":
            raise ValueError(f"--max-draws bounds --draws auto; with --draws {args.draws} the "
                             "run draws exactly that many: give one of the two")
    max_time = getattr(args, "max_time", None)
    if max_time is not None:
        if not 0 < max_time < float("inf"):
            raise ValueError(f"--max-time must be a number of seconds > 0; got {max_time:g}")
        if args.draws != "auto":
            raise ValueError(f"--max-time bounds --draws auto; with --draws {args.draws} the "
                             "run draws exactly that many: give one of the two")
    for name in ("chains",):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be >= 1; got {getattr(args, name)}")
    if args.tune < 0:
        raise ValueError(f"--tune must be >= 0; got {args.tune}")


def _cmd_run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    thresholds = _thresholds(args, spec.thresholds)
    figure_files = _figure_files(args, spec.figure_files, report=spec.report,
                                 how="report = true to the spec's [output]")
    # without [output]: results/<spec stem> beside the spec, as every path in a spec is
    # relative to it (it was the working directory's: `cd / && bayesgmm run ...` wrote /results)
    out = Path(spec.output) if spec.output else spec.path.parent / "results" / spec.path.stem
    check_writable(out, overwrite=args.force, protect=[spec.path, *_inputs(spec.data_path)],
                   writes="BayesResult", by="bayesgmm run", other="[output] directory")
    _check_index_name(spec.index, "[data] index")
    notes: list[str] = []  # printed once the data have passed every check
    # drawn here when the spec has none, and printed: the run can be repeated with it
    seed = spec.seed if spec.seed is not None else draw_seed()
    reading = _SpecObservations(spec)  # and, once read, the data's fingerprint (QA117 H1)
    frame, observed, names = _read_observations(
        spec.data_path, spec.columns, reading, spec.n_components, seed=seed, notes=notes)
    _check_columns(frame, spec.covariance_type, "[data] columns")
    if spec.ordered_means and frame.shape[1] != 1:  # before PyMC loads (QA: named "X")
        raise ValueError(f"[model] ordered_means = true is for 1-D data only; "
                         f"{spec.raw['data']['path']} has {frame.shape[1]} columns: set "
                         "ordered_means = false, or name one column in [data] columns")
    print(f"{spec.path.name}: {spec.data_path}: {len(frame)} rows x {frame.shape[1]} column(s) "
          f"{list(frame.columns)}{_named_by(spec.index)}; K={spec.n_components}, "
          f"{covariance_words(spec.covariance_type, frame.shape[1])}; "
          f"{_seed_words(seed, spec.seed is None, 'seed = ' + str(seed) + ' in [sampler]')}; "
          f"output: {out}")
    _print_notes(notes)  # after the header, which names the data
    settings = spec.sampler_settings
    if args.no_progress:
        settings = settings.replace(progressbar=False)
    if args.cores is not None:
        settings = settings.replace(cores=args.cores)
    _check_room(out, settings, frame.shape, spec.n_components)
    result = fit_bayes(
        frame, spec.n_components, covariance_type=spec.covariance_type, priors=spec.priors,
        random_state=seed, ordered_means=spec.ordered_means, settings=settings,
        thresholds=thresholds, **observed,
    )
    result = _record_seed_drawn(result, spec.seed is None)
    _name_components(result, names)
    diag, check = _print_result(result, thresholds)
    _print_observations(result, names)
    _print_noise_rows(result, frame, observed, index=spec.index,
                      index_option='index = "COLUMN" in [data]')
    hint, hint_rows = _print_noise_hint(result.em, frame, observed,
                                        option="noise = true in the specification's [data] table",
                                        index=spec.index,
                                        index_option='index = "COLUMN" in [data]')
    _print_outliers_first(hint, diag, frame, observed)
    shape = _print_shape_hint(result.em, frame, observed,
                              option='covariance_type = "{}" in the specification\'s [model]',
                              k_option="n_components = {} in the specification's [model]")
    # The page is titled by the data, as fit's is; the spec is named in its settings.
    _save(result, out, force=args.force, report=spec.report,
          data_source=f"{spec.raw['data']['path']} (specification {spec.path.name})",
          thresholds=thresholds, diagnostics=diag, predictive_check=check, outliers=hint,
          outlier_rows=hint_rows, shape=shape,
          rows=_rows_setting(spec.index, 'index = "COLUMN" in [data]'), figure_files=figure_files,
          data_file=spec.data_path, index=spec.index,
          index_option='index = "COLUMN" in [data]', weights=spec.weights, labels=spec.labels,
          reading=reading)
    return _strict_status(args, diag)


def _cmd_report(args: argparse.Namespace) -> int:
    directory = expand_home(args.directory)
    _thresholds(args)  # bad threshold flags fail before the result loads
    figure_files = _figure_files(args)
    if directory.name in ("", ".", ".."):  # name it, so that the message says what it is
        directory = directory.resolve()
    if not directory.exists():
        raise ValueError(f"{directory} not found: give the directory that fit or run saved"
                         f"{missing_hint(directory)}")
    if not (directory / "manifest.json").is_file():  # at once, before ArviZ loads
        raise ValueError(f"{directory} is not a saved bayesgmm result (no manifest.json)")
    from .result_files import check_saved

    # its kind from the manifest and its files' checksums, at once (QA: an EM result was
    # refused after 7-30 s of loading ArviZ and the report's modules, in silence), so that
    # no status line comes before an input error
    kind = check_saved(directory).get("kind")
    if kind == "EMResult":
        raise ValueError(f"{directory} holds an EM result; this report needs a Bayesian fit "
                         "(an EM fit's report is rebuilt with the data: bayesgmm em DATA -k K "
                         f"--report --out {directory} --force)")
    if kind != "BayesResult":
        what = {"Report": "report only (no fit beside it)",
                "SelectionReport": "model-selection output (bayesgmm select)"}.get(kind, kind)
        raise ValueError(f"{directory} holds a bayesgmm {what}, not a saved fit: give the "
                         "directory that fit or run saved")
    # The report is rebuilt beside the result and swapped in: checked before anything is
    # loaded (QA: refused after 4-8 s of diagnostics when the directory held a folder of
    # the user's)
    check_writable(directory, overwrite=True, writes="posterior report", by="bayesgmm report")
    # on a terminal: off one, a status line never comes before an input error, and reading
    # the files can still find one (a damaged em.json)
    if sys.stderr.isatty():
        progress.say("loading ArviZ and the saved result...")
    _use_agg()
    from .report import write_report

    result = load(directory)
    thresholds = _thresholds(args, result.thresholds)  # the flags over the fit's own
    diag = _diagnose(result, thresholds)
    check = _model_check(result)
    html = write_report(result, directory, thresholds=thresholds, diagnostics=diag,
                        predictive_check=check, dpi=figure_files.dpi,
                        vector_formats=figure_files.vector_formats)
    _published.append(directory)
    _print_verdict(diag)  # the page's verdict: a changed threshold can change it
    _print_model_check(check, not diag.ok)
    from .verdict import Verdict, model_evidence

    # the page's box: the model checks' refits are the report's, cached (QA68: the console
    # said "Diagnostics: OK" of a fit whose box said CAUTION, naming 45 rows for a noise
    # component)
    verdict = Verdict.from_parts(diag, check, **model_evidence(result))
    if verdict.status != verdict.sampling_status:
        print(f"\nVerdict: {verdict.status}, as the report's box says: the sampling checks "
              "pass, but the model is in question:")
        for reason in verdict.reasons()[1:]:
            print(f"  - {reason}")
    else:
        _print_same_verdict(verdict, "the report's box says")
    print(f"\nreport: {html}")
    _say_missing_tables(directory)
    return _strict_status(args, diag)


def _say_missing_tables(directory: Path) -> None:
    """The shell's tables that the result was saved with and are gone or changed since
    (downstream QA: a deleted memberships.csv went unmentioned while the report pointed to
    it; QA64: an edited estimates.csv stood beside a fresh report that contradicted it)."""
    from .result_files import changed_since_saved, read_manifest

    manifest = read_manifest(directory)
    listed = manifest.get("files", [])
    for name, how in (("estimates.csv", "bayesgmm.load(DIR).summary()"),
                      ("memberships.csv", "bayesgmm.membership_table(bayesgmm.load(DIR))")):
        if name in listed and not (directory / name).is_file():
            print(f"note: {name}, saved with the result, is missing from {directory} (not "
                  f"rebuilt; in Python, {how} gives its numbers)")
        elif name in listed and changed_since_saved(directory, manifest, name):
            print(f"note: {name} in {directory} was changed after it was saved (its SHA-256 "
                  "differs from the manifest's): the report's numbers come from the saved "
                  f"posterior, not from it (in Python, {how} gives them as saved)")


def _cmd_select(args: argparse.Namespace) -> int:
    ranges = parse_components(args.components)
    covariance_types = _covariance_types(args.covariance)
    _check_select_flags(args, ranges)
    figure_files = _figure_files(args)
    out = expand_home(args.out) if args.out else default_output(args.data, suffix="select")
    _checked_observation_flags(args)
    # before reading or fitting anything: a bad output path fails in seconds, not minutes
    check_writable(out, overwrite=args.force, protect=_inputs(args.data),
                   writes="SelectionReport", by="bayesgmm select", other="--out")
    notes: list[str] = []  # printed once the data have passed every check
    seed = args.seed if args.seed is not None else draw_seed()
    frame, observed, names = _read_observations(args.data, _columns(args.columns), args,
                                                max(r[-1] for r in ranges), seed=seed,
                                                notes=notes)
    if names and min(r[0] for r in ranges) < len(names):
        raise ValueError(f"--labels {args.labels!r} names {len(names)} components "
                         f"({', '.join(names)}): every K in -k must be at least {len(names)}")
    if names and args.sparse is not None and args.sparse < len(names):
        raise ValueError(f"--labels {args.labels!r} names {len(names)} components: --sparse "
                         f"K_MAX must be at least {len(names)}")
    if args.bayes or args.sparse is not None:  # before any fitting: LOO and K+ need counts
        from .selection.sweep import frequency_counts

        frequency_counts(observed.get("sample_weight"), f"--{'bayes' if args.bayes else 'sparse'}"
                         f" with --weights {args.weights!r}")
    ks = _grid(ranges, frame, args.data)
    if args.sparse is not None:
        _check_k(args.sparse, frame, args.data, "--sparse", selecting=True)
    _check_columns(frame, "full" if any(map(has_correlations, covariance_types)) else "diag",
                   "--columns", select=True)
    _use_agg()
    from .report import SELECTION_REPORT_NAME, k_plus_table, write_selection_report
    from .selection.sweep import one_feature_types

    # the types fitted (QA: "full, tied, diag, spherical" for one feature, where diag and
    # spherical are full and fitted once, as the notes say)
    fitted = one_feature_types(covariance_types)[0] if frame.shape[1] == 1 else \
        covariance_types
    print(f"{_data_header(args.data, frame)}"
          f"{_named_by(args.index)}; K = {', '.join(map(str, ks))}; "
          f"{', '.join(fitted)} covariances; {args.n_init} EM restarts per cell from "
          f"each of k-means++ and random data points; {_seed_words(seed, args.seed is None)}")
    _print_notes(notes)  # after the header, which names the data
    print()
    settings = {"data": _shown(args.data), "data file SHA-256": _data_digest(args, args.data),
                "columns": ", ".join(map(str, frame.columns)), "rows": format_count(len(frame)),
                "row names": _rows_setting(args.index),
                **{name: value for name, value in (("separator", args.sep),
                                                    ("decimal mark", args.decimal),
                                                    ("thousands separator", args.thousands),
                                                    ("encoding", args.encoding)) if value},
                "command line": _command_line,
                **_observation_settings(args, names), "K": args.components,
                "covariance types": ", ".join(covariance_types),
                "EM restarts (per seeding)": args.n_init, "jobs": args.jobs}
    from .em import BOTH_INITS

    em = select_em(frame, ks, covariance_types, n_init=args.n_init, init=BOTH_INITS,
                   random_state=seed, n_jobs=args.jobs, verbose=1,
                   reg_covar=args.reg_covar, **observed)
    for fit in em.fits.values():  # the report's figure of the chosen fit names them
        _name_components(fit, names)
    # what ran: with one feature some types are one model and fitted once (the notes say);
    # quick cells run in this process whatever --jobs says (QA: "2 workers" that never ran)
    settings.update({"covariance types": ", ".join(em.table["covariance_type"].unique()),
                     "jobs": _jobs_setting(args.jobs, em), **_em_rules(em, args.reg_covar)})
    with pd.option_context("display.width", 120):
        print(em)
    if "bic" in em.best:  # QA81: the notes name its components; mclust prints them too
        k, covariance_type = em.best["bic"]
        print(f"\nBIC's choice, K={k} {covariance_type}, the components the notes number:")
        # (QA98: a command line spelled out here left out this run's data flags)
        _print_estimate(em.fits[em.best["bic"]], f"bayesgmm em with this run's data flags and "
                        f"-k {k} --covariance {covariance_type} --out DIR writes them to "
                        f"DIR/estimates.csv; in Python bayesgmm.estimates_table(selection.fits"
                        f"[({k}, {covariance_type!r})])")
    if "bic" in em.best:  # outliers would bend every cell alike: once, for the BIC-best fit
        _print_noise_hint(em.fits[em.best["bic"]], frame, observed, index=args.index,
                          about=f"BIC's best, K={em.best['bic'][0]} {em.best['bic'][1]}")
    bayes = sparse = None
    if args.bayes or args.sparse is not None:
        if "bic" not in em.best:
            raise ValueError("no EM fit succeeded, so there is no covariance type for "
                             "--bayes/--sparse")
        covariance, chosen = _sampled_covariance(em)
        sampling = {"covariance_type": covariance, "random_state": seed,
                    "settings": _sampler_settings(args), "thresholds": _thresholds(args),
                    **observed}  # missing values, weights, noise: as for EM
        # the sampler's settings are the report's per-fit table's, with what ran (QA: twice)
        settings["covariance type (--bayes, --sparse)"] = f"{covariance} ({chosen})"
        if args.save_fits:
            settings["posteriors saved (--save-fits)"] = "fits/<model>/, bayesgmm.load"
    if args.bayes:
        print(f"\nPSIS-LOO over K = {', '.join(map(str, ks))} with "
              f"{covariance_words(covariance, frame.shape[1])} ({chosen})")
        with progress.checks_told("select.html has every fit's checks and what to do"):
            bayes = _select_bayes(frame, ks, args, sampling)  # (QA155 L2)
        for fit in bayes.results.values():
            _name_components(fit, names)
        text = _for_the_shell(str(bayes))
        print(text)
        if not args.index and "(rows " in text:  # single outliers named by their numbers
            print(_ROW_NUMBERS.format(option="--index COLUMN"))
    if args.sparse is not None:
        print(f"\nSparse mixture: K_max = {args.sparse}, e0 = {args.concentration:g}, "
              f"{covariance_words(covariance, frame.shape[1])}")
        settings.update({"sparse K_max": args.sparse, "sparse e0": args.concentration})
        with _quiet_diagnostics():
            from .sampling import checks_said_by_caller

            with checks_said_by_caller():  # print(sparse) below says its verdict
                sparse = fit_sparse(frame, args.sparse, concentration=args.concentration,
                                    **{**sampling, "settings": sampling["settings"]
                                       if args.draws_given else
                                       sampling["settings"].replace(draws=1000)})
        _name_components(sparse.result, names)
        print(sparse)
        # over all chains: the P(K+=k) of the line above; the table adds the chains alone
        print("P(K+ = k), by chain:")
        print(k_plus_table(sparse).drop(index=["all", "prior"], errors="ignore").round(3)
              .to_string())  # the line above has both

    problems = _select_problems(em, bayes, sparse)
    record = _select_record(args, frame, em, bayes, sparse, problems,
                            sampling if bayes is not None or sparse is not None else None)

    def write(directory: Path) -> None:
        # the tables first: the report's manifest then lists (and checksums) them too
        _criteria_table(em).to_csv(directory / "criteria.csv", index=False)
        # the run and its choice for a pipeline, with the keys and types of em.json's and
        # result.json's settings (QA81: display strings, other names, the choice absent)
        (directory / "settings.json").write_text(json.dumps(record, indent=2) + "\n")
        if bayes is not None:
            _loo_table(bayes).to_csv(directory / "loo.csv", index_label="model")
        if sparse is not None:
            k_plus_table(sparse).to_csv(directory / "n_nonempty.csv")
        if args.save_fits:  # QA87: nothing in the output let a referee check loo.csv
            from .persistence import save

            fits = {**(bayes.results if bayes is not None else {}),
                    **({"sparse": sparse.result} if sparse is not None else {})}
            for name, fit in fits.items():
                save(fit, directory / "fits" / name)
        write_selection_report(em, directory, bayes=bayes, sparse=sparse,
                               data_source=_shown(args.data), settings=settings, X=frame,
                               sample_weight=observed.get("sample_weight"),
                               dpi=figure_files.dpi,
                               vector_formats=figure_files.vector_formats)

    # as em and fit say it (QA: 35 s unannounced)
    with progress.step("writing the report", inner_details=False):
        try:
            write_directory(out, write, overwrite=args.force, writes="SelectionReport")
        except ValueError as exc:
            _save_beside(out, exc, lambda kept: write_directory(kept, write,
                                                                writes="SelectionReport"),
                         "rename it")
    _published.append(out)
    print(f"\nreport: {out / SELECTION_REPORT_NAME}")
    if record["saved_fits"]:
        print(f"posteriors: {out / 'fits'}/{{{','.join(record['saved_fits'])}}} "
              "(bayesgmm.load reads each)")
    if args.strict and problems:
        print(f"bayesgmm: --strict: {'; '.join(problems)}; exit status {EXIT_PROBLEMS}",
              file=sys.stderr)
        return EXIT_PROBLEMS
    return 0


def _select_problems(em, bayes, sparse=None) -> list[str]:
    """Why no candidate of a ``select`` run is fit to choose from ([] when one is): the
    status settings.json records and --strict exits on (QA81: exit 0 with every EM cell
    degenerate, and with every posterior of --bayes at PROBLEMS)."""
    problems = []
    fitted = em.table[em.table["error"] == ""]
    if not len(fitted):
        problems.append("no cell of the EM grid could be fitted")
    elif bool(fitted["degenerate"].all()):
        problems.append("every cell of the EM grid is degenerate (none is a proper fit)")
    if bayes is not None:
        statuses = {name: _status_word(verdict) for name, verdict in bayes.diagnostics.items()}
        if statuses and all(status == "PROBLEMS" for status in statuses.values()):
            problems.append(f"every posterior fit ({', '.join(statuses)}) failed its "
                            "checks (PROBLEMS)")
    if sparse is not None and sparse.diagnostics.status == "PROBLEMS":
        # its P(K+) is the run's answer on K: unsound, it is no candidate either (QA163 M1:
        # 733 divergences, and the run's status OK)
        problems.append("the sparse mixture's posterior failed its checks (PROBLEMS): its "
                        "P(K+) is not to be trusted")
    return problems


def _status_word(verdict: str) -> str:
    """OK, CAUTION or PROBLEMS: the head of a one-line verdict."""
    return verdict.split(":", 1)[0].strip()


def _cell(cell: tuple[int, str]) -> dict[str, Any]:
    return {"n_components": int(cell[0]), "covariance_type": str(cell[1])}


def _select_record(args: argparse.Namespace, frame: pd.DataFrame, em, bayes, sparse,
                   problems: list[str], sampling: dict[str, Any] | None) -> dict[str, Any]:
    """settings.json of ``select``: the data, the grid, how EM ran and what was chosen, in
    the keys and JSON types of em.json's and result.json's settings (``random_state``,
    ``data_source``, ``n_init``, ``tol``, numbers as numbers); ``status`` OK or PROBLEMS with
    ``problems`` (:func:`_select_problems`); ``bayes`` and ``sparse`` with their sampler
    settings, thresholds and each fit's status."""
    from .em import BOTH_INITS

    rules = next(iter(em.fits.values())).settings if em.fits else {}
    floors = sorted({float(fit.reg_covar) for fit in em.fits.values()})
    record: dict[str, Any] = {
        "random_state": int(em.random_state), "seed_drawn": args.seed is None,
        **_data_record(_shown(args.data), args.data, args.index, args.weights, args.labels,
                       args),
        "columns": [str(c) for c in frame.columns], "n_rows": int(len(frame)),
        "missing": _missing_policy(args), "noise": bool(args.noise),
        "noise_volume": args.noise_volume,
        "n_components": sorted({int(k) for k in em.table["n_components"]}),
        "covariance_types": [str(t) for t in em.table["covariance_type"].unique()],
        # the sweep's seedings (a cell restarted from a neighbour's fit records "given": its
        # first cell's record was spelled out letter by letter)
        "init": list(BOTH_INITS), "n_init": args.n_init,
        **{key: rules.get(key) for key in ("tol", "atol", "max_iter")},
        "reg_covar": floors[0] if len(floors) == 1 else floors,
        "reg_covar_given": args.reg_covar is not None,
        "best": {criterion: _cell(cell) for criterion, cell in em.best.items()},
        "notes": list(em.notes),
        "status": "PROBLEMS" if problems else "OK", "problems": problems,
        "bayes": None, "sparse": None,
        # the posteriors saved below fits/ (--save-fits), by the models' names in loo.csv
        "saved_fits": sorted([*(bayes.results if bayes is not None else ()),
                              *(["sparse"] if sparse is not None else [])])
        if args.save_fits else []}
    if sampling is not None:
        common = {"covariance_type": sampling["covariance_type"],
                  "sampler_settings": sampling["settings"].to_dict(),
                  "thresholds": (sampling["thresholds"] or DiagnosticThresholds()).to_dict()}
        if bayes is not None:
            # whether elpd_loo's best can be trusted, and the simplest model within noise of
            # it, as the verdict weighs them (QA163 M3: a pipeline reading "best" took a K
            # whose checks failed, where the verdict advised the simplest)
            simplest = bayes.simplest_within_noise
            record["bayes"] = {**common, "best": _loo_cell(bayes, bayes.best),
                               "best_reliable": _elpd_reliable(bayes, bayes.best),
                               "simplest_within_noise": None if simplest is None else {
                                   **_loo_cell(bayes, simplest),
                                   "reliable": _elpd_reliable(bayes, simplest)},
                               "fits": [{**_loo_cell(bayes, name),
                                         "status": _status_word(verdict),
                                         "causes": list(bayes.causes.get(name, ()))}
                                        for name, verdict in bayes.diagnostics.items()]}
        if sparse is not None:
            # the verdict printed beside P(K+) (QA163 M1: the K_max-component fit's generic
            # checks were recorded, R-hats of empty components among them), and the metric
            # the sampler used ("auto" decides it; QA163 L1)
            whitened = (sparse.result.settings or {}).get("laplace_metric") is True
            record["sparse"] = {**common, "k_max": args.sparse,
                                "concentration": args.concentration,
                                "metric_used": "laplace" if whitened else "diag",
                                "status": sparse.diagnostics.status,
                                "mode": int(sparse.mode),
                                "posterior_counts": {str(k): float(p) for k, p in
                                                     sparse.posterior_counts.items()}}
    return record


def _elpd_reliable(bayes, name: str) -> bool:
    """A --bayes model's elpd_loo can be trusted: its posterior passed its checks (OK or
    CAUTION) and no observation's Pareto k is high."""
    return bool(_status_word(bayes.diagnostics[name]) != "PROBLEMS"
                and not bayes.pareto_k.loc[name, "n_high"])


def _loo_cell(bayes, name: str) -> dict[str, Any]:
    """A --bayes fit by its K and covariance type, as criteria.csv keys its cells."""
    fit = bayes.results[name]
    return {"model": str(name), "n_components": int(fit.n_components),
            "covariance_type": str(fit.covariance_type)}


def _criteria_table(em) -> pd.DataFrame:
    """criteria.csv: ``select_em(...).table`` and ``chosen_by``, the criteria that chose each
    cell (e.g. "bic;icl", empty for none; QA81: the choice was on the console only)."""
    table = em.table.copy()
    table["chosen_by"] = [";".join(c for c, cell in em.best.items()
                                   if cell == (row.n_components, row.covariance_type))
                          for row in table.itertuples()]
    return table


def _loo_table(bayes) -> pd.DataFrame:
    """The LOO comparison as loo.csv holds it: with each fit's convergence status (``checks``:
    OK, CAUTION or PROBLEMS, the head of its verdict), so that the table alone does not rank
    a fit that failed its checks as if it had passed (referee QA)."""
    from .report import loo_ranks

    table = bayes.comparison.copy()
    if "rank" in table.columns:  # as select.html ranks (QA: two ranks for one K)
        table["rank"] = loo_ranks(table)
    table["checks"] = [bayes.diagnostics.get(name, "").split(":", 1)[0] or None
                       for name in table.index]
    return table  # keyed as criteria.csv is: n_components, covariance_type (the comparison's)


def _sampled_covariance(em) -> tuple[str, str]:
    """The covariance type of the posterior fits of ``select --bayes/--sparse``, and why: the
    BIC-best cell's, unless that cell has one component, where the types say little (full
    and tied are one model; referee QA: full, BIC's worst type at every K >= 2, was sampled
    because it won K = 1's tie): then the best cell's with K >= 2, where the grid has one."""
    from .selection.criteria import best_cells

    k, covariance = em.best["bic"]
    if em.table["covariance_type"].nunique() == 1:  # QA67: "BIC-best" of one type given
        return covariance, "the one covariance type given"
    larger = best_cells(em.table, min_components=2).get("bic")
    if k >= 2 or larger is None:  # no K >= 2 in the grid, or none of them fitted
        return covariance, "the BIC-best EM covariance type"
    return (larger[1], f"the BIC-best EM covariance type at K >= 2, K={larger[0]}; BIC's best "
            "is K=1, whose type says little about the components of a larger K")


def _select_draws(args: argparse.Namespace) -> bool:
    """Resolve select's --draws default (before the sampler flags are checked): "auto" for
    --bayes (LOO of posteriors that passed their checks), 1000 for --sparse alone (its empty
    components never converge, by design); with both, --sparse gets its 1000 where it is
    fitted. Returns whether --draws was given."""
    given = args.draws is not None
    if not given and not args.bayes and args.sparse is not None:
        bound = "--max-draws" if args.max_draws is not None else (
            "--max-time" if args.max_time is not None else None)
        if bound:  # not "with --draws 1000", a value the user did not type
            raise ValueError(f"{bound} bounds --draws auto, and --sparse samples a fixed 1000 "
                             "draws unless told otherwise: add --draws auto, or leave "
                             f"{bound} out")
    if not given:
        args.draws = "auto" if args.bayes else 1000
    return given


def _select_bayes(frame: pd.DataFrame, ks: tuple[int, ...], args: argparse.Namespace,
                  sampling: dict):
    # select_bayes shows a status line per fit, and each fit's bar only when they run one at
    # a time (parallel workers' bars would garble each other).
    with _quiet_diagnostics():
        settings = sampling["settings"].replace(progressbar=not args.no_progress)
        return select_bayes(frame, ks, n_jobs=args.jobs, **{**sampling, "settings": settings})


def _for_the_shell(text: str) -> str:
    """A selection's text with its Python pointers (``print(selection.diagnostics[...])``,
    ``BayesSelection.diagnostics``) said as the command line's (QA153 L3)."""
    from .selection.model_checks import pointed_for

    text = re.sub(r"\(each one's checks and advice: print\(selection\.diagnostics\['[^']*'\]\)"
                  r", or the report\)",
                  "(each one's checks and advice: select.html, the selection report)", text)
    return pointed_for(text, "shell")

@contextlib.contextmanager
def _quiet_diagnostics() -> Iterator[None]:
    """No NumPy warnings from ArviZ's R-hat of a quantity constant in a chain (K+, often)."""
    with ignored(RuntimeWarning, module="arviz_stats"):
        yield


def parse_components(text: str) -> list[range]:
    """``-k`` of ``select``: ``1-6``, ``2,3,5``, ``4`` or a mix (``1-3,5``), as ranges."""
    ranges = []
    for item in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", item)
        if not match:
            raise ValueError(f"-k {text!r}: {item.strip()!r} is not a number of components or "
                             "a range such as 1-6 (write e.g. 1-6, 2,3,5 or 4)")
        low = int(match[1])
        high = int(match[2]) if match[2] is not None else low
        if low < 1:
            raise ValueError(f"-k {text!r}: the number of components must be >= 1")
        if high < low:
            raise ValueError(f"-k {text!r}: the range {low}-{high} is empty (write {high}-{low})")
        ranges.append(range(low, high + 1))
    return ranges


def _grid(ranges: list[range], frame: pd.DataFrame, source: str) -> tuple[int, ...]:
    _check_k(max(r[-1] for r in ranges), frame, source, selecting=True)
    ks = [k for r in ranges for k in r]
    twice = sorted({k for k in ks if ks.count(k) > 1})
    if twice:  # QA: "-k 2,2,3" ran as 2,3, unsaid (the API refuses it alike)
        raise ValueError(f"-k names K {', '.join(map(str, twice))} more than once; give "
                         "each once (e.g. -k 1-6 or -k 2,3,5)")
    return tuple(sorted(ks))


def _covariance_types(text: str) -> tuple[str, ...]:
    names = [c.strip() for c in text.split(",")]
    if names == ["all"]:
        return COVARIANCE_TYPES
    unknown = [c for c in names if c not in COVARIANCE_TYPES]
    if unknown:
        raise ValueError(f"--covariance {text!r}: unknown covariance type(s) {unknown}; use "
                         f"'all' or a comma-separated list of {', '.join(COVARIANCE_TYPES)}"
                         + mclust_hint(unknown[0]))
    twice = [c for c in COVARIANCE_TYPES if names.count(c) > 1]
    if twice:
        raise ValueError(f"--covariance {text!r} names {', '.join(twice)} more than once; "
                         "give each once")
    return tuple(c for c in COVARIANCE_TYPES if c in names)


def _check_n_init(n_init: int) -> None:
    if not 1 <= n_init <= MAX_RESTARTS:
        raise ValueError(f"--n-init must be between 1 and {MAX_RESTARTS:,}; got {n_init}")


# More parallel workers than this is a typo, not a machine (joblib would fail obscurely).
_MAX_JOBS = 4096


def _check_select_flags(args: argparse.Namespace, ranges: list[range]) -> None:
    _check_n_init(args.n_init)
    if args.jobs == 0:
        raise ValueError("--jobs must be a positive number of workers or negative (-1: all "
                         "cores); got 0")
    check_seed(args.seed, "--seed")
    if args.bayes and len({r[0] for r in ranges} | {r[-1] for r in ranges}) < 2:
        raise ValueError("--bayes compares at least two numbers of components; -k names one")
    if args.sparse is not None and args.sparse < 2:
        raise ValueError(f"--sparse K_MAX must be >= 2; got {args.sparse}")
    if args.save_fits and not (args.bayes or args.sparse is not None):
        raise ValueError("--save-fits saves the posteriors of --bayes and --sparse: give one "
                         "of them with it (an EM fit: bayesgmm em DATA -k K --out DIR)")
    if args.concentration is not None:
        if args.sparse is None:
            raise ValueError("--concentration is the sparse mixture's e0: give --sparse K_MAX "
                             "with it")
        if not 0 < args.concentration < float("inf"):
            raise ValueError(f"--concentration must be a finite number > 0; got "
                             f"{args.concentration}")
    else:
        args.concentration = 0.01
    if abs(args.jobs) > _MAX_JOBS:
        raise ValueError(f"--jobs must be at most {_MAX_JOBS} workers (or -1: all cores); "
                         f"got {args.jobs}")
    if args.cores is not None:  # a cap on the workers too (QA98: --jobs -1 used every core)
        if args.jobs > args.cores:
            raise ValueError(f"--jobs {args.jobs} runs {args.jobs} workers, more than --cores "
                             f"{args.cores}: give --jobs {args.cores} or fewer")
        if args.jobs < 0:
            args.jobs = args.cores
    # every check the sampler makes, before the data are read; without --bayes or --sparse
    # nothing samples, and sampler flags given anyway would be silently ignored: refused
    sampler_flags = ("draws", "max_draws", "tune", "chains", "sampler", "metric")
    defaults = _parser().parse_args(["select", "data"])
    given = [f"--{f.replace('_', '-')}" for f in sampler_flags
             if getattr(args, f) != getattr(defaults, f)]
    args.draws_given = _select_draws(args)
    settings = _sampler_settings(args)
    if args.bayes:  # LOO's own minimum too, before EM prints its tables (referee QA)
        from .selection.loo import check_loo_draws

        check_loo_draws(settings)
    if given and not (args.bayes or args.sparse is not None):
        raise ValueError(f"{', '.join(given)} set(s) the posterior fits, which only --bayes "
                         "or --sparse K_MAX make: give one of them, or leave the flag out")
    _thresholds(args)  # bad threshold flags fail before any fitting


def _use_agg() -> None:
    # The CLI only writes files: never open a window, whatever the environment offers.
    import matplotlib

    matplotlib.use("Agg")


def default_output(data: str, n_components: int | None = None, *, suffix: str | None = None
                   ) -> Path:
    """``results/<data stem>_k<K>`` (or ``_<suffix>``); ``bundled:NAME`` uses ``NAME``,
    standard input (``-``) ``stdin``."""
    stem = ("stdin" if data == STDIN else data.split(":", 1)[1] if data.startswith("bundled:")
            else Path(data).stem)
    return Path("results") / f"{stem}_{suffix if suffix else f'k{n_components}'}"


def _columns(text: str | None) -> list[str] | None:
    if text is None:
        return None
    if not text.strip():
        raise ValueError("--columns is empty: name the feature columns (a,b), or leave the "
                         "option out to use every column")
    # CSV quoting names a column with a comma in it: --columns '"wt, g",z' (QA: the error's
    # own suggestion failed on such a name)
    columns = [c.strip() for c in next(csv.reader([text], skipinitialspace=True))]
    if any(not c for c in columns):
        raise ValueError(f"--columns has an empty name: {text!r}")
    return columns


def _inputs(data: str) -> list[str]:
    """The user's input files that an output directory must never replace or contain."""
    return [] if data.startswith("bundled:") or data == STDIN else [data]


def _shown(data: str) -> str:
    """The data's name in printouts and reports (``-`` is standard input)."""
    return "standard input" if data == STDIN else str(data)


def _data_header(data: str, frame: pd.DataFrame) -> str:
    """The first line a fitting command prints: which data, how many rows, which columns."""
    return (f"{_shown(data)}: {len(frame)} rows x {frame.shape[1]} column(s) "
            f"{list(frame.columns)}")


def _check_columns(frame: pd.DataFrame, covariance_type: str, columns_flag: str, *,
                   select: bool = False) -> None:
    """Singular columns (constant, negligible, collinear), named before any fitting
    (:func:`bayesgmm._validation.check_columns_fit`, in the flags' words)."""
    diagonal = ("--covariance diag,spherical" if select else "--covariance diag"
                if columns_flag == "--columns" else '[model] covariance_type = "diag"')
    check_columns_fit(frame.to_numpy(dtype=float), [str(c) for c in frame.columns],
                      covariance_type, diagonal=diagonal,
                      leave_out=f"leave the column(s) named out with {columns_flag}")


def _jobs_setting(jobs: int, em: Any) -> Any:
    """How the EM cells of ``select`` ran, as the report's settings say it: with ``--jobs
    -1``, quick cells run in this process (review: that reason was given for one cell, or
    for --jobs resolving to one worker, too)."""
    from joblib import effective_n_jobs

    if jobs == 1:
        return 1
    if em.workers == 1 and jobs == -1 and len(em.table) > 1 and effective_n_jobs(-1) > 1:
        # (referee: "-1" beside "ran in one process" read as a contradiction)
        return f"{jobs} (every core offered; the EM cells ran in one process: quick enough " \
               "that workers would not pay)"
    return f"{jobs} ({em.workers} worker{'s' if em.workers != 1 else ''})"


def _check_index_name(index: str | None, option: str = "--index") -> None:
    """Where memberships.csv is written (fit, run, em --out): an ID column must not be named
    as one of its columns (select, and em without --out, write no such file)."""
    if index:
        from .memberships_file import check_row_column

        check_row_column(index, option)


class _SpecObservations:
    """A spec's ``[data]`` observation keys under the names of the command-line flags."""

    def __init__(self, spec: Any) -> None:
        self.missing, self.dropna = spec.missing, False
        self.missing_option = '[data] missing = "{}"'  # what a message names it by
        self.k_option = "n_components in the specification's [model]"  # (QA89: "-k")
        self.weights, self.labels = spec.weights, spec.labels
        self.noise, self.noise_volume = spec.noise, spec.noise_volume
        self.index = spec.index
        self.sep, self.decimal, self.encoding = spec.sep, spec.decimal, spec.encoding
        self.thousands = spec.thousands
        self.dequantise = spec.dequantise
        self.dequantise_option = "[data] dequantise"
        self.source = spec.source  # the spec as read, for the record (with data_sha256)


def _missing_policy(args: Any) -> str:
    """``--missing``, with ``--dropna`` as another way of saying ``--missing drop``."""
    if args.dropna:
        if args.missing not in (None, "drop"):
            raise ValueError(f"--dropna means --missing drop; it contradicts --missing "
                             f"{args.missing}: give one of them")
        return "drop"
    return args.missing or "marginalise"


def _checked_observation_flags(args: Any) -> str:
    """The checks of --missing/--dropna and --noise-volume that need no data (before the
    output directory's: QA, "already exists" came first, then the flag's error next run);
    returns the missing-value policy."""
    policy = _missing_policy(args)
    if args.noise_volume is not None:
        if not args.noise:
            raise ValueError("--noise-volume needs --noise")
        if not (args.noise_volume > 0 and args.noise_volume < float("inf")):
            raise ValueError(f"--noise-volume must be a finite number > 0; got "
                             f"{args.noise_volume}")
    return policy


def _read_observations(data: str, columns: list[str] | None, args: Any, n_components: int,
                       *, seed: int | None = None, notes: list[str] | None = None
                       ) -> tuple[pd.DataFrame, dict[str, Any], tuple[str, ...]]:
    """Read the data file with its index, weights and labels columns, check them, say what is
    used (printed, or appended to ``notes`` for the caller to print once its own checks of the
    data have passed: an input error is then the only output). ``--dequantise`` adds its
    noise with the run's ``seed``.

    Returns the feature frame (indexed by the ``--index`` column's IDs when given; NaN =
    missing unless refused; under "drop" the rows with missing values are still there: the fit
    drops and counts them), the keyword arguments of ``fit_em``/``fit_bayes`` that differ
    from their defaults, and the label names (component k is ``names[k]``; empty without
    labels).
    """
    say = print if notes is None else notes.append
    policy = _checked_observation_flags(args)
    # "drop" reads the rows with missing values too: the fit drops them and records how many
    table = read_data(data, columns, missing="refuse" if policy == "refuse" else "marginalise",
                      weights=args.weights, labels=args.labels,
                      index=getattr(args, "index", None), sep=args.sep, decimal=args.decimal,
                      encoding=args.encoding, thousands=args.thousands)
    args.data_sha256 = table.sha256  # the record's fingerprint: of the bytes fitted (QA117)
    frame = table.features
    if getattr(args, "dequantise", None) is not None:
        _refuse_dequantised_counts(table.sample_weight, args)
        frame = _dequantised(frame, args, seed, say)
    missing = frame.isna().to_numpy()
    left = ~missing.any(axis=1) if policy == "drop" else ~missing.all(axis=1)
    if not left.any():  # (QA: no fix was named where marginalising would fit them)
        option = getattr(args, "missing_option", "--missing {}").format("marginalise")
        raise ValueError(f"every row of {data} has a missing value, and dropping them leaves "
                         f"nothing to fit; {option} (the default) fits each row by the values "
                         "it has")
    _check_k(n_components, frame.loc[left], data, getattr(args, "k_option", "-k"),
             selecting=getattr(args, "command", None) == "select",
             left_out=int((~left).sum()), drop=policy == "drop")
    observed: dict[str, Any] = {}
    if args.missing not in (None, "marginalise"):  # recorded as asked even with no gap (QA:
        observed["missing"] = policy                # "refuse" was saved as the default)
    if missing.any():
        observed["missing"] = policy
        n_rows = int(missing.any(axis=1).sum())
        if policy == "drop":
            option = getattr(args, "missing_option", "--missing {}").format("drop")
            say(f"dropping {n_rows} row(s) with missing values ({option})")
        else:
            # counted over the rows fitted, as the fit's own record counts them (QA: this line
            # said 5 values in 4 rows, the fit's "observations:" 3 in 3, one row being empty)
            kept = missing[left]
            empty = frame.index[~left]
            gaps = (f"{int(kept.sum())} value(s) in {int(kept.any(axis=1).sum())} row(s), "
                    "integrated out (missing at random assumed)" if kept.any() else "")
            dropped = (f"{len(empty)} row(s) with no value at all dropped "
                       f"({_row_list(empty, getattr(args, 'index', None))})" if len(empty)
                       else "")
            # QA101: "0 value(s) in 0 row(s), integrated out" where one row was empty
            say("missing values: " + "; ".join(p for p in (gaps, dropped) if p))
    names: tuple[str, ...] = ()
    if table.sample_weight is not None:
        weights = table.sample_weight[left]
        if not (weights > 0).any():
            raise ValueError(f"every weight in column {args.weights!r} of {data} is zero once "
                             "the rows with missing values are dropped")
        observed["sample_weight"] = table.sample_weight
        say(f"weights: column {args.weights!r} ({int((weights > 0).sum())} row(s) with "
            f"weight > 0, total weight {format_count(weights.sum())})")
    if table.labels is not None:
        from .observations import encode_labels

        codes, names = encode_labels(table.labels, n_components)
        if not names:
            raise ValueError(f"the labels column {args.labels!r} of {data} has no known label "
                             "(every cell is empty or -1); leave out --labels")
        if args.noise and "noise" in names:  # memberships.csv and the reports name it so
            raise ValueError(f"the labels column {args.labels!r} names a component 'noise', "
                             "the name of the noise component with --noise: rename that "
                             "label")
        observed["labels"] = codes
        n_known = int((codes[left] >= 0).sum())
        say(f"labels: column {args.labels!r}, {n_known} of {int(left.sum())} row(s) labelled; "
            + ", ".join(f"component {k} = {name!r}" for k, name in enumerate(names)))
    if args.noise:
        observed["noise"] = True
        if args.noise_volume is not None:
            observed["noise_volume"] = args.noise_volume
        say("noise: a uniform component over "
            + (f"a region of volume {args.noise_volume:g}" if args.noise_volume is not None
               else "the bounding box of the rows fitted"))
    return frame, observed, names


def _refuse_dequantised_counts(weights: Any, args: Any) -> None:
    """--dequantise beside weights other than 0 and 1: a row of weight w stands for w tied
    values, which one jitter per row cannot tell apart (QA134 M2: "dequantised", 44 of 82
    values still tied; auto: "no column looks rounded" of a rounded counts table)."""
    from .rounding import weights_against_jitter

    why = weights_against_jitter(weights)
    if why is None:
        return
    option = getattr(args, "dequantise_option", "--dequantise")
    column = getattr(args, "weights", None) or "count"
    if "no count" in why:  # no rows to expand them into (QA141 L2: pandas' repeat drops
        # a row of weight 0.4)
        raise ValueError(f"{option} with weights that are not whole numbers: {why}; fit "
                         f"without {option}")
    raise ValueError(f"{option} with weights: {why}; expand the rows first (one per "
                     f"count: in pandas df.loc[df.index.repeat(df[{str(column)!r}])]) and fit "
                     "them without weights")


def _dequantised(frame: pd.DataFrame, args: Any, seed: int | None, say: Any) -> pd.DataFrame:
    """The features with --dequantise's noise added (its record on the frame, which the fit
    keeps), said in a status line."""
    from .observation_record import dequantised_phrase
    from .rounding import dequantise, recorded

    option = getattr(args, "dequantise_option", "--dequantise")
    try:
        frame = dequantise(frame, args.dequantise, random_state=seed)
    except ValueError as exc:  # the step in the option's own words (QA165 L2: a dict;
        # a name quoted as a shell or a TOML file needs it, QA166)
        def said(m: re.Match) -> str:
            if not option.startswith("["):
                return f"--dequantise {shlex.quote(f'{m[2]}={m[3]}')}"
            key = m[2] if re.fullmatch(r"[A-Za-z0-9_-]+", m[2]) else json.dumps(m[2])
            return f"dequantise = {{ {key} = {m[3]} }}"

        raise ValueError(f"{option}: " + re.sub(r"(steps=)?\{'([^']+)': ([^}]+)\}", said,
                                                str(exc))) from None
    say(dequantised_phrase(recorded(frame)))
    return frame


def _observation_settings(args: Any, names: tuple[str, ...], *,
                          labelled: bool = True) -> dict[str, Any]:
    """The observation flags given, for a report's settings table (``labelled`` False: not
    the label names, which a fit's report states with its observations)."""
    out: dict[str, Any] = {"missing values": _missing_policy(args)}
    if args.weights:
        out["weights column"] = args.weights
    if args.labels:
        out["labels column"] = args.labels
        if labelled:
            out["label names"] = ", ".join(f"{k} = {n}" for k, n in enumerate(names))
    if args.noise:
        out["noise"] = ("volume " + f"{args.noise_volume:g}" if args.noise_volume is not None
                        else "bounding box")
    steps = getattr(args, "dequantise", None)
    if steps is not None:  # QA94: select's report and settings.json did not say it
        out["dequantise"] = (", ".join(f"{k}={v:g}" for k, v in steps.items())
                             if isinstance(steps, dict) else str(steps))
    return out


def _name_components(result: Any, names: tuple[str, ...]) -> None:
    """Right after a fit, before anything prints or saves it: keep the known labels' names in
    its record, so that tables, the report and a reload name the components."""
    from .observation_record import name_labels

    name_labels(result, names)


def _row_list(rows: Any, index: str | None, most: int = 5) -> str:
    """Rows in a status line: by their IDs (``--index``) or numbers, the first ``most``."""
    shown = ", ".join(str(r) for r in list(rows)[:most])
    more = f", ... ({len(rows)} in all)" if len(rows) > most else ""
    return (f"{index} = " if index else "row ") + shown + more


def _print_observations(result: Any, names: tuple[str, ...]) -> None:
    """After a fit: its own record of the observations (rows fitted and dropped, values
    missing, weights, labels with their names, noise), in one sentence."""
    from .observation_record import observations_record, observations_sentence

    summary = observations_record(result)
    sentence = observations_sentence(summary, names) if summary else ""
    if sentence:
        print(f"\nobservations: {sentence}")


_ROW_NUMBERS = ("Rows are numbered from 0 in file order, header excluded; {option} names "
                "them by a column of IDs instead.")


def _rows_setting(index: str | None, option: str = "--index COLUMN") -> str:
    """How the rows of a data file are named, for a report's settings table."""
    if index:
        return f"by the IDs in column {index!r}"
    return f"numbered from 0 in file order, header excluded (IDs: {option})"


def _named_by(index: str | None) -> str:
    """For the line that describes the data read: how its rows are named, with --index."""
    return f", rows named by {index!r}" if index else ""


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        print(note)


def _print_noise_rows(fit: Any, frame: pd.DataFrame, observed: dict[str, Any], *,
                      index: str | None = None, index_option: str = "--index COLUMN") -> None:
    """A fit with a noise component: which rows it takes (P(noise | x) above 0.5), counted and
    named as the report's noise section counts them (QA: the console printed the noise weight
    only, where the no-noise hint names its rows). ``fit``: an EMResult, or a BayesResult
    (its posterior memberships, over the draws the report and memberships.csv use)."""
    if not observed.get("noise"):
        return
    import numpy as np

    if hasattr(fit, "memberships"):  # a posterior: its own fitted rows
        from .draw_arrays import membership_draws

        p_noise = np.asarray(fit.memberships(
            max_draws=membership_draws(len(fit.row_names), fit.n_components + 1)))[:, -1]
        names = fit.row_names
        data = fit.idata["observed_data"]
        g = (np.asarray(data["sample_weight"].values) if "sample_weight" in data.data_vars
             else None)
    else:  # EM: the rows it fitted (nothing observed, or any missing under "drop": not)
        nan = frame.isna().to_numpy()
        kept = ~(nan.any(axis=1) if observed.get("missing") == "drop" else nan.all(axis=1))
        labels = observed.get("labels")
        p_noise = fit.predict_proba(frame[kept], labels=None if labels is None
                                    else np.asarray(labels)[kept])[:, -1]
        names = frame.index.to_numpy()[kept]
        g = observed.get("sample_weight")
        g = None if g is None else np.asarray(g, dtype=float)[kept]
    if g is not None:  # a row of weight 0 is no fitted row (QA165 M2: counted and named)
        counted = g > 0
        p_noise, names, g = p_noise[counted], np.asarray(names)[counted], g[counted]
    taken = np.flatnonzero(p_noise > 0.5)
    # with frequency weights, the points too, as the report's noise section counts them
    # (review: rows here, points there)
    points = ("" if g is None else
              f" ({format_number(float(g[taken].sum()))} of the "
              f"{format_number(float(g.sum()))} points counted by their weights)")
    order = taken[np.argsort(-p_noise[taken], kind="stable")]
    shown = ", ".join(str(n) for n in names[order][:10]) + (
        f" and {len(order) - 10:,} more (memberships.csv lists each row's P(noise))"
        if len(order) > 10 else "")
    print(f"noise: {len(taken):,} of the {len(p_noise):,} fitted rows{points} have "
          "P(noise | x) above 0.5" + (f"; most probably noise first: {shown}" if len(taken)
                                       else "")
          + ("" if index or not len(taken) else
             ". " + _ROW_NUMBERS.format(option=index_option)))


def _print_noise_hint(em, frame: pd.DataFrame, observed: dict[str, Any],
                      option: str = "--noise", *, index: str | None = None,
                      index_option: str = "--index COLUMN", about: str = ""
                      ) -> tuple[str, list[Any]]:
    """Without --noise: say so when some rows fit a uniform noise component clearly better
    (a BIC comparison of two EM refits, :func:`bayesgmm.outliers.noise_evidence`);
    ``option`` is how this command turns the noise component on; ``about`` names the fit when
    the command has several (select). The rows are named by the
    ``index`` column's IDs (the frame's index), else by their numbers, which the hint explains
    (``index_option``: how this command names rows). Returns the hint ("" when none), which
    a saved fit records beside its verdict, and every row it names (the text lists 8)."""
    if observed.get("noise"):
        return "", []
    from .outliers import noise_evidence, unjudged

    if reason := unjudged(em):  # said, not skipped in silence (QA157 L5)
        print(f"\nnote{f' ({about})' if about else ''}: no outlier check: {reason}")
        return "", []

    # EM refits with and without a noise component: on many rows a while (QA: two minutes of
    # silence after the estimate at 1,000,000 rows), and seconds even on a few hundred (the
    # row plan's kernels load; QA: it doubled `em`'s time in silence), so a step said always
    with progress.step("checking whether a noise component fits some rows better (EM refits)"):
        evidence = noise_evidence(em, frame, sample_weight=observed.get("sample_weight"),
                                  labels=observed.get("labels"),
                                  missing=observed.get("missing", "marginalise"))
    if evidence is None:
        return "", []
    head = f"\nhint ({about}): " if about else "\nhint: "
    from .shape_evidence import copies_caveat  # copies count as evidence (QA127 M2)

    caveat = copies_caveat(frame, observed.get("sample_weight"))
    text = (evidence.describe(frame.index.to_numpy(), option=option).rstrip(".") + caveat
            if index else f"{evidence.describe(option=option).rstrip('.')}{caveat}. "
            + _ROW_NUMBERS.format(option=index_option))
    print(f"{head}{text}")
    rows = [frame.index[r] for r in evidence.rows] if index else list(evidence.rows)
    return text, rows


def _em_rules(selection: Any, given_floor: float | None) -> dict[str, str]:
    """How a sweep's EM fits were run, for select's settings (QA67: --reg-covar 0.5 moved a
    BIC by 231 and neither settings.json nor the report said it): the covariance floor and
    the stopping rule, as the fits recorded them."""
    fits = list(selection.fits.values())
    if not fits:
        return {}
    floors = sorted({float(f.reg_covar) for f in fits})
    floor = ", ".join(f"{r:g}" for r in floors)
    record = fits[0].settings or {}
    return {"reg_covar (covariance floor)": floor + (" (given)" if given_floor is not None
                                                     else " (default)"),
            "EM converged when": f"the objective changes by less than tol = "
                                 f"{record.get('tol'):g} per point and atol = "
                                 f"{record.get('atol'):g} in total, within max_iter = "
                                 f"{record.get('max_iter')} iterations"}


def _print_shape_hint(em, frame: pd.DataFrame, observed: dict[str, Any],
                      option: str = "--covariance {}", k_option: str = "-k {}") -> str:
    """Say so when a richer covariance type at the same K, or one component more, fits
    clearly better (a BIC comparison of EM refits,
    :func:`bayesgmm.shape_evidence.shape_evidence`; QA: spherical components fitted to
    elongated clusters, and K=2 on three clusters, got verdict OK); ``option``: how this
    command sets the type, ``{}`` standing for it (and ``k_option`` K). Returns the hint ("" when
    none)."""
    from .shape_evidence import copies_caveat, shape_evidence, unjudged

    if reason := unjudged(em, observed.get("labels")):  # said, not skipped (QA157 L5)
        print(f"\nnote: no richer-model check: {reason}")
        return ""
    with progress.step("checking whether a richer model (covariance type, or one component "
                       "more) fits clearly better (EM refits)"):
        evidence = shape_evidence(em, frame, sample_weight=observed.get("sample_weight"),
                                  labels=observed.get("labels"),
                                  missing=observed.get("missing", "marginalise"))
    if evidence is None:
        return ""
    text = evidence.describe(
        k_option.format(evidence.better_components) if evidence.more_components else
        option.format(evidence.better), select="bayesgmm select").rstrip(".") + copies_caveat(
            frame, observed.get("sample_weight"))
    print(f"\nhint: {text}")
    return text


def _check_k(n_components: int, frame: pd.DataFrame | None, source: str,
             option: str = "-k", selecting: bool = False, *, left_out: int = 0,
             drop: bool = False) -> None:
    """K against the rows of ``frame`` (None: before the data are read, K alone), the rows
    the fit keeps; ``left_out``: the file's other rows (nothing observed; with ``drop``,
    any value missing), said (QA: "the 2 row(s)" of a file of 6, 4 of them empty);
    ``selecting``: K is the largest of a range ``select`` compares."""
    source = _shown(source)  # QA117 L5: "- has 1 row(s)" where others say standard input
    if n_components < 1:  # in the option's words (QA92: "the number of components ...")
        raise ValueError(f"{option} {n_components}: give 1 component or more")
    if frame is not None and len(frame) < 2:  # QA82/QA85: "constant columns", "-k at most 1"
        raise ValueError(f"{source} has {len(frame)} row(s)"
                         + (" with an observed value" if left_out and not drop else
                            " with no value missing" if left_out else "")
                         + ": a fit needs at least 2 (one point has no spread to estimate); "
                         "give more rows")
    if frame is not None and n_components > len(frame):
        rows = (f"{len(frame)} row(s) of {source}" if not left_out else
                f"{len(frame)} row(s) of {source} with "
                + (f"no value missing ({left_out} have gaps and are dropped)" if drop else
                   f"an observed value ({left_out} have none)"))
        raise ValueError(
            f"K={n_components} components is more than the {rows}: "
            f"give {option} at most {len(frame)} (each component needs rows of its own"
            + ("" if selecting else "; 'bayesgmm select' compares a range of K") + ")")


def _em_criteria(em: Any, frame: Any) -> tuple[float, float]:
    """BIC and AIC of an EM fit on its data: with weighted, labelled, incomplete or noisy
    rows, those of the fitted objective."""
    from .observation_record import fitted_criteria

    return fitted_criteria(em.log_likelihood, em.n_parameters, em.observations,
                           len(frame)) or (em.bic(frame), em.aic(frame))


def _strict_status(args: argparse.Namespace, diag: Diagnostics) -> int:
    """The exit status: ``EXIT_PROBLEMS`` under --strict with a PROBLEMS verdict, said on
    standard error too (QA77: exit 3 with an empty stderr, a scheduler's log gave no reason)."""
    if not (args.strict and not diag.ok):
        return 0
    causes = ", ".join(getattr(diag, "causes", ()) or ()) or "see the diagnostics above"
    print(f"bayesgmm: --strict: the verdict is PROBLEMS ({causes}); exit status "
          f"{EXIT_PROBLEMS}", file=sys.stderr)
    return EXIT_PROBLEMS


def _data_record(data_source: str, data_file: Any, index: str | None, weights: str | None,
                 labels: str | None, reading: Any = None) -> dict[str, Any]:
    """Which data a fit read and how, for its saved settings: the same keys in em.json and
    result.json (downstream QA: the two files recorded them differently, and result.json not
    the weights and labels columns). ``data_file``: the path read (``-``: standard input),
    fingerprinted; the columns None where not given; ``reading``: the flags (or a spec's
    keys) with the separator, decimal mark and encoding, recorded where given. The command line too,
    and a ``run``'s specification: its SHA-256 and its text, as it was when it ran."""
    sep = getattr(reading, "sep", None)
    text = {key: value for key, value in (("data_separator",  # a tab by its word
                                           "tab" if sep in ("\t", "\\t") else sep),
                                          ("data_decimal_mark",
                                           getattr(reading, "decimal", None)),
                                          ("data_thousands_separator",
                                           getattr(reading, "thousands", None)),
                                          ("data_encoding", _encoding_name(reading)))
            if value is not None}
    raw = getattr(reading, "source", None)  # a RunSpec's file, as read when the run began
    if raw:
        import hashlib

        text.update(specification_sha256=hashlib.sha256(raw).hexdigest(),
                    specification=raw.decode("utf-8-sig", errors="replace"))
    return {"data_source": data_source,
            "data_file_sha256": _data_digest(reading, data_file),
            "index_column": index or None, "weights_column": weights or None,
            "labels_column": labels or None, **text,
            **({"command_line": _command_line} if _command_line else {})}


def _encoding_name(reading: Any) -> str | None:
    """The data file's encoding as given, by its codec's name ("cp1252" for "Windows-1252";
    QA128 L4: the record kept each spelling); None where none was given."""
    given = getattr(reading, "encoding", None)
    if given is None:
        return None
    from .io.file_bytes import text_encoding

    return text_encoding(given) or "utf-8"


def _data_digest(args: Any, data_file: Any) -> str | None:
    """The data file's SHA-256 as it was read for the fit (QA117 H1: hashed when the result
    was saved, it named a file an upstream job had replaced meanwhile); a file not read by
    this run (``report``) hashed now."""
    return getattr(args, "data_sha256", None) or (file_sha256(data_file) if data_file else None)


def _overall_verdict(diagnostics: Diagnostics, check: Any, outliers: str,
                     prior_dominated: str = "", shape: str = "",
                     outlier_rows: Sequence[Any] = (), copies: str = "",
                     design_weights: str = "") -> Any:
    """The verdict as result.json keeps it, for a pipeline that reads it instead of the
    printout (:meth:`bayesgmm.verdict.Verdict.to_dict`: the status as the report's box gives
    it, the sampling checks' own, the model check's misfits and finding, the outlier hint, the
    richer covariance type's, and the warning that the rows are fewer than the free
    parameters, and how many rows look copied); a :class:`~bayesgmm.verdict.Verdict`."""
    from .verdict import Verdict

    return Verdict.from_parts(diagnostics, check, outliers, prior_dominated, shape,
                              outlier_rows=outlier_rows, copies=copies,
                              design_weights=design_weights)


def _print_overall(verdict: Any, report: bool) -> None:
    """The overall status, the last line a script may look for (QA158 L7: a PROBLEMS run
    printed none); where it is not the sampling checks' own (QA139 M3: "Diagnostics: OK"
    alone, where result.json and the report's box said CAUTION), what questions it."""
    if verdict.status == verdict.sampling_status:
        _print_same_verdict(verdict, "result.json and the report's box say" if report
                            else "result.json says")
    else:  # QA139 M3: "Diagnostics: OK" alone
        named = [what for what, found in (
            ("some rows fit no Gaussian of this fit well (the hint above)", verdict.outliers),
            ("a richer model fits clearly better (the hint above)", verdict.richer_model),
            ("the predictive check misses the data's "
             + ", ".join(verdict.misfits), verdict.misfits),
            ("fewer rows than free parameters", verdict.prior_dominated),
            ("the weights look like no counts (the warning above)", verdict.design_weights))
            if found]
        where = "result.json and the report's box say" if report else "result.json says"
        print(f"\nVerdict: {verdict.status}, as {where}: the sampling checks pass, but "
              f"{'; '.join(named)}")


def _print_same_verdict(verdict: Any, where: str) -> None:
    """The overall status where it is the sampling checks' own: one line that says so."""
    diag = verdict.diagnostics
    causes = tuple(getattr(diag, "causes", ()) or ())
    # a CAUTION of checks that all pass is their notes' (QA162 M1: "do not all pass", beside
    # every check passed: mixed components)
    said = ("the sampling checks pass and no model check questions the fit"
            if verdict.status == "OK" else
            "the sampling checks pass, with the notes above"
            + (f" ({', '.join(causes)})" if causes else "")
            if getattr(diag, "ok", False) else "the sampling checks above do not all pass")
    print(f"\nVerdict: {verdict.status}, as {where}: {said}")


def _save(result: BayesResult, out: Path, *, force: bool, report: bool,
          data_source: str, thresholds: DiagnosticThresholds | None = None,
          diagnostics: Diagnostics | None = None, predictive_check: Any = None,
          outliers: str = "", outlier_rows: Sequence[Any] = (), shape: str = "",
          rows: str | None = None,
          figure_files: FigureFiles | None = None, data_file: str | None = None,
          index: str | None = None, index_option: str = "--index COLUMN",
          weights: str | None = None, labels: str | None = None, reading: Any = None) -> None:
    import dataclasses

    # Kept with the result, so that `bayesgmm report DIR` later titles its page the same;
    # ``rows``: how the report's tables name the rows (its settings table says it);
    # ``data_file``'s fingerprint, to check a copy of the data against (QA: none recorded).
    # The verdict too, for a pipeline that reads result.json instead of parsing the printout
    # (QA); the report judges again, by the thresholds it is given.
    from . import estimates, memberships_file
    from ._validation import copied_rows_fact, design_weights_fact
    from .posterior import prior_dominated_note

    observed = result.idata["observed_data"]
    given = observed["sample_weight"].values if "sample_weight" in observed else None
    n_rows, D = observed["x"].shape  # as the report's box judges it
    overall = None if diagnostics is None else _overall_verdict(
        diagnostics, predictive_check, outliers,
        prior_dominated_note(n_rows, result.n_components, D, result.covariance_type,
                             result.noise), shape,
        outlier_rows, copied_rows_fact(observed["x"].values, given),
        design_weights_fact(given))
    if overall is not None:
        _print_overall(overall, report)
    verdict = None if overall is None else overall.to_dict()
    data = _data_record(data_source, data_file, index, weights, labels, reading)
    computed = result._fitted_memberships  # the printout's; the same draws and rows below
    result = dataclasses.replace(result, settings={
        **result.settings, **data, **({"verdict": verdict} if verdict else {}),
        **({"row names": rows} if rows else {})},
        # em.json records its data as em --out's does (QA74: the README said so; only
        # result.json had them)
        em=dataclasses.replace(result.em, settings={**(result.em.settings or {}), **data}))
    # records changed, not the draws: memberships.csv and the report reuse what the printout
    # computed (QA158 L7: 3.9 s + 3.4 s at 100,000 rows with --noise)
    result._fitted_memberships.update(computed)
    extra = None
    if report:
        _use_agg()
        from .report import write_report

        def extra(directory: Path) -> None:
            files = figure_files or FigureFiles()
            write_report(result, directory, data_source=data_source, thresholds=thresholds,
                         diagnostics=diagnostics, predictive_check=predictive_check,
                         dpi=files.dpi,
                         vector_formats=files.vector_formats)

    # estimates.csv with the result's own files: in its manifest, written atomically with it
    tables = _result_tables(result, index, diagnostics)
    # the draws, and the posterior summary estimates.csv computes (QA157 M2: 21 s without a
    # word at 314 parameters)
    progress.say(f"saving the result: the draws, {estimates.ESTIMATES_FILE}, "
                 f"{memberships_file.MEMBERSHIPS_FILE}" + (", the report" if report else ""))
    try:
        save_files(result, out, "BayesResult", overwrite=force, extra=extra, files=tables)
    except ValueError as exc:
        _save_beside(out, exc, lambda kept: save_files(result, kept, "BayesResult",
                                                       extra=extra, files=tables),
                     "rename it, or give it to bayesgmm report")
    _published.append(out)
    print(f"\nsaved to {out}" + (f" (report: {out / 'report.html'})" if report else ""))
    _print_tables(out, index, index_option)


def _save_em(em: Any, out: Path, force: bool, write: Any, tables: Any) -> None:
    """An EM fit saved to ``out`` (its report written by ``write``, where asked), else
    beside it (:func:`_save_beside`)."""
    try:
        save_files(em, out, "EMResult", overwrite=force, extra=write, files=tables)
    except ValueError as exc:
        _save_beside(out, exc, lambda kept: save_files(em, kept, "EMResult", extra=write,
                                                       files=tables),
                     "rename it; bayesgmm.load reads it")


def _save_beside(out: Path, exc: ValueError, save: Callable[[Path], Any], use: str) -> None:
    """After ``out`` refused a finished result (``exc``: another run wrote it meanwhile, or
    it could not be written), the result saved by ``save`` in a new sibling
    ``OUT.unsaved-TIME`` and an error saying where and what to do with it (``use``);
    ``exc`` itself when that fails too. QA103: a fit's minutes of sampling were thrown away,
    with the API's words ("BayesResult.save"); QA145 L2: em's and select's, still."""
    from datetime import datetime

    # the process too: two refused runs in one second each keep their own (QA104)
    kept = out.with_name(f"{out.name}.unsaved-{datetime.now():%Y%m%dT%H%M%S}-{os.getpid()}")
    try:
        save(kept)
    except (ValueError, OSError):
        raise exc from None
    # "the output directory": run's comes from its spec, not --out (QA104)
    why = (f"the output directory {out} was written by another run while this one ran, and "
           "is left as it is" if out.is_dir() and any(out.iterdir()) else
           f"the output directory {out} could not be written: {exc}")
    raise ValueError(f"{why}; this run's result was saved to {kept} instead ({use})") from None


def _print_tables(out: Path, index: str | None, index_option: str = "--index COLUMN") -> None:
    """Where the tables are; how memberships.csv names the rows (QA: a spreadsheet user
    joined by row numbers counted from 1, and every row got its neighbour's component)."""
    rows = (f"rows by their {index!r} column" if index else
            "rows numbered from 0 in file order, header and blank lines excluded: R's row n "
            "is row n - 1, a spreadsheet's row n (header on row 1) is row n - 2; "
            f"{index_option} names them by a column of IDs")
    # only the tables written (QA: a table whose writing failed, and said so, was listed)
    if (out / "estimates.csv").is_file():
        print(f"estimates: {out / 'estimates.csv'}")
    if (out / "memberships.csv").is_file():
        print(f"memberships of the rows: {out / 'memberships.csv'} ({rows})")


def _result_tables(result: Any, index: str | None = None, diagnostics: Any = None,
                   **em_rows: Any) -> dict[str, Any]:
    """``estimates.csv`` and ``memberships.csv`` of a fit, for
    :func:`bayesgmm.result_files.save_files` (``index``: the ID column naming the rows, and
    so memberships.csv's first column; ``em_rows``: an EM fit's ``X``, ``rows`` and
    ``labels``, which a posterior carries itself; ``diagnostics``: the posterior's, printed
    above, which set estimates.csv's ``identified`` column): tables for the shell's
    convenience, so a failure to write one warns and leaves it out rather than losing the fit
    it is saved with (a long posterior run, say)."""
    from . import estimates, memberships_file

    def writer(name: str, write: Any, instead: str) -> Any:
        def guarded(path: Path) -> None:
            try:
                write(path)
            except Exception as exc:  # noqa: BLE001 - any failure: the fit is saved regardless
                path.unlink(missing_ok=True)
                warn(f"{name} was not written ({type(exc).__name__}: {exc}); the "
                     f"result itself is saved, and bayesgmm.load(...).{instead} gives "
                     "the same numbers", UserWarning, skip_file_prefixes=IN_PACKAGE)
        return guarded

    memberships = ("memberships()" if hasattr(result, "posterior")
                   else "predict_proba(X) on the fitted rows")
    return {
        estimates.ESTIMATES_FILE: writer(
            estimates.ESTIMATES_FILE,
            lambda path: estimates.write_estimates(result, path, diagnostics), "summary()"),
        memberships_file.MEMBERSHIPS_FILE: writer(
            memberships_file.MEMBERSHIPS_FILE,
            lambda path: memberships_file.write_memberships(
                # pandas' name for a header's empty cell is no name to join by in R, whose
                # read.csv makes it "Unnamed..0" (QA138 L1): "row"
                result, path, row_column=index if index and not index.startswith(
                    "Unnamed: ") else "row", **em_rows),
            memberships),
    }


def _print_result(result: BayesResult, thresholds: DiagnosticThresholds | None = None):
    """Print the estimates, the label switching, the verdict and the predictive check's
    finding; return the Diagnostics and the PredictiveCheck (for the report: not computed
    twice)."""
    em = result.em
    # MAP-EM (mclust's conjugate prior) from the candidate the model's own density prefers:
    # near the posterior's mode, not exactly it (the sampled model's priors differ).
    # its components' numbers are the ones the posterior keeps, not `bayesgmm em`'s own
    # (QA160 L4: memberships.csv of em and of fit, side by side, numbered apart)
    kind = ("MAP-EM start (where the chains began, near a posterior mode; its component "
            "numbers, which the posterior keeps, need not be `bayesgmm em`'s)"
            if em.prior is not None else "EM start")
    # With start candidates, n_iter counts the chosen one's polish, or its own best restart
    from .em import iterations_of

    steps = (f"{em.n_iter} iterations ({iterations_of(em)}, of {len(em.candidates)} start "
             "candidates)" if em.candidates else f"{em.n_iter} iterations")
    print(f"\n{kind}: log-likelihood {em.log_likelihood:,.2f} after {steps} "
          f"(converged: {'yes' if em.converged else 'no'})")
    from .report import (
        converged_sentence,
        estimate_digits,
        mark_components,
        parameter_table,  # sds and correlations, once
        restart_sentence,
        stop_sentence,
    )

    # judged first: the table marks the components the verdict says describe no single
    # cluster, as the report's does (QA: printed unmarked on the console)
    diag = _diagnose(result, thresholds)
    check = _model_check(result)  # its status line beside the diagnostics'
    columns = ["EM", "mean", "sd", "eti94_lb", "eti94_ub"]
    table, left_out = _console_rows(parameter_table(result))
    # Numbers as the report prints them: by magnitude (33,004, not 3.3e+04 beside 514.8), the
    # posterior's to the digits its Monte Carlo error supports (QA: "30,417" for 30,400 +- 220)
    shown = estimate_digits(table, columns[1:])[columns].rename(
        columns={"eti94_lb": "lower", "eti94_ub": "upper"}).assign(
        **{"EM inside": table["EM inside"].map(format_number)})
    unidentified = tuple(getattr(diag, "unreported_components", ()) or ())
    shown = mark_components(shown, result, unidentified)
    n_draws = int(result.idata["posterior"].sizes["draw"])
    if n_draws < _TABLE_MIN_DRAWS:  # QA: 30 rows of 4-digit means from 4 draws in all
        print(f"\nThe posterior table is left out: {per_chain(n_draws)} cannot summarise "
              "the posterior (result.compare_em() and estimates.csv still hold the numbers)")
    else:
        _print_parameter_table(result, shown, left_out, unidentified)
    print(f"\n{result.label_switching}")
    _print_verdict(diag)
    restarted = restart_sentence(result.settings.get("retried"))
    if restarted:  # QA: said by the report's verdict only
        print(f"  note: {restarted}")
    stopped = stop_sentence(result.settings.get("adaptive"))
    if stopped:
        print(f"  note: {stopped}")
    converged = converged_sentence(result.settings.get("adaptive"))
    if converged:
        print(f"  {converged}")
    _print_model_check(check, not diag.ok)  # after the verdict's own notes (review)
    timing = result.settings.get("timing", {})
    if timing:
        print("time: " + ", ".join(f"{step} {seconds}" for step, seconds in
                                   timing_parts(timing)))
    return diag, check


# Fewer draws per chain than this summarise nothing: the console leaves the table out (the
# rank test's minimum of roughly independent draws, diagnostics._MIN_RANK_DRAWS).
_TABLE_MIN_DRAWS = 20


def _print_parameter_table(result, shown, left_out: int, unidentified) -> None:
    """The start beside the posterior, row by row, with its footnotes."""
    from .observation_record import component_titles
    from .report import components_phrase

    em = result.em
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        # "EM" is the start above: the MAP-EM start, not bayesgmm em's maximum likelihood
        print(f"\n{'MAP-EM start' if em.prior is not None else 'EM start'} (column EM) vs "
              "posterior (94% equal-tailed interval):")
        print(shown.to_string())
        if left_out:
            # QA: "in the report's table" after a fit without --report
            # QA: compare_em has the covariances, not the sds and correlations
            print(f"({left_out} more rows, sds and correlations with the EM value inside its "
                  "interval, are in estimates.csv, in the report's table when there is one, "
                  "and in result.summary(var_names=['sd', 'corr']))")
        if unidentified:
            titles = component_titles(result, em.n_components)
            named = components_phrase([titles[k] for k in unidentified])
            print(f"\u2020 {named[0].upper()}{named[1:]}: these rows' draws describe no "
                  "single cluster (the diagnostics below say why); do not report them as one "
                  "estimate")


# The parameter table the console prints in full up to this many rows (K = 3 full in 3-D has
# 30); beyond, the weights, the means and the rows whose EM value is outside its interval.
_CONSOLE_ROWS = 60


def _console_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The rows of the parameter table the console shows, and how many it leaves out (QA: a
    13-D full fit printed 315 rows, the verdict scrolled away above them)."""
    if len(table) <= _CONSOLE_ROWS:
        return table, 0
    names = table.index.to_series()
    keep = (names.str.startswith(("weight", "mean", "noise")) | ~table["EM inside"].astype(bool))
    return table[keep.to_numpy()], int((~keep).sum())


def _diagnose(result: BayesResult, thresholds: DiagnosticThresholds | None):
    """The result's diagnostics under ``thresholds`` (None: the fit's own), announced; those
    the fit made of these draws under the same thresholds where it made them (QA157 M2: the
    same R-hat and ESS computed twice in a row)."""
    from .sampling import checks_at_fit

    made = checks_at_fit(result)
    if made is not None and thresholds in (None, result.thresholds):
        return made
    with ignored():
        progress.say("checking convergence (R-hat, ESS, rank tests, divergences)")
        return result.diagnostics(**(thresholds.to_dict() if thresholds else {}))


def _print_outliers_first(hint: str, diag: Any, frame: Any, observed: dict[str, Any]) -> None:
    """Where sampling failed and the noise hint names rows, that the rows are the likelier
    cause, before the sampler's advice is followed (QA89); the copies where the rows look
    copied (QA132 M2)."""
    if hint and not diag.ok:
        from ._validation import copied_rows_fact
        from .verdict import outliers_first

        copies = copied_rows_fact(frame.to_numpy(), observed.get("sample_weight"))
        print(f"  {outliers_first(copies)}.")


def _print_verdict(diag) -> None:
    print(f"\nDiagnostics: {diag.verdict}")
    for advice in diag.advice:
        print(f"  advice: {advice}")


def _model_check(result: BayesResult):
    """The posterior predictive check, with the report's default seed (0): the console and
    the report read the same replicates."""
    _use_agg()
    from .plots import predictive_check

    progress.say("posterior predictive check (data sets replicated from the posterior)")
    return predictive_check(result, random_state=0)


def _print_model_check(check, provisional: bool = False) -> None:
    """The predictive check's finding under the sampling verdict, in the words of the
    report's section on it; nothing when the model reproduces every statistic. QA: a K=1 fit
    of one heavy-tailed cluster printed "OK" with no word of the skewness and kurtosis that
    no replicate reached, while the report's box said CAUTION."""
    finding = check.finding(provisional=provisional)
    if finding:
        print(f"\nModel check: CAUTION: {finding}")
    elif check.not_judged:  # said, so that no word is not read as a pass
        print(f"\nModel check: not judged: {check.not_judged}.")


__all__ = ["main"]
