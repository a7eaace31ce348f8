"""The statistical report: one self-contained HTML file, with the figures also as PNG files.

:func:`write_report` writes ``report.html`` (figures embedded as base64 PNG, inline CSS, no
scripts and no network access) and ``figures/*.png`` into a result directory;
:func:`build_report` returns the same HTML and PNG bytes without touching the disk. (Over 500
lines: one function per report section plus the shared HTML helpers they all use.)

Sections: data overview; the EM fit (parameters, convergence, BIC/AIC); the posterior summary;
EM against the posterior (table and overlay figure); membership uncertainty; diagnostics (trace
and rank plots, divergences, E-BFMI, label switching, a plain-language verdict); a posterior
predictive density check; and the priors, sampler settings, seed and software versions.

:func:`write_selection_report` (``bayesgmm select``) writes ``select.html`` the same way for a
choice of the number of components: the EM information criteria, and optionally the PSIS-LOO
comparison and the posterior of the number of non-empty components of a sparse mixture.
"""

from __future__ import annotations

import base64
import html
import io
import os
import shutil
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import plots
from .persistence import (
    MANIFEST,
    in_progress,
    read_manifest,
    software_versions,
    write_directory,
    write_manifest,
)
from .posterior import BayesResult
from .selection import (
    CRITERIA,
    BayesSelection,
    EMSelection,
    SparseMixture,
    plot_criteria,
    plot_loo,
    plot_n_components,
)
from .settings import DiagnosticThresholds

__all__ = ["Figure", "build_report", "build_selection_report", "format_number", "k_plus_table",
           "write_report", "write_selection_report"]

REPORT_NAME = "report.html"
SELECTION_REPORT_NAME = "select.html"
FIGURES_DIR = "figures"
_DPI = 100


@dataclass(frozen=True)
class Figure:
    """One rendered figure of the report.

    Attributes
    ----------
    name : str
        File stem (``figures/<name>.png``).
    caption : str
    png : bytes
    """

    name: str
    caption: str
    png: bytes


