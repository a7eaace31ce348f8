"""The ``bayesgmm`` command line: argument parsing, calling the API, formatting, exit codes.

Exit status: 0 success, 2 bad input (one-line message naming the problem, no traceback).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

import pandas as pd

from ._validation import COVARIANCE_TYPES
from .io import load_spec, read_table
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
    fit.set_defaults(func=_cmd_fit)

    run = sub.add_parser("run", help="run a declarative model specification (models/*.toml)")
    run.add_argument("spec", help="path to a TOML specification")
    run.add_argument("--no-progress", action="store_true")
    run.set_defaults(func=_cmd_run)
    return parser


def _cmd_fit(args: argparse.Namespace) -> int:
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    frame, dropped = read_table(args.data, columns, dropna=args.dropna)
    if dropped:
        print(f"dropped {dropped} row(s) with missing values")
    result = fit_bayes(
        frame, args.n_components, covariance_type=args.covariance, draws=args.draws,
        tune=args.tune, chains=args.chains, sampler=args.sampler, random_state=args.seed,
        progressbar=not args.no_progress,
    )
    _print_result(result)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    frame, dropped = read_table(spec.data_path, spec.columns, dropna=spec.dropna)
    if dropped:
        print(f"dropped {dropped} row(s) with missing values")
    print(f"{spec.path.name}: {len(frame)} rows x {frame.shape[1]} column(s) "
          f"{list(frame.columns)}; K={spec.n_components}, {spec.covariance_type} covariances")
    result = fit_bayes(
        frame, spec.n_components, covariance_type=spec.covariance_type, priors=spec.priors,
        draws=spec.draws, tune=spec.tune, chains=spec.chains, sampler=spec.sampler,
        random_state=spec.seed, progressbar=not args.no_progress,
        ordered_means=spec.ordered_means, target_accept=spec.target_accept,
    )
    _print_result(result)
    return 0


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
