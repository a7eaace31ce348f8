"""The statistical report: one self-contained HTML file, with the figures also as PNG files.

:func:`write_report` writes ``report.html`` (figures embedded as base64 PNG, inline CSS, no
scripts and no network access) and ``figures/*.png`` into a result directory;
:func:`build_report` returns the same HTML and PNG bytes without touching the disk.

Sections: data overview; the EM fit (parameters, convergence, BIC/AIC); the posterior summary;
EM against the posterior (table and overlay figure); membership uncertainty; diagnostics (trace
and rank plots, divergences, E-BFMI, label switching, a plain-language verdict); a posterior
predictive density check; and the priors, sampler settings, seed and software versions.
"""

from __future__ import annotations

import base64
import html
import io
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import plots
from .persistence import software_versions
from .posterior import BayesResult

__all__ = ["Figure", "build_report", "format_number", "write_report"]

REPORT_NAME = "report.html"
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
                 data_source: str | None = None, random_state: Any = 0) -> Path:
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

    Returns
    -------
    Path of ``report.html``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    page, figures = build_report(result, data_source=data_source, random_state=random_state)
    tmp = Path(tempfile.mkdtemp(prefix=".report-tmp-", dir=directory))
    try:
        (tmp / FIGURES_DIR).mkdir()
        for fig in figures:
            (tmp / FIGURES_DIR / f"{fig.name}.png").write_bytes(fig.png)
        (tmp / REPORT_NAME).write_text(page, encoding="utf-8")
        old = directory / FIGURES_DIR
        if old.exists():
            shutil.rmtree(old)
        os.rename(tmp / FIGURES_DIR, old)
        os.replace(tmp / REPORT_NAME, directory / REPORT_NAME)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return directory / REPORT_NAME


def build_report(result: BayesResult, *, data_source: str | None = None,
                 random_state: Any = 0) -> tuple[str, list[Figure]]:
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
        diag = result.diagnostics()
        summary = result.summary()
    proba = result.predict_proba(X)
    figures: list[Figure] = []

    def figure(name: str, caption: str, make) -> str:
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
                        css=_CSS, body="\n".join(sections))
    return page, figures


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
    versions = software_versions()
    versions_table = pd.DataFrame({"version": list(versions.values())}, index=list(versions))
    seed = result.settings.get("random_state")
    return _section(
        "reproducibility", "8. Priors, settings and software",
        "<p>Priors are stated on the standardised scale z = (x - mean) / sd "
        f"(centre {', '.join(format_number(c) for c in result.standardisation.center)}; "
        f"scale {', '.join(format_number(s) for s in result.standardisation.scale)}).</p>",
        "<h3>Priors</h3>", _table(priors),
        f"<h3>Sampler settings</h3><p>Seed: <code>{html.escape(str(seed))}</code></p>",
        _table(settings_table),
        "<h3>Software</h3>", _table(versions_table),
    )


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
<nav><a href="#data">Data</a><a href="#em">EM</a><a href="#summary">Posterior</a>
<a href="#compare">EM vs MCMC</a><a href="#membership">Membership</a>
<a href="#diagnostics">Diagnostics</a><a href="#ppc">Predictive check</a>
<a href="#reproducibility">Settings</a></nav>
{body}
</body>
</html>
"""