def format_number(value: Any, digits: int = 4) -> str:
    """How the report prints a number: ``digits`` significant digits, integers as integers."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(x):
        return "n/a" if np.isnan(x) else str(x)
    return f"{x:.{digits}g}"


# --------------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------------
def write_report(result: BayesResult, directory: str | os.PathLike, *,
                 data_source: str | None = None, random_state: Any = 0,
                 thresholds: DiagnosticThresholds | None = None) -> Path:
    """Write ``report.html`` and ``figures/*.png`` into ``directory``.

    The files are rendered into a temporary directory first and moved into place at the end,
    so an existing report is replaced whole or not at all.

    Parameters
    ----------
    result : BayesResult
    directory : str or path-like
        Usually the saved result's directory; created if missing.
    data_source : str, optional
        Where the data came from (file name), shown in the title.
    random_state : int, optional
        Seeds the posterior draws shown in the figures.
    thresholds : DiagnosticThresholds, optional
        What the diagnostics section and verdict hold the posterior to (default ones).

    Returns
    -------
    Path of ``report.html``.
    """
    page, figures = build_report(result, data_source=data_source, random_state=random_state,
                                 thresholds=thresholds)
    return _write_files(Path(directory), REPORT_NAME, page, figures)


def build_report(result: BayesResult, *, data_source: str | None = None,
                 random_state: Any = 0, thresholds: DiagnosticThresholds | None = None
                 ) -> tuple[str, list[Figure]]:
    """The report as an HTML string and its figures as PNG bytes.

    Returns
    -------
    html : str
        A complete, self-contained HTML document.
    figures : list of Figure
    """
    if not isinstance(result, BayesResult):
        raise ValueError(f"the report needs a BayesResult; got {type(result).__name__}")
    X = np.asarray(result.idata["observed_data"]["x"].values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ warns on short chains; the report says so
        diag = result.diagnostics(**(thresholds or DiagnosticThresholds()).to_dict())
        summary = result.summary()
    proba = result.predict_proba(X)
    figures: list[Figure] = []
    figure = _embedder(figures)
    sections = [
        _verdict_box(diag),
        _section_data(result, X, figure),
        _section_em(result, X, figure),
        _section_summary(summary),
        _section_compare(result, figure, random_state),
        _section_membership(result, X, proba, figure),
        _section_diagnostics(result, diag, figure),
        _section_ppc(result, figure, random_state),
        _section_reproducibility(result),
    ]
    title = f"bayesgmm report: {data_source or 'Gaussian mixture'}"
    subtitle = (f"{X.shape[0]} points x {X.shape[1]} feature(s) ({', '.join(result.feature_names)})"
                f"; K = {result.n_components}, {result.covariance_type} covariances; "
                f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    page = _PAGE.format(title=html.escape(title), subtitle=html.escape(subtitle),
                        css=_CSS, nav=_NAV, body="\n".join(sections))
    return page, figures


def _write_files(directory: Path, page_name: str, page: str, figures: list[Figure], *,
                 kind: str = "Report") -> Path:
    """Write ``page_name`` and ``figures/*.png`` into ``directory``, replacing both whole.

    Through :func:`bayesgmm.persistence.write_directory`: a new (or empty) ``directory`` is
    created with a manifest of ``kind``; a directory bayesgmm wrote (a saved result, an earlier
    report) is rebuilt beside itself, its other files carried over as hard links (copies where
    links are impossible), and swapped in, so the old report is replaced atomically or not at
    all. Symbolic links in it are never followed; anything else is refused. A directory that
    this process is building (``save(..., extra=...)``) is written into directly.
    """
    def fill(tmp: Path) -> None:
        (tmp / FIGURES_DIR).mkdir()
        for fig in figures:
            (tmp / FIGURES_DIR / f"{fig.name}.png").write_bytes(fig.png)
        (tmp / page_name).write_text(page, encoding="utf-8")

    if in_progress(directory):  # inside a save() or select's write: private, being built
        fill(directory)
        if not (directory / MANIFEST).exists():
            write_manifest(directory, kind)
    elif directory.is_dir() and not directory.is_symlink() and any(directory.iterdir()):
        def rebuild(tmp: Path) -> None:
            # A report's own manifest lists (and checksums) the report: write it anew. A
            # result's manifest covers the result's files only and is carried over as it is.
            own = _manifest_kind(directory) in ("Report", "SelectionReport")
            _carry_over(directory, tmp, skip={page_name, FIGURES_DIR} | ({MANIFEST} if own
                                                                          else set()))
            fill(tmp)
            if own:
                write_manifest(tmp, _manifest_kind(directory))

        write_directory(directory, rebuild, overwrite=True)
    else:
        write_directory(directory, fill, kind=kind)
    return directory / page_name


def _manifest_kind(directory: Path) -> str | None:
    try:
        return read_manifest(directory).get("kind")
    except ValueError:
        return None


def _carry_over(source: Path, target: Path, skip: set[str]) -> None:
    """Hard-link (or copy) the regular files of ``source`` into ``target``, skipping ``skip``.

    Only what bayesgmm writes is carried (``write_directory`` has refused anything else);
    a symbolic link is an error, never followed out of the directory.
    """
    for entry in source.iterdir():
        if entry.name in skip:
            continue
        if entry.is_symlink() or not entry.is_file():
            raise ValueError(f"{entry} is not a regular file (a symbolic link or a directory); "
                             f"the report of {source} is not rewritten through it")
        try:
            os.link(entry, target / entry.name)
        except OSError:  # another filesystem, or links not supported
            shutil.copy2(entry, target / entry.name, follow_symlinks=False)


def _embedder(figures: list[Figure]) -> Callable[[str, str, Callable[[], Any]], str]:
    """``figure(name, caption, make)``: render ``make()``, keep its PNG in ``figures`` and
    return the ``<figure>`` element embedding it (or a warning paragraph if ``make`` fails)."""

    def figure(name: str, caption: str, make: Callable[[], Any]) -> str:
        try:
            fig = make()
        except Exception as exc:  # one failed figure must not cost the whole report
            return f'<p class="warn">Figure "{html.escape(name)}" failed: ' \
                   f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>"
        png = _png(fig)
        figures.append(Figure(name, caption, png))
        data = base64.b64encode(png).decode("ascii")
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>")

    return figure


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    plt.close(fig)  # ArviZ figures live in pyplot; ours are bare Figures (a no-op)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------------------------
def _verdict_box(diag) -> str:
    cls = "ok" if diag.ok else "bad"
    return f'<div class="verdict {cls}"><strong>Verdict.</strong> {html.escape(_plain(diag))}' \
           f'<br><code>{html.escape(diag.verdict)}</code></div>'


def _plain(diag) -> str:
    """The verdict in plain language: can the numbers be used, and if not, what to do."""
    if diag.ok:
        return ("The chains agree with each other, mixed well and sampled without divergences: "
                "the posterior summaries in this report can be used as they are (to within the "
                "Monte Carlo standard errors).")
    if getattr(diag, "advice", ()):  # the causes the evidence points to (diagnostics.py)
        return ("Do not rely on these posterior summaries yet: at least one convergence check "
                "failed. " + " ".join(a[0].upper() + a[1:] for a in diag.advice))
    advice = []
    names = {c.name for c in diag.checks if not c.passed}
    if any("R-hat" in n or "ESS" in n for n in names):
        advice.append("run longer chains (more draws and tuning)")
    if any("divergen" in n for n in names):
        advice.append("raise target_accept or reconsider the priors/number of components")
    if any("mode" in n for n in names):
        advice.append("check whether K is too large: a chain found a different explanation")
    if any("BFMI" in n or "tree" in n for n in names):
        advice.append("suspect a difficult geometry (too many components, weak priors)")
    what = "; ".join(advice) if advice else "inspect the failed checks below"
    return ("Do not rely on these posterior summaries yet: at least one convergence check "
            f"failed. Suggested next step: {what}.")


def _section(anchor: str, title: str, *parts: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>\n' + "\n".join(parts) + \
        "</section>"


def _table(frame: pd.DataFrame, digits: int = 4, index: bool = True) -> str:
    """A DataFrame as an HTML table with numbers through :func:`format_number`."""
    shown = frame.copy().astype(object)
    for col in shown.columns:
        shown[col] = [format_number(v, digits) for v in frame[col]]
    return shown.to_html(classes="tbl", index=index, escape=True, border=0)


def _section_data(result, X, figure) -> str:
    frame = pd.DataFrame(X, columns=list(result.feature_names))
    desc = pd.DataFrame({
        "mean": frame.mean(), "sd": frame.std(), "min": frame.min(),
        "median": frame.median(), "max": frame.max(),
    })
    fig = figure("data", "The data", lambda: plots.plot_data(X, result.feature_names))
    return _section("data", "1. Data overview",
                    f"<p>{X.shape[0]} observations of {X.shape[1]} feature(s), no missing values "
                    "(rows with missing values are refused or dropped before fitting).</p>",
                    _table(desc), fig)


def _section_em(result, X, figure) -> str:
    em = result.em
    names = result.feature_names
    rows = []
    full = em.full_covariances
    for k in range(em.n_components):
        row = {"weight": em.weights[k]}
        row.update({f"mean[{f}]": em.means[k, i] for i, f in enumerate(names)})
        for i, fi in enumerate(names):
            for j in range(i, len(names)):
                row[f"cov[{fi}, {names[j]}]"] = full[k, i, j]
        rows.append(row)
    params = pd.DataFrame(rows, index=pd.Index(range(em.n_components), name="component"))
    stats = {
        "log-likelihood": em.log_likelihood,
        "log posterior (MAP-EM)": em.log_posterior if em.log_posterior is not None else np.nan,
        "iterations": em.n_iter,
        "converged": em.converged,
        "free parameters": em.n_parameters,
        "BIC (lower is better)": em.bic(X),
        "AIC (lower is better)": em.aic(X),
    }
    stats_table = pd.DataFrame({"value": list(stats.values())}, index=list(stats))
    prior = "MAP-EM under mclust's conjugate default prior" if em.prior is not None \
        else "maximum likelihood"
    fig = figure("em_convergence", "EM objective per iteration",
                 lambda: plots.plot_em_convergence(em))
    warn = "".join(f'<p class="warn">{html.escape(w)}</p>' for w in em.warnings)
    return _section("em", "2. EM fit",
                    f"<p>The EM estimate ({prior}) starts every chain and is the reference "
                    "labelling of the components.</p>", warn,
                    "<h3>Parameters</h3>", _table(params, digits=6),
                    "<h3>Fit</h3>", _table(stats_table, digits=6), fig)


def _section_summary(summary: pd.DataFrame) -> str:
    cols = [c for c in ("mean", "sd", "eti94_lb", "eti94_ub", "r_hat", "ess_bulk", "ess_tail")
            if c in summary.columns]
    shown = summary[cols].rename(columns={"eti94_lb": "94% lower", "eti94_ub": "94% upper",
                                          "r_hat": "R-hat", "ess_bulk": "bulk ESS",
                                          "ess_tail": "tail ESS"})
    return _section("summary", "3. Posterior summary",
                    "<p>Posterior mean, standard deviation, 94% equal-tailed interval, "
                    "rank-normalised split R-hat and bulk/tail effective sample sizes, in data "
                    "units, after relabelling to the EM components.</p>", _table(shown))


def _section_compare(result, figure, random_state) -> str:
    comp = result.compare_em()
    comp = comp.rename(columns={"em": "EM", "lower": "94% lower", "upper": "94% upper",
                                "em_in_interval": "EM inside interval"})
    outside = int((~result.compare_em()["em_in_interval"]).sum())
    note = ("Every EM estimate lies inside its posterior interval." if outside == 0 else
            f"{outside} EM estimate(s) lie outside the posterior interval: the point estimate "
            "and the posterior disagree there (MAP vs posterior mean, skewed or multimodal "
            "posterior).")
    fig = figure("overlay", "EM fit (dashed) against posterior draws",
                 lambda: plots.plot_overlay(result, random_state=random_state))
    return _section("compare", "4. EM vs MCMC",
                    f"<p>The EM point estimate beside the posterior. {note}</p>",
                    _table(comp), fig)


def _section_membership(result, X, proba, figure, n_uncertain: int = 10) -> str:
    assigned = np.argmax(proba.mean, axis=1)
    rows = np.arange(len(X))
    certainty = proba.mean[rows, assigned]
    order = np.argsort(certainty)[:n_uncertain]
    table = pd.DataFrame({f: X[order, i] for i, f in enumerate(result.feature_names)},
                         index=pd.Index(order, name="row"))
    table["component"] = assigned[order]
    table["probability"] = certainty[order]
    table["94% lower"] = proba.lower[order, assigned[order]]
    table["94% upper"] = proba.upper[order, assigned[order]]
    n_unsure = int((certainty < 0.9).sum())
    fig = figure("membership", "Membership uncertainty",
                 lambda: plots.plot_membership(result, X, proba=proba, n_uncertain=n_uncertain))
    return _section("membership", "5. Membership uncertainty",
                    f"<p>{n_unsure} of {len(X)} points have a posterior mean probability below "
                    "0.9 for their most probable component. The most uncertain points:</p>",
                    _table(table), fig)


def _section_diagnostics(result, diag, figure) -> str:
    checks = diag.to_frame().set_index("check")
    problems = "".join(f"<li>{html.escape(p)}</li>" for p in diag.problems)
    not_checked = "".join(f"<li>{html.escape(n)}</li>" for n in diag.not_checked)
    per_chain = pd.DataFrame(
        {"divergences": list(diag.divergences_per_chain) or [np.nan] * len(diag.chains),
         "E-BFMI": list(diag.ebfmi_per_chain) or [np.nan] * len(diag.chains),
         "mode shift (sd)": list(diag.mode_shift_per_chain) or [np.nan] * len(diag.chains)},
        index=pd.Index(diag.chains, name="chain"),
    )
    n_div = "not recorded" if diag.n_divergences is None else str(diag.n_divergences)
    trace = figure("trace", "Trace and per-chain densities (ArviZ plot_trace_dist)",
                   lambda: plots.plot_trace(result))
    rank = figure("rank", "Rank plots (ArviZ plot_rank): flat, overlapping = well mixed",
                  lambda: plots.plot_rank(result))
    return _section(
        "diagnostics", "6. Diagnostics",
        f"<p>{html.escape(_plain(diag))}</p>",
        f"<p><code>{html.escape(diag.verdict)}</code></p>",
        _table(checks),
        f"<h3>Problems</h3><ul>{problems}</ul>" if problems else "",
        f"<h3>Not checked</h3><ul>{not_checked}</ul>" if not_checked else "",
        f"<h3>Per chain</h3><p>Divergent transitions: {n_div}.</p>", _table(per_chain),
        "<h3>Label switching</h3>", f"<pre>{html.escape(str(result.label_switching))}</pre>",
        trace, rank,
    )


def _section_ppc(result, figure, random_state) -> str:
    fig = figure("ppc", "Posterior predictive density check",
                 lambda: plots.plot_ppc_density(result, random_state=random_state))
    return _section("ppc", "7. Posterior predictive check",
                    "<p>Data sets simulated from the posterior (one per random draw) against the "
                    "observed data: the observed density should look like one more replicate."
                    "</p>", fig)


def _section_reproducibility(result) -> str:
    priors = pd.DataFrame({"value": list(result.priors.to_dict().values())},
                          index=list(result.priors.to_dict()))
    priors["distribution"] = [_PRIOR_TEXT.get(k, "") for k in priors.index]
    settings = {k: v for k, v in result.settings.items() if k != "timing"}
    settings.update({f"time: {k}": v for k, v in result.settings.get("timing", {}).items()})
    settings_table = pd.DataFrame({"value": list(settings.values())}, index=list(settings))
    seed = result.settings.get("random_state")
    return _section(
        "reproducibility", "8. Priors, settings and software",
        "<p>Priors are stated on the standardised scale z = (x - mean) / sd "
        f"(centre {', '.join(format_number(c) for c in result.standardisation.center)}; "
        f"scale {', '.join(format_number(s) for s in result.standardisation.scale)}).</p>",
        "<h3>Priors</h3>", _table(priors),
        f"<h3>Sampler settings</h3><p>Seed: <code>{html.escape(str(seed))}</code></p>",
        _table(settings_table),
        "<h3>Software</h3>", _versions_table(),
    )


def _versions_table() -> str:
    versions = software_versions()
    return _table(pd.DataFrame({"version": list(versions.values())}, index=list(versions)))


# --------------------------------------------------------------------------------------------
# the model-selection report (``bayesgmm select``)
# --------------------------------------------------------------------------------------------
def write_selection_report(selection: EMSelection, directory: str | os.PathLike, *,
                           bayes: BayesSelection | None = None,
                           sparse: SparseMixture | None = None,
                           data_source: str | None = None,
                           settings: Mapping[str, Any] | None = None) -> Path:
    """Write ``select.html`` and ``figures/*.png`` for a choice of the number of components.

    Parameters
    ----------
    selection : EMSelection
        From :func:`bayesgmm.selection.select_em`.
    directory : str or path-like
        Created if missing; an existing ``select.html`` and ``figures/`` are replaced whole.
    bayes : BayesSelection, optional
        From :func:`bayesgmm.selection.select_bayes` (adds the PSIS-LOO section).
    sparse : SparseMixture, optional
        From :func:`bayesgmm.selection.fit_sparse` (adds the K+ section).
    data_source : str, optional
        Where the data came from, shown in the title.
    settings : mapping, optional
        How the selection was run (shown with the software versions).

    Returns
    -------
    Path of ``select.html``.
    """
    page, figures = build_selection_report(selection, bayes=bayes, sparse=sparse,
                                           data_source=data_source, settings=settings)
    return _write_files(Path(directory), SELECTION_REPORT_NAME, page, figures,
                        kind="SelectionReport")


def build_selection_report(selection: EMSelection, *, bayes: BayesSelection | None = None,
                           sparse: SparseMixture | None = None, data_source: str | None = None,
                           settings: Mapping[str, Any] | None = None
                           ) -> tuple[str, list[Figure]]:
    """The model-selection report as an HTML string and its figures as PNG bytes.

    Sections: the EM information criteria (best cell per criterion, BIC/AIC/ICL tables, BIC and
    ICL curves, every fit's convergence); the PSIS-LOO comparison (with ``bayes``); the
    posterior of the number of non-empty components (with ``sparse``); settings and software.
    """
    if not isinstance(selection, EMSelection):
        raise ValueError(f"the selection report needs an EMSelection; got "
                         f"{type(selection).__name__}")
    figures: list[Figure] = []
    figure = _embedder(figures)
    parts = [_section_criteria(selection, figure)]
    if bayes is not None:
        parts.append(_section_loo(bayes, figure))
    if sparse is not None:
        parts.append(_section_sparse(sparse, figure))
    parts.append(_section_selection_settings(selection, settings))
    sections = [_section(anchor, f"{i}. {title}", *body)
                for i, (anchor, title, body) in enumerate(parts, start=1)]
    nav = "".join(f'<a href="#{anchor}">{html.escape(title)}</a>' for anchor, title, _ in parts)
    table = selection.table
    ks, cts = sorted(table["n_components"].unique()), list(table["covariance_type"].unique())
    fit = next(iter(selection.fits.values()), None)
    features = f" ({', '.join(fit.feature_names)})" if fit is not None else ""
    n_features = f" x {fit.n_features} feature(s)" if fit is not None else ""
    title = f"bayesgmm model selection: {data_source or 'Gaussian mixture'}"
    subtitle = (f"{selection.n_samples} points{n_features}{features}; K = "
                f"{', '.join(map(str, ks))}; {', '.join(cts)} covariances; "
                f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    page = _PAGE.format(title=html.escape(title), subtitle=html.escape(subtitle),
                        css=_CSS, nav=nav, body="\n".join(sections))
    return page, figures


def _section_criteria(selection: EMSelection, figure) -> tuple[str, str, list[str]]:
    table = selection.table
    best = pd.DataFrame(
        [{"K": k, "covariance": ct,
          "value": table.loc[(table["n_components"] == k) & (table["covariance_type"] == ct),
                             criterion].iloc[0]}
         for criterion, (k, ct) in selection.best.items()],
        index=pd.Index([c.upper() for c in selection.best], name="criterion"))
    notes = []
    degenerate = table[table["degenerate"]]
    if len(degenerate):
        cells = ", ".join(f"K={r.n_components} {r.covariance_type}"
                          for r in degenerate.itertuples())
        notes.append(f"Degenerate (a component too small to estimate its covariance; its "
                     f"likelihood is inflated, so it is not eligible as best): {cells}.")
    notes += [f"Not fitted: K={r.n_components} {r.covariance_type}: {r.error}"
              for r in table[table["error"] != ""].itertuples()]
    fig = figure("criteria", "BIC and ICL against K, one line per covariance type (lower is "
                 "better; the best cell circled, degenerate cells crossed)",
                 lambda: plot_criteria(selection))
    pivots = [f"<h3>{c.upper()}</h3>" + _table(selection.pivot(c), digits=6) for c in CRITERIA]
    fits = table[["n_components", "covariance_type", "log_likelihood", "n_parameters",
                  "min_component_size", "degenerate", "converged", "n_iter", "warnings"]]
    return "criteria", "EM information criteria", [
        f"<p>EM fits (best of several restarts) of every K and covariance type to the "
        f"{selection.n_samples} observations. The criteria are on the -2 log-likelihood scale, "
        "<strong>lower is better</strong>: BIC = -2 log L + p log N, AIC = -2 log L + 2 p, "
        "ICL = BIC + 2 E with E the entropy of the MAP classification, so ICL also penalises "
        "overlapping components (mclust prints the same numbers with the opposite sign).</p>",
        f"<p>{html.escape(_agreement(selection.best))}</p>",
        "".join(f'<p class="warn">{html.escape(n)}</p>' for n in notes),
        "<h3>Best model per criterion</h3>", _table(best, digits=6), fig, *pivots,
        "<h3>Every fit</h3>", _table(fits, digits=6, index=False),
    ]


def _agreement(best: Mapping[str, tuple[int, str]]) -> str:
    """The best cells in words: do the criteria agree?"""
    if not best:
        return "No cell could be fitted."
    picks = {f"K={k} {ct}" for k, ct in best.values()}
    if len(picks) == 1:
        return f"All criteria choose {picks.pop()}."
    return ("The criteria disagree: " + "; ".join(f"{c.upper()} chooses K={k} {ct}"
                                                  for c, (k, ct) in best.items())
            + ". BIC targets the density, ICL well-separated clusters and AIC prediction "
              "(it tends to choose more components).")


def _section_loo(bayes: BayesSelection, figure) -> tuple[str, str, list[str]]:
    covariance = {getattr(r, "covariance_type", None) for r in bayes.results.values()} - {None}
    what = f" with {covariance.pop()} covariances" if len(covariance) == 1 else ""
    cols = ["rank", "elpd", "se", "elpd_diff", "dse", "p", "weight", "within_noise",
            "diag_elpd"]
    table = bayes.comparison[[c for c in cols if c in bayes.comparison.columns]]
    cls = "bad" if bayes.warnings else "ok"
    diagnostics = pd.DataFrame({"convergence": list(bayes.diagnostics.values())},
                               index=pd.Index(list(bayes.diagnostics), name="model"))
    fig = figure("loo", "elpd_loo per model with its standard error, and the difference from "
                 "the best with the standard error of the difference",
                 lambda: plot_loo(bayes))
    return "loo", "Bayesian comparison (PSIS-LOO)", [
        f"<p>The posterior of each K{what}, compared by the expected log predictive density "
        "estimated by Pareto-smoothed importance-sampling leave-one-out cross-validation "
        "(elpd_loo, <strong>higher is better</strong>). elpd_diff is each model minus the best "
        "and dse its standard error; a model is within noise of the best when |elpd_diff| is "
        "below 4 or about two dse (bayesgmm.selection.compare).</p>",
        f'<div class="verdict {cls}"><strong>Verdict.</strong> '
        f"{html.escape(bayes.verdict)}</div>",
        _table(table), fig,
        "<h3>Pareto k</h3><p>Observations with k above good_k have unreliable PSIS-LOO terms."
        "</p>", _table(bayes.pareto_k),
        "<h3>Convergence</h3>" + _table(diagnostics) if len(diagnostics) else "",
    ]


def _section_sparse(sparse: SparseMixture, figure) -> tuple[str, str, list[str]]:
    diag = sparse.diagnostics
    fig = figure("n_components", "Posterior of the number of non-empty components K+",
                 lambda: plot_n_components(sparse))
    return "sparse", "Sparse mixture: number of non-empty components", [
        f"<p>One overfitted mixture with K_max = {sparse.max_components} components and "
        f"Dirichlet(e0) weights, e0 = {format_number(sparse.concentration)} (Malsiner-Walli, "
        "Frühwirth-Schnatter &amp; Grün 2016): superfluous components are emptied, and the "
        "posterior of the number of components holding at least one observation, K+, "
        f"estimates the number of clusters. Posterior mode: <strong>K+ = {sparse.mode}"
        "</strong>. The answer depends on e0; report it with the result.</p>",
        f'<div class="verdict {"ok" if diag.ok else "bad"}"><strong>Diagnostics.</strong> '
        f"<code>{html.escape(diag.verdict)}</code></div>",
        "<h3>P(K+ = k), chain by chain</h3><p>Chains that disagree have not mixed over K+.</p>",
        _table(k_plus_table(sparse)), fig,
    ]


def k_plus_table(sparse: SparseMixture) -> pd.DataFrame:
    """P(K+ = k) chain by chain (rows ``0``, ``1``, ...) and over all chains (row ``all``)."""
    table = sparse.per_chain.copy()
    table.loc["all"] = sparse.posterior_counts.to_numpy()
    return table


def _section_selection_settings(selection: EMSelection,
                                settings: Mapping[str, Any] | None) -> tuple[str, str, list[str]]:
    values = {"root seed": selection.random_state, **(settings or {})}
    table = pd.DataFrame({"value": [str(v) for v in values.values()]}, index=list(values))
    return "reproducibility", "Settings and software", [
        "<p>Every grid cell is seeded from the root seed and the cell alone, so the same seed "
        "repeats the sweep whatever the number of parallel jobs.</p>",
        _table(table), "<h3>Software</h3>", _versions_table(),
    ]


_PRIOR_TEXT = {
    "weights_concentration": "weights ~ Dirichlet(alpha, ..., alpha)",
    "means_sd": "means (z) ~ Normal(0, means_sd)",
    "sd_median": "component sds (z) ~ LogNormal(log sd_median, sd_log_sd)",
    "sd_log_sd": "(see sd_median)",
    "lkj_eta": "correlations ~ LKJ(eta) (full and tied)",
}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; line-height: 1.45; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } .subtitle { color: #555; margin-top: 0; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
nav a { margin-right: 1em; }
table.tbl { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0 1em; }
table.tbl th, table.tbl td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
table.tbl thead th { background: #f0f0f0; } table.tbl tbody th { text-align: left; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
.verdict { padding: 0.8em 1em; border-radius: 6px; margin: 1em 0; }
.verdict.ok { background: #e7f6e7; border: 1px solid #6c6; }
.verdict.bad { background: #fdeaea; border: 1px solid #d66; }
.warn { color: #a40; } pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }
"""

_NAV = """<a href="#data">Data</a><a href="#em">EM</a><a href="#summary">Posterior</a>
<a href="#compare">EM vs MCMC</a><a href="#membership">Membership</a>
<a href="#diagnostics">Diagnostics</a><a href="#ppc">Predictive check</a>
<a href="#reproducibility">Settings</a>"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<h1>{title}</h1>
<p class="subtitle">{subtitle}</p>
<nav>{nav}</nav>
{body}
</body>
</html>
"""
