"""The ``bayesgmm`` command line: argument parsing, calling the API, formatting, exit codes.

Commands: ``fit`` (a data file), ``run`` (a TOML specification) and ``report`` (regenerate the
HTML report of a saved result). ``fit`` and ``run`` save the result directory (see
:mod:`bayesgmm.persistence`) and optionally the report inside it.

Exit status: 0 success, 2 bad input (one-line message naming the problem, no traceback). Every
input, including the output directory, is checked before sampling starts, and the result is
written atomically, so a failure leaves no partial output.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ._validation import COVARIANCE_TYPES
from .io import load_spec, read_table
from .persistence import check_writable, load, save
from .posterior import BayesResult
from .sampling import SAMPLERS, fit_bayes

EXIT_BAD_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"bayesgmm: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bayesgmm",
        description="Gaussian mixtures: EM estimate and NUTS posterior, with diagnostics.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    fit = sub.add_parser("fit", help="fit EM then the posterior to a CSV/Parquet file")
    fit.add_argument("data", help="CSV or Parquet file (or bundled:old_faithful)")
    fit.add_argument("-k", "--components", type=int, required=True, dest="n_components")
    fit.add_argument("--covariance", choices=COVARIANCE_TYPES, default="full")
    fit.add_argument("--columns", help="comma-separated columns to use (default: all)")
    fit.add_argument("--dropna", action="store_true", help="drop rows with missing values")
    fit.add_argument("--draws", type=int, default=1000)
    fit.add_argument("--tune", type=int, default=1000)
    fit.add_argument("--chains", type=int, default=4)
    fit.add_argument("--sampler", choices=SAMPLERS, default="nutpie")
    fit.add_argument("--seed", type=int, default=None)
    fit.add_argument("--no-progress", action="store_true")
    fit.add_argument("--out", help="result directory (default: results/<data stem>_k<K>)")
    _output_flags(fit)
    fit.set_defaults(func=_cmd_fit)

    run = sub.add_parser("run", help="run a declarative model specification (models/*.toml)")
    run.add_argument("spec", help="path to a TOML specification")
    run.add_argument("--no-progress", action="store_true")
    run.add_argument("--force", action="store_true",
                     help="replace an existing result in the spec's output directory")
    run.set_defaults(func=_cmd_run)

    report = sub.add_parser("report", help="(re)generate the HTML report of a saved result")
    report.add_argument("directory", help="a result directory written by fit or run")
    report.set_defaults(func=_cmd_report)
    return parser


def _output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true",
                        help="replace an existing result in the output directory")
    parser.add_argument("--report", action="store_true",
                        help="write report.html (and the figures as PNG) into the result")


def _cmd_fit(args: argparse.Namespace) -> int:
    columns = _columns(args.columns)
    frame, dropped = read_table(args.data, columns, dropna=args.dropna)
    if dropped:
        print(f"dropped {dropped} row(s) with missing values")
    _check_k(args.n_components, frame, args.data)
    for name in ("draws", "chains"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be >= 1; got {getattr(args, name)}")
    if args.tune < 0:
        raise ValueError(f"--tune must be >= 0; got {args.tune}")
    out = Path(args.out) if args.out else default_output(args.data, args.n_components)
    check_writable(out, overwrite=args.force)  # before sampling: fail in seconds, not minutes
    result = fit_bayes(
        frame, args.n_components, covariance_type=args.covariance, draws=args.draws,
        tune=args.tune, chains=args.chains, sampler=args.sampler, random_state=args.seed,
        progressbar=not args.no_progress,
    )
    _print_result(result)
    _save(result, out, force=args.force, report=args.report,
          data_source=str(args.data))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    frame, dropped = read_table(spec.data_path, spec.columns, dropna=spec.dropna)
    if dropped:
        print(f"dropped {dropped} row(s) with missing values")
    _check_k(spec.n_components, frame, spec.data_path)
    out = Path(spec.output) if spec.output else Path("results") / spec.path.stem
    check_writable(out, overwrite=args.force)
    print(f"{spec.path.name}: {len(frame)} rows x {frame.shape[1]} column(s) "
          f"{list(frame.columns)}; K={spec.n_components}, {spec.covariance_type} covariances")
    result = fit_bayes(
        frame, spec.n_components, covariance_type=spec.covariance_type, priors=spec.priors,
        draws=spec.draws, tune=spec.tune, chains=spec.chains, sampler=spec.sampler,
        random_state=spec.seed, progressbar=not args.no_progress,
        ordered_means=spec.ordered_means, target_accept=spec.target_accept,
    )
    _print_result(result)
    _save(result, out, force=args.force, report=spec.report, data_source=str(spec.path))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    _use_agg()
    from .report import write_report

    directory = Path(args.directory)
    result = load(directory)
    if not isinstance(result, BayesResult):
        raise ValueError(f"{directory} holds an EM result; the report needs a Bayesian fit")
    check_writable(directory / "report.html", overwrite=True)
    html = write_report(result, directory)
    print(f"report: {html}")
    return 0


def _use_agg() -> None:
    # The CLI only writes files: never open a window, whatever the environment offers.
    import matplotlib

    matplotlib.use("Agg")


def default_output(data: str, n_components: int) -> Path:
    """``results/<data stem>_k<K>``; ``bundled:NAME`` gives ``results/NAME_k<K>``."""
    stem = data.split(":", 1)[1] if data.startswith("bundled:") else Path(data).stem
    return Path("results") / f"{stem}_k{n_components}"


def _columns(text: str | None) -> list[str] | None:
    if not text:
        return None
    columns = [c.strip() for c in text.split(",")]
    if any(not c for c in columns):
        raise ValueError(f"--columns has an empty name: {text!r}")
    return columns


def _check_k(n_components: int, frame: pd.DataFrame, source: str) -> None:
    if n_components < 1:
        raise ValueError(f"the number of components must be >= 1; got {n_components}")
    if n_components > len(frame):
        raise ValueError(
            f"K={n_components} components is more than the {len(frame)} row(s) of {source}"
        )


def _save(result: BayesResult, out: Path, *, force: bool, report: bool,
          data_source: str) -> None:
    extra = None
    if report:
        _use_agg()
        from .report import write_report

        def extra(directory: Path) -> None:
            write_report(result, directory, data_source=data_source)

    save(result, out, overwrite=force, extra=extra)
    print(f"\nsaved to {out}" + (f" (report: {out / 'report.html'})" if report else ""))


def _print_result(result: BayesResult) -> None:
    em = result.em
    print(f"\nEM: log-likelihood {em.log_likelihood:.3f} after {em.n_iter} iterations "
          f"(converged: {em.converged})")
    with pd.option_context("display.width", 120, "display.max_rows", 200,
                           "display.float_format", "{:.4g}".format):
        print("\nEM estimate vs posterior (94% equal-tailed interval):")
        print(result.compare_em().to_string())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diag = result.diagnostics()
    print(f"\n{result.label_switching}")
    print(f"\nDiagnostics: {diag.verdict}")
    timing = result.settings.get("timing", {})
    if timing:
        print("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in timing.items()))


__all__ = ["main"]
