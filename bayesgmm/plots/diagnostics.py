"""Figures of a posterior's diagnostics: trace, rank and energy plots (ArviZ's), the forest of
the parameters against EM, and the posterior predictive checks.

They need a :class:`~bayesgmm.BayesResult` (an EM fit is refused with a pointer to the figures
that draw one).

(Over 500 lines: five figures, with the shortening and wrapping of long names and the checks
of their arguments that they share.)

Where it sits: the surface layer (:mod:`bayesgmm.plots`); imports
:mod:`bayesgmm.plots._common`, the input checks and the diagnostics (inside the functions);
imported by the package's facade.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy import stats

if TYPE_CHECKING:  # the posterior module imports ArviZ: an EM-only figure must not need it
    from ..posterior import BayesResult

from .._warn import IN_PACKAGE, ignored, warn
from ..figure_size import sizable
from ..formatting import format_number
from ..versions import release_problem
from ._common import (
    _DIAGNOSED,
    _KDE_POINTS,
    _MAX_VALUES,
    _NAME_CHARS,
    INTERVAL,
    PAGE_WIDTH,
    RANK_MAX_SCALARS,
    TRACE_MAX_SCALARS,
    _bulk,
    _component_names,
    _data,
    _density_ticks,
    _ellipsize,
    _is_bayes,
    _sample_rows,
    fit_of,
)
from ._notes import _note_outside
from ._styles import _component_color

# Four chains' traces overlap; see-through lines show each (at 1.0 the last hid the rest).
_TRACE_ALPHA = 0.5


# --------------------------------------------------------------------------------------------
# diagnostics (ArviZ) and posterior predictive check
# --------------------------------------------------------------------------------------------

@sizable
def plot_trace(result: BayesResult, var_names=None, ax: Axes | None = None,
               max_scalars: int | None = TRACE_MAX_SCALARS, *,
               relabelled: bool = True, part: tuple[int, int] | None = None) -> Figure:
    """Trace and per-chain densities (``arviz.plot_trace_dist``), one colour per chain with a
    chain legend; of the ``var_names`` the posterior has (the noise weight with a noise
    component).

    ``var_names`` None (the default): the weights (and the noise weight) and the means,
    *and* the scalars with the lowest bulk ESS, the lowest tail ESS and the highest R-hat over
    the whole posterior (the covariances included, a covariance matrix's entries once), each
    when it is not among those already: the worst-mixing scalar is often a covariance entry
    (Old Faithful: ``covariances[0, eruptions, waiting]``), which a trace of the weights and
    means alone would never show. The title names them. Given ``var_names``: those alone.

    With more than ``max_scalars`` scalars (None: no limit) only the ``max_scalars`` with the
    lowest bulk ESS are drawn, in their usual order, and the title says so: a row per scalar
    ran to 36 rows (7,000 pixels) at K=6, D=5, and the slowest-mixing scalars are the ones a
    trace plot is for (the rank plot and the tables show every one). Each scalar is named as
    in the tables (``means[1, x2]``), a long feature name shortened in its middle ("…").

    ``relabelled`` False draws the draws as sampled (``idata["posterior_unrelabelled"]``),
    before they were relabelled to the EM fit's components: label switching shows there as
    chains that jump between components' values, which the default (relabelled) figure
    shows repaired; the two side by side show the problem and its repair. The figure's
    title says which draws are shown.

    ``part`` ``(i, n)``: the i-th (from 1) of ``n`` nearly equal runs of the rows, in order,
    so that a long trace prints as ``n`` page-sized figures (the report's: a trace of 19
    rows printed at a third of the page's width, its text at 2.3 pt, QA102); the title says
    which rows, and names a worst-mixing scalar in the part that draws it.
    :func:`trace_rows` is how many rows there are.

    ArviZ lays out its own grid of panels: in a new figure, or, with ``ax`` (a subplot, e.g.
    one of ``plt.subplots``), in that subplot's place in its figure (``ax`` itself is removed).
    Returns the figure (the root figure when ``ax`` is given).
    """
    import arviz as az
    import xarray as xr
    from arviz_base import rc_context

    result = _posterior_result(result, "plot_trace")
    post = _trace_posterior(result, relabelled)
    default = var_names is None
    var_names = _diagnosed_variables(post, _DIAGNOSED if default else var_names)
    max_scalars = _scalar_limit(max_scalars)
    total = sum(int(np.prod(post[v].shape[2:])) for v in var_names)
    keep = total if max_scalars is None else min(total, max_scalars)
    # One variable per scalar, named as in the tables: ArviZ's own labels ("means\n0, x2")
    # wrote a long feature name in full down the trace panels' y axes, into one block.
    shown = _lowest_ess_scalars(post, var_names, keep)
    worst = _worst_mixing(post, var_names) if default else {}
    if worst:  # after the others: the rows a reader looks for last, named in the title
        shown = shown.assign(worst)
    rows, added = len(shown.data_vars), len(worst)
    if part is not None:
        shown, worst, part_line = _trace_part(shown, worst, part)
    groups = {"posterior": shown}
    if "sample_stats" in result.idata.children:  # ArviZ marks the divergent draws
        groups["sample_stats"] = result.idata["sample_stats"].to_dataset()
    tree, names = xr.DataTree.from_dict(groups), list(shown.data_vars)
    title = _trace_title(relabelled, keep, total, worst)
    keep = len(names)  # the rows drawn
    if part is not None:
        # the rows counted as the title's lines count them (QA158 L5: "the 16 of 20
        # scalars" above "Rows 1-7 of the 19 rows", the 3 worst-mixing ones unsaid)
        title += f"\n{part_line} of the {rows} rows" + (
            f" ({rows - added}, then the {added} worst-mixing of the whole posterior)"
            if added else "")
    # Two panels per scalar; ArviZ refuses more than rcParams["plot.max_subplots"] (40),
    # which K + K D > 20 scalars exceed (K = 8 in 2-D, D = 8 with K = 3).
    panels = 2 * keep
    # A scalar whose draws in some chain are one value to rounding (a collapsed component's
    # sd, a mean pinned on a discrete column: a range of 1e-14) has no density: ArviZ's KDE
    # failed the whole figure ("Cannot create 512 finite-sized bins"). Its densities are
    # computed here instead, such a chain's as a spike at its value, and the panel says so.
    constant = _near_constant(shown)
    dist, windows = _trace_densities(shown, constant) if constant else (None, {})
    with _arviz_grid(ax) as figure_kwargs, ignored(), \
            rc_context({"plot.max_subplots": max(panels, 40)}):
        # Not compact: the means of different features live on different scales.
        pc = az.plot_trace_dist(tree, var_names=names, backend="matplotlib", compact=False,
                                figure_kwargs=figure_kwargs,
                                stats={"dist": dist} if constant else None,
                                aes=_CHAIN_AES,  # the densities' line styles; not the traces'
                                aes_by_visuals={"trace": {"color"},
                                                "dist": {"color", "linestyle"}},
                                # QA65: opaque, the last chain's trace painted over the others
                                visuals={"trace": {"alpha": _TRACE_ALPHA, "linewidth": 0.6}})
        _chain_legend(pc)
    own = pc.viz["figure"].item()
    _constant_notes(pc, constant, windows)
    _trace_labels(own, names, keep)
    own.suptitle(title, fontsize="medium")
    return own.get_figure(root=True)


def trace_rows(result: Any, var_names=None, max_scalars: int | None = TRACE_MAX_SCALARS) -> int:
    """How many rows :func:`plot_trace` draws for these arguments: the scalars kept and,
    by default, the worst-mixing ones added."""
    result = _posterior_result(result, "trace_rows")
    post = _trace_posterior(result, True)
    names = _diagnosed_variables(post, _DIAGNOSED if var_names is None else var_names)
    limit = _scalar_limit(max_scalars)
    total = sum(int(np.prod(post[v].shape[2:])) for v in names)
    kept = total if limit is None else min(total, limit)
    return kept + (len(_worst_mixing(post, names)) if var_names is None else 0)


def _trace_part(shown: Any, worst: dict[str, Any], part: Any) -> tuple[Any, dict, str]:
    """``shown``'s rows of ``part`` (i, n), the worst-mixing ones among them, and the words
    for the title ("Rows 10-19")."""
    if (not isinstance(part, tuple) or len(part) != 2
            or not all(isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)
                       for v in part)
            or not 1 <= part[0] <= part[1]):
        raise ValueError(f"part must be (i, n) of whole numbers, 1 <= i <= n; got {part!r}")
    part = (int(part[0]), int(part[1]))
    names = list(shown.data_vars)
    runs = np.array_split(np.arange(len(names)), part[1])
    run = runs[part[0] - 1]
    if not run.size:
        raise ValueError(f"part {part}: there are only {len(names)} rows to draw")
    kept = [names[i] for i in run]
    words = (f"Rows {run[0] + 1}-{run[-1] + 1}" if run.size > 1 else f"Row {run[0] + 1}")
    return shown[kept], {k: v for k, v in worst.items() if k in kept}, words


def _trace_posterior(result: Any, relabelled: bool) -> Any:
    """The draws a trace plot shows: relabelled (``posterior``), or as sampled
    (``posterior_unrelabelled``; a one-line error when the result has none)."""
    if not isinstance(relabelled, bool | np.bool_):
        raise ValueError(f"relabelled must be True or False; got {relabelled!r}")
    group = "posterior" if relabelled else "posterior_unrelabelled"
    if group not in result.idata.children:
        raise ValueError(f"this result has no {group!r} group (the draws before relabelling "
                         "are stored by fit_bayes): plot_trace(result, relabelled=True) "
                         "shows the relabelled draws")
    return result.idata[group].to_dataset()


def _trace_title(relabelled: bool, keep: int, total: int, worst: dict[str, Any]) -> str:
    """What a trace figure shows, for its title: which draws, how many of the scalars, and
    the worst-mixing scalars added (:func:`_worst_mixing`)."""
    lines = ["Trace and per-chain density of the relabelled draws (matched to the EM fit's "
             "components)" if relabelled else
             "Trace and per-chain density of the draws as sampled, before relabelling "
             "(label switching, if any, shows here)"]
    if keep < total:
        lines.append(f"The {keep} of {total} scalars with the lowest bulk ESS (the rank "
                     "plot and the tables show every one)")
    lines += [f"Also {da.attrs['label']}: {da.attrs['why']} of the whole posterior"
              for da in worst.values()]  # one a line: two in one line ran off the figure
    return "\n".join(lines)


def _worst_mixing(post: Any, shown_vars: list[str]) -> dict[str, Any]:
    """The scalars with the lowest bulk and the lowest tail ESS and the highest R-hat over
    every variable of ``post`` (a covariance matrix's entries once, constants left out: the
    convergence checks' own scalars), those not in ``shown_vars``: {name as drawn: its draws
    (chain, draw), ``attrs`` "label" (the tables') and "why" ("the lowest bulk ESS (123)")}.
    Referee: the one failed check, R-hat at a covariance entry, had no trace."""
    import arviz as az
    import xarray as xr

    from ..diagnostics import _judged, _rank_rhat

    judged = _judged(post)
    found: dict[str, Any] = {}
    # (what, the statistic per scalar, +1: the lowest is the worst, -1: the highest, format)
    measures = (("bulk ESS", az.ess(judged, method="bulk"), 1.0, "{:,.0f}"),
                ("tail ESS", az.ess(judged, method="tail"), 1.0, "{:,.0f}"),
                # four decimals: 1.0104 failed 1.01 and printed 1.010 (QA132)
                ("R-hat", _rank_rhat(judged), -1.0, "{:.4f}"))
    for what, statistic, sign, style in measures:
        worst = None  # (sign * value, variable, index)
        for name, da in statistic.data_vars.items():
            values = sign * np.asarray(da.values, dtype=np.float64)
            if name in shown_vars or not np.isfinite(values).any():
                continue
            at = np.unravel_index(int(np.nanargmin(values)), values.shape)
            if worst is None or values[at] < worst[0]:
                worst = (float(values[at]), name, at)
        # the worst over the whole posterior, unless a scalar already shown holds it
        overall = min((float(np.nanmin(sign * da.values)) for da in statistic.data_vars.values()
                       if np.isfinite(da.values).any()), default=np.inf)
        if worst is None or worst[0] > overall:
            continue
        score, name, at = worst
        value = style.format(sign * score)
        extreme = "lowest" if sign > 0 else "highest"
        da = judged[name].transpose("chain", "draw", ...)
        draws = da.isel(dict(zip(da.dims[2:], at, strict=True)))
        label, values = _scalar_as_in_tables(da, at, draws.to_numpy())
        drawn = _ellipsize(label, 2 * _NAME_CHARS).replace("/", "\u2215")
        if drawn in found:  # the worst in several: one row, each named
            found[drawn].attrs["why"] += f" and the {extreme} {what} ({value})"
            continue
        found[drawn] = xr.DataArray(values, dims=("chain", "draw"),
                                    attrs={"label": label,
                                           "why": f"the {extreme} {what} ({value})"})
    return found


def _scalar_as_in_tables(da: Any, at: tuple[int, ...], draws: np.ndarray
                         ) -> tuple[str, np.ndarray]:
    """A scalar's label and draws as the tables show it: a variance (a covariance matrix's
    diagonal entry, a diag or spherical covariance) as its standard deviation, ``sd[2,
    velocity]``, in data units (QA: galaxies' variance trace ran to 4e8 velocity\u00b2). Its
    square root is monotone, so its rank-based ESS is the variance's. Anything else as it is,
    labelled as :func:`~bayesgmm.diagnostics._element_label` labels it."""
    from ..diagnostics import _element_label

    dims = da.dims[2:]
    place = {d: str(da[d].values[i]) if d in da.coords else str(i)
             for d, i in zip(dims, at, strict=True)}
    if "pair" in place:  # the checks' distinct entries, "x, y": the pair of features
        pair = place.pop("pair")
        half = (len(pair) - 2) // 2  # "x, x" splits in its middle; "x, y" may not
        place["feature"], place["feature_bis"] = pair[:half], pair[half + 2:]
        if pair[half:half + 2] != ", ":
            place["feature_bis"] = None  # not "x, x": a covariance
    variance = da.name == "covariances" and (
        "feature_bis" not in place or place["feature_bis"] == place.get("feature"))
    if not variance:
        return _element_label(da, at, dims), draws
    where = [place[d] for d in ("component", "feature") if d in place]
    return f"sd[{', '.join(where)}]" if where else "sd", np.sqrt(draws)


# A chain's draws count as one value when they span at most this fraction of their magnitude
# (a KDE needs a range some 512 x the rounding of the values; real posteriors span far more).
_CONSTANT_RTOL = 1e-9


def _near_constant(shown: Any) -> dict[str, float]:
    """The scalars of ``shown`` (chain x draw each) with a chain whose draws are one value to
    rounding (:data:`_CONSTANT_RTOL`), each with the widest such chain's range."""
    found = {}
    for name, da in shown.data_vars.items():
        draws = np.asarray(da.transpose("chain", "draw").values, dtype=np.float64)
        span = np.ptp(draws, axis=1)
        flat = span <= _CONSTANT_RTOL * np.max(np.abs(draws), axis=1)
        if flat.any():
            found[name] = float(span[flat].max())
    return found


def _trace_densities(shown: Any, constant: dict[str, float]) -> tuple[Any, dict]:
    """The per-chain densities of ``shown`` as ArviZ draws them (``plot_axis`` x/y by chain,
    512 points): ArviZ's KDE for the other scalars; for those in ``constant``, each chain on a
    common grid, a chain whose draws span less than two of its steps as a spike at its value
    (a Gaussian KDE of the others); and those scalars' grids' ends."""
    import arviz_stats
    import xarray as xr

    grid_len = 512
    # ArviZ's KDE by chain through its public arviz_stats.kde, as plot_trace_dist computes
    # it (a review: arviz-plots' internal compute_dist had been called with no version check)
    parts = []
    for name in (v for v in shown.data_vars if v not in constant):
        density = arviz_stats.kde(shown[name], dim=["draw"])
        density.name = name
        density.attrs["kind"] = "kde"
        parts.append(density)
    windows = {}
    for name in constant:
        draws = np.asarray(shown[name].transpose("chain", "draw").values, dtype=np.float64)
        lo, hi = draws.min(), draws.max()
        pad = max(0.05 * (hi - lo), 1e-3 * np.abs(draws).max(), np.finfo(float).tiny)
        grid = np.linspace(lo - pad, hi + pad, grid_len)
        windows[name] = (grid[0], grid[-1])
        y = np.zeros((len(draws), grid_len))
        spikes = []
        for c, chain in enumerate(draws):
            if np.ptp(chain) > 2 * (grid[1] - grid[0]):
                with contextlib.suppress(np.linalg.LinAlgError, ValueError):
                    y[c] = stats.gaussian_kde(chain)(grid)
                    continue
            spikes.append((c, int(np.abs(grid - np.median(chain)).argmin())))
        height = y.max() if y.max() > 0 else 1.0
        for c, at in spikes:
            y[c, at] = height
        parts.append(xr.Dataset({name: xr.DataArray(
            np.stack([np.broadcast_to(grid, y.shape), y]), dims=("plot_axis", "chain", "kde_dim"),
            coords={"plot_axis": ["x", "y"], "chain": shown["chain"].values},
            attrs={"kind": "kde"})}))
    return xr.merge(parts, compat="override", join="outer"), windows


def _constant_notes(pc: Any, constant: dict[str, float],
                    windows: dict[str, tuple[float, float]]) -> None:
    """A note in the density panel of each scalar in ``constant``: its spikes are chains whose
    draws are one value (to within the range given), not densities; its trace panel on the
    density's scale (an offset axis read "1e-6+9.9999e-1"), its ticks fewer (they overprinted).
    """
    from ..formatting import format_number

    for name, span in constant.items():
        panels = [next((line.axes for line in pc.viz[column][name].values.ravel()
                        if line is not None), None) for column in ("dist", "trace")]
        for panel, axis in zip(panels, ("x", "y"), strict=True):
            if panel is not None:
                getattr(panel, f"set_{axis}lim")(windows[name])
                getattr(panel, f"{axis}axis").set_major_locator(MaxNLocator(nbins=4))
                panel.ticklabel_format(axis=axis, useOffset=False, style="plain")
        panel = panels[0]
        if panel is None:
            continue
        # QA: "(within 0)" for draws exactly equal read as a riddle
        spread = ("all equal" if not span > 0 else
                  f"spread {format_number(span, 2)} at most")
        panel.text(0.02, 0.96, f"spike: a chain's draws are constant\n({spread})",
                   transform=panel.transAxes, ha="left", va="top", fontsize="x-small",
                   color="0.3")


def _trace_labels(own: Any, names: list[str], rows: int) -> None:
    """The trace panels' y labels: ArviZ's, rotated, when every one fits in 60% of a row's
    height; else all across, the coordinates on a second line, in a smaller font: rotated,
    long ones ran into the rows above and below."""
    root = own.get_figure(root=True)
    row = root.get_size_inches()[1] * own.bbox.height / root.bbox.height / max(rows, 1)
    fits = int(0.6 * row * 72 / 6.0)  # characters of a 10 pt label along 60% of a row
    panels = [p for p in own.axes if p.get_ylabel() in names]
    if all(len(p.get_ylabel()) <= fits for p in panels):
        return
    for panel in panels:
        name, bracket, coords = panel.get_ylabel().partition("[")
        panel.set_ylabel(f"{name}\n[{coords}" if bracket else name, rotation=0, ha="right",
                         va="center", fontsize="small")


def _posterior_result(result: Any, figure: str) -> Any:
    """The BayesResult a posterior's figure draws (a fitted BayesianGMM's ``result_``), or a
    one-line error that says what draws an EM fit instead."""
    result = fit_of(result)
    if _is_bayes(result):
        return result
    raise ValueError(f"{figure} needs a posterior (a BayesResult from fit_bayes, or a fitted "
                     f"BayesianGMM); got {type(result).__name__}: for an EM fit, "
                     "plot_overlay, plot_classification, plot_density or plot_membership "
                     "draw its estimate")


def _diagnosed_variables(post: Any, var_names: Any) -> list[str]:
    """The ``var_names`` the posterior has (the noise weight only with a noise component), or
    a one-line error naming the valid ones."""
    var_names = [var_names] if isinstance(var_names, str) else list(var_names)
    valid = list(post.data_vars)
    unknown = [v for v in var_names if v not in valid and v not in _DIAGNOSED]
    present = [v for v in var_names if v in valid]
    if unknown or not present:
        raise ValueError(f"var_names: {', '.join(map(repr, unknown or var_names))} not in "
                         f"the posterior; valid names: {', '.join(valid)}")
    return present


def _scalar_limit(value: Any) -> int | None:
    """``max_scalars``: a whole number >= 1, or None (no limit)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"max_scalars must be an integer >= 1 (or None: every scalar); "
                         f"got {value!r}")
    return int(value)


def _wrap(text: Any, width: int, lines: int = 2) -> str:
    """``text`` on at most ``lines`` lines of at most ``width`` characters: wrapped at spaces,
    shortened in its middle ("…") when it does not fit."""
    import textwrap

    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    budget = width * lines
    while budget > width:  # words kept whole: "choles / terol" read as two words
        parts = textwrap.wrap(_ellipsize(text, budget), width, break_on_hyphens=False,
                              break_long_words=False)
        if len(parts) <= lines and max(map(len, parts)) <= width:
            return "\n".join(parts)
        budget -= 2
    return _ellipsize(text, width)


def _lowest_ess_scalars(post: Any, var_names: list[str], keep: int,
                        first: dict[str, float] | None = None) -> Any:
    """The ``keep`` scalars of ``var_names`` with the lowest bulk ESS (with ``first``, a value
    per table label such as a p-value: the smallest of those first, the ESS among equals),
    each a variable of its own, in the variables' element order.

    Named like the tables (``means[1, x2]``), a long feature name shortened in its middle
    ("…"), a "/" written "∕" (a DataTree refuses it in a name: "mg/dL" failed the trace plot);
    each variable's ``attrs["label"]`` is the table's label."""
    import arviz as az
    import xarray as xr

    from ..diagnostics import _element_label

    ess = az.ess(post[var_names], method="bulk")
    entries = []  # (first, ESS, position, label, shown, draws)
    taken: set[str] = set()
    for name in var_names:
        da = post[name].transpose("chain", "draw", ...)
        extra = da.dims[2:]
        for index in np.ndindex(*da.shape[2:]):
            at = dict(zip(extra, index, strict=True))
            value = float(ess[name].isel(at)) if extra else float(ess[name])
            label = _element_label(da, index, extra)
            coords = [_ellipsize(da[d].values[i] if d in da.coords else i, _NAME_CHARS)
                      for d, i in zip(extra, index, strict=True)]
            shown = (f"{name}[{', '.join(coords)}]" if coords else name).replace("/", "\u2215")
            while shown in taken:  # two long names alike at both ends
                shown += "\u2032"
            taken.add(shown)
            p = (first or {}).get(label, np.nan)
            entries.append((p if np.isfinite(p) else np.inf,
                            value if np.isfinite(value) else np.inf, len(entries), label,
                            shown, da.isel(at)))
    chosen = sorted(sorted(entries, key=lambda e: e[:3])[:keep], key=lambda e: e[2])
    return xr.Dataset({shown: xr.DataArray(draws.to_numpy(), dims=("chain", "draw"),
                                           attrs={"label": label})
                       for *_, label, shown, draws in chosen},
                      coords={d: post[d].to_numpy() for d in ("chain", "draw")})


@sizable
def plot_rank(result: BayesResult, var_names=_DIAGNOSED,
              ax: Axes | None = None, pvalues: dict[str, float] | None = None,
              max_scalars: int | None = RANK_MAX_SCALARS) -> Figure:
    """Fractional rank ECDF per chain (``arviz.plot_rank``), with a chain legend.

    Each line is one chain's ECDF of the fractional ranks of its draws among all chains'
    draws, minus the uniform ECDF: flat near zero when the chains sample the same
    distribution. Thinned and at the per-scalar level of
    :func:`bayesgmm.diagnostics.diagnose`'s rank check (family-wise 0.01, Bonferroni), so a
    panel is flagged exactly when that check fails. ArviZ lays out its own grid: in a new
    figure, or in the place of the subplot ``ax`` (removed), as in :func:`plot_trace`.
    ``pvalues``: the rank check's own p-values (:attr:`Diagnostics.rank_pvalues` of these
    variables), when the caller has them: the test is the costliest part of the figure.

    With more than ``max_scalars`` scalars (None: no limit) only the ``max_scalars`` with the
    smallest rank p-values (the lowest bulk ESS among equal ones) are drawn, in their usual
    order, and the title says so: 54 scalars (D=8, K=6) exceeded ArviZ's 40 panels. The
    level stays the check's, over every scalar. Each panel is named as in the tables, a long
    feature name shortened; a flagged panel has a red frame.
    """
    import arviz as az
    import xarray as xr
    from arviz_base import rcParams

    from ..diagnostics import _MIN_RANK_DRAWS, rank_test_draws, rank_uniformity_pvalues

    result = _posterior_result(result, "plot_rank")
    post = result.idata["posterior"].to_dataset()
    present = _diagnosed_variables(post, var_names)
    max_scalars = _scalar_limit(max_scalars)
    family = 1.0 - float(rcParams["stats.envelope_prob"])
    # The very draws the rank check tests (thinned, at most RANK_TEST_MAX_DRAWS per chain).
    draws = rank_test_draws(post[present])
    if pvalues is None:  # the verdict's own (Diagnostics.rank_pvalues): the same test
        pvalues = rank_uniformity_pvalues(draws, thinned=True)
    # The check's per-scalar (Bonferroni) level: over the scalars with a p-value (a constant
    # one, K=1's weight, has none).
    tested_scalars = sum(np.isfinite(p) for p in pvalues.values())
    level = family / max(tested_scalars, 1)
    total = sum(int(np.prod(draws[v].shape[2:])) for v in present)
    keep = total if max_scalars is None else min(total, max_scalars)
    # One variable per scalar (named as in the tables, a long feature name shortened): the
    # panels to draw, and their titles to match the p-values by.
    shown = _lowest_ess_scalars(draws, present, keep, first=pvalues)
    # a constant (K=1's weight: 1 in every draw) has no rank test, as the check says; ArviZ
    # drew it as a failed one, "p=0.00" beside an OK verdict (QA)
    constant = [name for name, da in shown.data_vars.items() if np.ptp(da.values) == 0]
    if constant and len(constant) < len(shown.data_vars):
        shown = shown.drop_vars(constant)
    tested = xr.DataTree.from_dict({"posterior": shown})
    with _arviz_grid(ax) as figure_kwargs, ignored():
        # ArviZ's test (mtc_c) draws no band; its y limits are the DKW bound at the test's
        # level (x 1.3): kept as an axis, they are the scale a reader judges a line by.
        pc = az.plot_rank(tested, var_names=list(shown.data_vars), backend="matplotlib",
                          thin=False, envelope_prob=1.0 - level, figure_kwargs=figure_kwargs,
                          visuals={"remove_axis": False}, aes=_CHAIN_AES)
        _chain_legend(pc)
    own = pc.viz["figure"].item()  # the grid's figure (a SubFigure with ``ax``)
    figure = own.get_figure(root=True)
    if ax is None and figure.get_figwidth() > PAGE_WIDTH:  # ArviZ's: 3.84 inches a column
        figure.set_size_inches(PAGE_WIDTH, figure.get_figheight())
    _rank_pvalue_texts(own, {name: pvalues.get(da.attrs["label"], np.nan)
                             for name, da in shown.data_vars.items()}, level)
    heading = (f"Rank ECDF per chain; p-value of the rank test, flagged (red) below "
               f"{level:.2g} (family-wise {family:.2g}, Bonferroni over {tested_scalars} "
               f"scalar{'' if tested_scalars == 1 else 's'})")
    if keep < total:
        heading += (f"\nThe {keep} of {total} scalars with the smallest rank p-values "
                    "(the tables show every one)")
    if constant and len(constant) < keep:
        heading += (f"\nNot drawn: {', '.join(constant)}, constant in every draw (no rank "
                    "test)")
    kept = draws.sizes["draw"]
    untestable = kept < _MIN_RANK_DRAWS and not any(
        np.isfinite(p) and p < level for p in pvalues.values())
    if untestable:  # as the rank check: its flat lines looked like perfect agreement
        heading += (f"\nNOT TESTABLE: {kept} roughly independent draw(s) per chain, fewer than "
                    f"the {_MIN_RANK_DRAWS} the test needs; flat lines here do not show "
                    "agreement")
    # each line within the panels' width (a single panel's figure cut the first line at both
    # sides, under the chain legend: QA)
    width_in = own.bbox.width / figure.dpi
    chars = int(0.8 * width_in * 72 / 5.5)
    heading = "\n".join(_wrap(line, chars, lines=3) for line in heading.split("\n"))
    title = own.suptitle(heading, fontsize="medium")
    if untestable:
        title.set_color("firebrick")
    for panel in own.axes:
        if panel.get_title():  # a rank panel (not the legend's)
            panel.axhline(0.0, color="0.6", lw=0.6, zorder=0)
            panel.tick_params(axis="y", labelsize="x-small")
            panel.set_title(_wrap(panel.get_title(), _panel_characters(own, panel)),
                            fontsize="medium")
    if own.axes:
        own.supylabel("chain's rank ECDF - uniform ECDF", fontsize="small")
    return figure


def _panel_characters(own: Any, panel: Axes, points_per_character: float = 6.5) -> int:
    """Characters of a 10 pt title that fit across ``panel``'s cell of its grid (a title
    wider than its panel ran into its neighbours' and the legend)."""
    spec = panel.get_subplotspec()
    columns = spec.get_gridspec().ncols if spec is not None else 1
    width = own.bbox.width / own.get_figure(root=True).dpi * 72 / columns
    return max(int(0.9 * width / points_per_character), 12)


def _rank_pvalue_texts(figure: Any, pvalues: dict[str, float], level: float) -> None:
    """ArviZ writes each panel's p-value as "p=0.00(α=0.00)", two decimals that show neither
    a small p nor a Bonferroni level: write the p-value to two significant digits (the
    p-values the rank check computed, matched to the panels by their titles,
    "name\ncoordinates" or a scalar's own name), red with "flagged" when below ``level``
    (which the figure's title gives once), inside the panel's top left corner (ArviZ's sat
    on the frame); a flagged panel gets a red frame, to be seen at a glance."""

    for ax in figure.axes:
        name, _, coords = ax.get_title().partition("\n")
        p = pvalues.get(f"{name}[{coords}]" if coords else name)
        p = None if p is None or not np.isfinite(p) else p
        for text in ax.texts:
            if text.get_text().startswith("p="):
                flagged = p is not None and p < level
                shown = f"p={p:.2g}" if p is not None else text.get_text().split("(")[0]
                text.set_text(f"{shown} (flagged)" if flagged else shown)
                # "small" on a pale box: x-small text over the ECDF lines was unreadable
                # in the report's figure (referee)
                text.set(transform=ax.transAxes, position=(0.02, 0.96), ha="left", va="top",
                         fontsize="small", color="red" if flagged else "0.2", clip_on=True,
                         bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none",
                               "pad": 1.0})
                if flagged:
                    for spine in ax.spines.values():
                        spine.set(visible=True, color="red", linewidth=2.0)




# arviz-plots releases whose matplotlib backend's create_plotting_grid _arviz_grid replaces
# for ax=, checked: [first, last] as (major, minor)
ARVIZ_PLOTS_CHECKED = ((1, 3), (1, 3))
_GRID_LOCK = threading.RLock()


@contextlib.contextmanager
def _arviz_grid(ax: Axes | None) -> Iterator[dict[str, Any]]:
    """The ``figure_kwargs`` for an ArviZ grid plot, which then lays out its panels in a new
    figure (``ax=None``) or in the place of the subplot ``ax``.

    ArviZ's matplotlib backend makes every grid with ``pyplot.subplots`` (a new figure; its
    ``figure_kwargs`` cannot name an existing one). With ``ax``, its grid-making function is
    replaced, for this call only, by one that puts the grid in a SubFigure over ``ax``'s
    subplot spec: the rest of ArviZ's drawing (aesthetics, legends) is unchanged.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        before = set(plt.get_fignums())
        try:
            yield {"layout": "constrained"}
        finally:
            # ArviZ made it with pyplot: closed there, it is a bare Figure like every other
            # figure of the package (notebook QA: shown twice, by pyplot and as the value)
            for number in set(plt.get_fignums()) - before:
                plt.close(number)
        return
    spec = ax.get_subplotspec() if isinstance(ax, Axes) else None
    if spec is None:
        raise ValueError("ax must be a subplot (an Axes from plt.subplots or "
                         "fig.add_subplot) whose place the grid of panels takes; "
                         f"got {type(ax).__name__}")
    import arviz_plots
    from arviz_plots.backend import matplotlib as backend

    if release_problem("arviz-plots", ARVIZ_PLOTS_CHECKED, "figures drawn into ax="):
        # review: an internal replaced with no version check; on another release, public
        # behaviour only (a new figure) and say so
        warn(f"ax= needs arviz-plots {ARVIZ_PLOTS_CHECKED[0][0]}."
             f"{ARVIZ_PLOTS_CHECKED[0][1]}-{ARVIZ_PLOTS_CHECKED[1][0]}."
             f"{ARVIZ_PLOTS_CHECKED[1][1]} (found {arviz_plots.__version__}); the "
             "panels are drawn in a new figure instead", UserWarning,
             skip_file_prefixes=IN_PACKAGE)
        with _arviz_grid(None) as kwargs:
            yield kwargs
        return

    parent = ax.get_figure(root=False)
    ax.remove()
    sub = parent.add_subfigure(spec)
    make_grid = backend.create_plotting_grid

    def in_place(number, rows=1, cols=1, *, squeeze=True, sharex=False, sharey=False,
                 **unused):
        axes = sub.subplots(rows, cols, squeeze=squeeze, sharex=sharex, sharey=sharey)
        for extra in np.ravel(axes)[number:]:
            extra.set_axis_off()
        return sub, axes

    with _GRID_LOCK:  # the replacement is process-wide: one such plot at a time (review)
        backend.create_plotting_grid = in_place
        try:
            yield {}
        finally:
            backend.create_plotting_grid = make_grid


# Chains told apart by line style as well as colour (accessibility QA: under deuteranopia
# chains 2 and 3 were one olive, in greyscale chains 0 and 3 one grey). A dashed trace of a
# thousand draws reads as noise, so the traces keep colour alone; their densities beside them
# and the rank plot's lines carry both.
_CHAIN_AES = {"color": ["chain"], "overlay": ["chain"], "linestyle": ["chain"]}


def _chain_legend(pc) -> None:
    try:
        pc.add_legend("chain", loc="outside right upper")
    except (TypeError, AttributeError, ValueError):  # an older arviz-plots: no chain legend
        pass


@sizable
def plot_energy(result: BayesResult, ax: Axes | None = None) -> Figure:
    """Marginal energy against energy transition distributions (``arviz.plot_energy``), with
    E-BFMI per chain: similar widths mean the sampler moves freely across energy levels. In a
    new figure, or in the place of the subplot ``ax`` (removed), as in :func:`plot_trace`.
    The title, the axis labels and the key say what is drawn, and the dashed line (E-BFMI
    0.3, below which the sampler explores the energy levels poorly)."""
    import arviz as az

    result = _posterior_result(result, "plot_energy")
    with _arviz_grid(ax) as figure_kwargs, ignored():
        pc = az.plot_energy(result.idata, backend="matplotlib", figure_kwargs=figure_kwargs)
    own = pc.viz["figure"].item()
    threshold = []
    for panel in own.axes:
        if panel.get_ylabel().lower() == "chain":  # E-BFMI: one row per chain, no chain 0.5
            panel.yaxis.set_major_locator(MaxNLocator(integer=True))
            panel.set(title="E-BFMI per chain", xlabel="E-BFMI", ylabel="chain")
            threshold = [line for line in panel.lines if line.get_linestyle() == "--"]
            # every chain's marker whole (QA: 1.16 drawn on the right spine, cut in half)
            ebfmi = _ebfmi(result.idata["sample_stats"].to_dataset())
            left, right = panel.get_xlim()
            top = float(np.nanmax(ebfmi)) if np.isfinite(ebfmi).any() else right
            if top + 0.04 * (right - left) > right:
                panel.set_xlim(left, top + 0.08 * (top - left))
        else:
            panel.set(xlabel="energy (centred)")
    _energy_key(own, threshold[:1])
    # about 5.5 pt a character at the medium (10 pt) size: the reading wrapped to the figure
    width_in = own.bbox.width / own.get_figure(root=True).dpi  # a figure's or a subfigure's
    chars = int(0.9 * width_in * 72 / 5.5)
    own.suptitle("Marginal energy against energy transitions (draw to draw)\n"
                 + _wrap(_energy_reading(result), chars, lines=3), fontsize="medium")
    return own.get_figure(root=True)


# ArviZ's dashed line in the E-BFMI panel: below it a chain explores the energy levels poorly.
_EBFMI_LINE = 0.3


# E-BFMI from which the two energy distributions look alike (widths within ~10%)
_SIMILAR_WIDTHS = 0.8


def _ebfmi(sample_stats: Any) -> np.ndarray:
    """Each chain's E-BFMI as the diagnostics measure it (ArviZ's warnings left out)."""
    from ..diagnostics import _ebfmi as measured

    with ignored():
        return measured(sample_stats)


def _energy_reading(result: BayesResult) -> str:
    """The subtitle: what this fit's E-BFMI says (referee: "similar widths: the sampler moves
    freely" was printed whatever the chains' E-BFMI)."""
    sample_stats = result.idata["sample_stats"].to_dataset()
    ebfmi = _ebfmi(sample_stats)
    chains = (sample_stats["chain"].values if "chain" in sample_stats.coords
              else range(ebfmi.size))
    low = [str(c) for c, e in zip(chains, ebfmi, strict=True) if not e >= _EBFMI_LINE]
    apart = _energy_apart(np.asarray(sample_stats["energy"].values, dtype=float), chains)
    # E-BFMI is about the squared ratio of the two widths: at 0.5 the transitions' is ~0.7 of
    # the marginal's, visibly narrower yet no problem (referee: "similar widths" beside it)
    if not low and ebfmi.min() >= _SIMILAR_WIDTHS:
        reading = (f"similar widths (E-BFMI {ebfmi.min():.2f} or more in every chain): the "
                   "sampler moves freely across energy levels")
    elif not low:
        reading = (f"transitions somewhat narrower than the marginal, within the usual bound "
                   f"(E-BFMI {ebfmi.min():.2f} or more in every chain, above {_EBFMI_LINE}): "
                   "the sampler moves across energy levels well enough")
    else:
        reading = (f"transitions narrower than the marginal in chain(s) {', '.join(low)} "
                   f"(E-BFMI below {_EBFMI_LINE}): the sampler explores the energy levels "
                   "poorly there")
    return reading if not apart else (
        f"{reading.partition(':')[0]}; but chain(s) {apart} sit at energies apart from the "
        "other chains' (another region of the posterior: see the diagnostics)")


# A chain whose mean energy lies this many pooled within-chain sds from the other chains'
# median sits elsewhere in the posterior (QA: a chain frozen in a collapsed component's spike,
# mean energy 108 against 271-273, sd 4-9, under "moves across energy levels well enough").
_ENERGY_APART_SD = 5.0


def _energy_apart(energy: np.ndarray, chains) -> str:
    """The chains (comma-separated names) whose energies (chain, draw) lie apart from the
    others' (:data:`_ENERGY_APART_SD`); "" when none does or with fewer than 3 chains (two
    chains apart from each other: neither is the odd one)."""
    if energy.ndim != 2 or energy.shape[0] < 3 or energy.shape[1] < 2:
        return ""
    means, sd = energy.mean(axis=1), np.sqrt(energy.var(axis=1, ddof=1).mean())
    if not np.isfinite(sd) or sd <= 0:
        return ""
    odd = [str(c) for i, c in enumerate(chains)
           if abs(means[i] - np.median(np.delete(means, i))) > _ENERGY_APART_SD * sd]
    return ", ".join(odd)


def _energy_key(own: Any, threshold: list) -> None:
    """ArviZ's key ("marginal", "transition") in words, with the E-BFMI panel's dashed line."""
    names = {"marginal": "marginal energy", "transition": "energy transition"}
    handles, labels = [], []
    for key in list(own.legends):
        handles += list(key.legend_handles)
        labels += [names.get(t.get_text(), t.get_text()) for t in key.get_texts()]
        key.remove()
    handles += threshold
    labels += ["E-BFMI 0.3: below it, poor\nexploration (a problem)"] * len(threshold)
    if handles:  # lower: the title (wider than a subplot's place) ran into it at the top
        own.legend(handles, labels, loc="outside right lower", fontsize="small")


def _axis_in_powers_of_ten(a: Axes) -> None:
    """Tiny or huge x values in a unit of a power of ten named in the axis label ("(× 10⁻⁶)"),
    the ticks then short plain numbers: in fixed decimals a column in 1e-4 units ran its tick
    labels together ("−0.0000040.000000 0.000004", QA75)."""
    from matplotlib.ticker import FuncFormatter

    from ..formatting import power_of_ten

    lo, hi = a.get_xlim()
    span = max(abs(lo), abs(hi))
    # only about 0 (the centred panels): far from it the ticks need their leading digits
    # (QA76: K=1 about 1e6 read "0.999997 ... 1, 1, 1" in units of 10⁶)
    if not (np.isfinite(span) and span > 0) or hi - lo < 0.5 * span:
        return
    exponent = int(np.floor(np.log10(span)))
    if -3 < exponent < 6:  # 0.001-999,999 read well in plain numbers
        return
    unit = 10.0 ** exponent
    a.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / unit:g}".replace("-", "−")))
    a.set_xlabel(f"{a.get_xlabel()}\n(\u00d7 {power_of_ten(exponent)})",
                 fontsize=a.xaxis.label.get_fontsize())


@sizable
def plot_forest(result: BayesResult, interval: float = INTERVAL, axes: Any = None, *,
                marked: Sequence[int] = ()) -> Figure:
    """Forest plot of the weights and of the means of every feature, EM beside the posterior.

    One panel per quantity (weights; the means of each feature, on its own scale); one row per
    component: the posterior median (dot), 50% interval (thick) and ``interval`` equal-tailed
    interval (thin), and the EM estimate (open black diamond, around the median's dot where
    they coincide). Tick labels are plain numbers (no offset or power of ten). A means panel
    whose intervals would be narrower than the markers (well separated components: the axis
    spans the spread between them) shows each row about its own posterior median ("mean of
    x - its posterior median", the median in the row's label), so that the intervals and
    EM's distance show.

    Parameters
    ----------
    result : BayesResult
    interval : float
        A probability in (0, 1).
    axes : sequence of Axes, optional
        1 + D axes (weights, then the means of each feature); the figure is then the
        caller's, and nothing is drawn outside these axes (the key goes in the first).
    marked : sequence of int, optional
        Components whose rows get a dagger (†) after their name: those whose summaries the
        diagnostics say describe no single cluster (``Diagnostics.unreported_components``),
        as the report's tables mark them.
    """
    result = _posterior_result(result, "plot_forest")
    if isinstance(interval, bool) or not isinstance(interval, int | float) \
            or not 0.0 < interval < 1.0:
        raise ValueError(f"interval is a probability in (0, 1), e.g. 0.94; got {interval!r}")
    post = result.posterior
    em = result.em
    names = result.feature_names
    K, D = em.n_components, em.n_features
    given = axes is not None
    if given:
        axes = _given_axes(axes, 1 + D, "plot_forest", f"1 + D = {1 + D} axes (the weights, "
                           "then the means of each feature)")
    weights, em_weights = post["weights"].values.reshape(-1, K), em.weights
    if "noise_weight" in post:  # a row of its own in the weights' panel, in the noise colour
        weights = np.c_[weights, post["noise_weight"].values.reshape(-1)]
        em_weights = np.r_[em_weights, em.noise_weight]
    panels = [("weights", weights, em_weights)]
    panels += [(f"mean of {f}", post["means"].values.reshape(-1, K, D)[:, :, i], em.means[:, i])
               for i, f in enumerate(names)]
    q = (1 - interval) / 2
    centred = forest_means_centred(result, interval)
    if not given:
        n = len(panels)
        # wider columns for the centred panels' longer row labels ("component 0: 0.00883"),
        # as many as PAGE_WIDTH holds (four centred ones, 14.4 inches, were shrunk on the
        # report's page to tick labels 7 pixels high)
        width = 3.6 if centred else 3.2
        cols = min(n, max(int(PAGE_WIDTH // width), 3))
        # + 2.3 inches: the titles, the tick labels and the key below the panels
        fig = Figure(figsize=(width * cols,
                              0.35 * K * ((n + cols - 1) // cols) + 2.3),
                     layout="constrained")
        axes = fig.subplots((n + cols - 1) // cols, cols, squeeze=False).ravel()
        for a in axes[n:]:
            a.set_axis_off()
    else:
        fig = axes[0].figure
    titles = _component_names(result, K)
    marked_set = {int(k) for k in marked}
    if not marked_set <= set(range(K)):
        raise ValueError(f"marked: component indices 0 to {K - 1}; got {sorted(marked_set)}")
    for a, (title, draws, em_value) in zip(axes, panels, strict=False):
        # A feature's name over at most two lines, shortened in its middle: one title as
        # wide as its panel's row labels and bars ran into the next panel's and off the
        # figure's edge ("mean of x2 − its posterior median" at D=5 already).
        title = _wrap(title, 24)
        n = draws.shape[1]  # K, or K + 1 with the noise weight (index K)
        rows = np.arange(n)[::-1]
        lo, q25, med, q75, hi = np.quantile(draws, [q, 0.25, 0.5, 0.75, 1 - q], axis=0)
        labels = [f"{t} \u2020" if k in marked_set else t for k, t in enumerate(titles[:n])]
        if title != "weights" and centred:
            # Each interval would hide under its marker (the axis spans the spread between
            # the components): every row about its own posterior median, which its label
            # gives, on the scale of the intervals.
            lo, q25, q75, hi, em_value = (v - med for v in (lo, q25, q75, hi, em_value))
            # by magnitude as the tables print it ("21,340", not "2.13e+04"; paper QA), to
            # the digits its posterior sd leaves ("0.01", not "0.007538" for sd 0.1: referee)
            spread = draws.std(axis=0)
            labels = [f"{t}: {_median_digits(m, sd)}"
                      for t, m, sd in zip(labels, med, spread, strict=True)]
            med = np.zeros_like(med)
            title = f"{title}\n\u2212 its posterior median"
            a.axvline(0.0, color="0.7", lw=0.6, zorder=0)
        limit = (_dagger_free_limit(lo, hi, em_value, marked_set)
                 if title != "weights" and centred else None)
        for k in range(n):
            colour = _component_color(k, K)
            for end, side, arrow in ((hi[k], 1.0, ">"), (lo[k], -1.0, "<")):
                if limit is not None and side * end > limit:  # runs off: an arrow says so
                    a.plot(side * limit, rows[k], marker=arrow, color=colour, markersize=6,
                           clip_on=False, zorder=4)
            a.plot([lo[k], hi[k]], [rows[k]] * 2, color=colour, lw=1.2)
            a.plot([q25[k], q75[k]], [rows[k]] * 2, color=colour, lw=4)
            # on top, inside EM's larger open diamond: both show where they coincide (an
            # EM cross over it hid the median)
            a.plot(med[k], rows[k], "o", color="white", mec=colour, markersize=5, zorder=4)
            if limit is not None and abs(em_value[k]) > limit:
                # beyond the axis: its value at the edge, not silently left out (QA162 M3:
                # galaxies K=3's dagger row, EM +1,234 on an axis of +-800)
                side = 1.0 if em_value[k] > 0 else -1.0
                a.annotate(f"EM {'+' if side > 0 else ''}"
                           f"{_median_digits(em_value[k], spread[k])}",
                           (side * limit, rows[k]), xytext=(-side * 3, 6),
                           textcoords="offset points", ha="right" if side > 0 else "left",
                           fontsize="x-small", annotation_clip=False)
        a.plot(em_value, rows, **_EM_MARKER, ls="", label="EM", zorder=3)
        a.set_yticks(rows, labels)
        a.set_ylim(-0.7, n - 0.3)
        a.set_title(title, fontsize="medium")  # "small" stayed tiny however large the figure
        a.set_xlabel("weight" if title == "weights" else
                     "mean − posterior median" if centred else "mean", fontsize="small")
        if limit is not None:
            a.set_xlim(-limit, limit)
            beyond = bool(np.any(np.abs(em_value) > limit))
            a.set_xlabel(a.get_xlabel() + "\n(\u2020 intervals run off: arrows"
                         + (";\nan EM estimate beyond the axis: its value)" if beyond
                            else ")"), fontsize="small")
        a.grid(axis="x", alpha=0.3)
        # Readable ticks at any scale: a collapsed component's intervals (1e-3 wide, about
        # its median) ran their labels together ("-0.00050.0000"): at most four, in plain
        # numbers (a "x10^-2" offset text floated apart from the axis it scales).
        a.xaxis.set_major_locator(MaxNLocator(nbins=4))
        a.ticklabel_format(axis="x", style="plain", useOffset=False)
        _axis_in_powers_of_ten(a)
        a.tick_params(axis="x", labelsize="small")
    _forest_legend(None if given else fig, axes[0], interval)
    if not given:  # the caller's figure: nothing outside its axes (the key says it all)
        fig.suptitle(f"Posterior median, 50% and {interval:.0%} intervals; EM estimate "
                     "(open diamond)")
    return fig


def _dagger_free_limit(lo, hi, em_value, marked: set[int]) -> float | None:
    """A centred panel's half-width set by the rows without a dagger, when the dagger rows
    reach more than three times as far: the components the diagnostics say not to report
    set the scale otherwise (K too large: a component the data do not locate spanned +-20
    where the others' intervals were +-1, dots on the page); None to let them all show."""
    plain = [k for k in range(len(lo)) if k not in marked]
    if not marked or not plain:
        return None
    reach = float(np.nanmax(np.abs(np.r_[lo[plain], hi[plain], em_value[plain]])))
    if not np.isfinite(reach) or reach <= 0:
        return None
    return 1.5 * reach if np.nanmax(np.abs(np.r_[lo, hi])) > 3 * reach else None


# EM's estimate in the forest plot: an open diamond, larger than the median's dot drawn over
# it, so that both show when they coincide.
_EM_MARKER = {"marker": "D", "mfc": "none", "mec": "black", "mew": 1.2, "markersize": 8}


def _given_axes(axes: Any, needed: int, figure: str, what: str) -> np.ndarray:
    """The caller's ``axes`` (any nesting, flattened), or a one-line error when there are
    fewer than the ``needed`` panels: too few were filled silently, a feature left out."""
    axes = np.ravel(np.asarray(axes, dtype=object))
    other = sorted({type(a).__name__ for a in axes if not isinstance(a, Axes)})
    if len(axes) < needed or other:
        raise ValueError(f"{figure} needs {what}; got {len(axes)}"
                         + (f", not all Axes ({', '.join(other)})" if other else ""))
    return axes


def _median_digits(median: float, sd: float) -> str:
    """A posterior median to the second significant digit of its posterior sd: "21,340" for
    sd 282, "0.01" for 0.007538 with sd 0.1 (the digits below say nothing)."""
    if not (np.isfinite(median) and np.isfinite(sd)) or sd <= 0:
        return format_number(median)
    place = int(np.floor(np.log10(sd))) - 1
    if place < 0:
        value = round(float(median), -place)
        return f"{value + 0.0 if value else 0.0:,.{-place}f}"  # no "-0.00"
    return format_number(int(round(float(median), -place)))


def forest_means_centred(result: BayesResult, interval: float = INTERVAL) -> bool:
    """Whether :func:`plot_forest` draws the means' panels about each row's posterior median
    (their intervals would be too narrow to see on the spread between the components): all
    of them or none, one way of reading them. The report's caption says which."""
    post, em = result.posterior, result.em
    K, D = em.n_components, em.n_features
    draws = post["means"].values.reshape(-1, K, D)
    q = (1 - interval) / 2
    return any(_hidden_intervals(np.quantile(draws[:, :, i], [q, 1 - q], axis=0),
                                 em.means[:, i]) for i in range(D))


def _hidden_intervals(bounds: np.ndarray, em_value: np.ndarray) -> bool:
    """Whether a forest panel's intervals (``bounds``: (2, K), lower and upper) are mostly
    too narrow to see: the median one spans under 8% of the panel's range (the intervals and
    the EM values), about twice a marker's width."""
    lo, hi = bounds
    span = max(hi.max(), em_value.max()) - min(lo.min(), em_value.min())
    return bool(span > 0 and np.median(hi - lo) < 0.08 * span)


def _forest_legend(fig: Figure | None, first: Axes, interval: float) -> None:
    """The forest plot's key, where it covers no interval: in the figure's margin below the
    panels (a constrained layout makes room), else to the right of the first panel. Inside a
    panel ("best") it still hid the upper end of a weight's interval; but in the caller's
    axes (``fig`` None) it stays inside the first one: nothing drawn outside them."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="", color="white", mec="0.3", markersize=5,
                      label="posterior median"),
               Line2D([], [], color="0.3", lw=4, label="50% interval"),
               Line2D([], [], color="0.3", lw=1.2, label=f"{interval:.0%} interval"),
               Line2D([], [], ls="", label="EM", **_EM_MARKER)]
    if fig is None:
        first.legend(handles=handles, loc="best", fontsize="x-small", framealpha=0.8)
    elif fig.get_layout_engine() is not None:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles),
                   fontsize="small", frameon=False)
    else:
        first.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                     fontsize="small")


# Panels a row of the density check holds at most (one more stays in one row: D = 5 fits).
_PPC_COLUMNS = 4


@sizable
def plot_ppc_density(result: BayesResult, n_replicates: int = 50, axes: Any = None,
                     random_state: Any = 0) -> Figure:
    """Posterior predictive check: data density against ``n_replicates`` replicated data sets.

    One panel per feature: a kernel density estimate of the observed values (black) over those
    of data sets simulated from random posterior draws (``sample_posterior_predictive``, thin
    blue), each from the same random 5,000 rows when there are more, with ArviZ's default
    bandwidth (which keeps a small mode where Scott's rule smooths it away). The observed
    curve should look like one more replicate. Each panel spans the bulk of the observed
    values (gross outliers left out, as the other figures' axes), both densities are
    estimated from the values within it (scaled by their share), and a note counts the points
    beyond.

    A feature with missing values is drawn as the data completed under each replicate's
    posterior draw (:meth:`~bayesgmm.BayesResult.completed_pairs`, thin black): its observed
    values alone are a subset that the missingness may have chosen (values missing where
    another was high), which no replicate of the whole mixture resembles.

    Parameters
    ----------
    result : BayesResult
    n_replicates : int
        Replicated data sets, each simulated from one random posterior draw (a thin curve
        each).
    axes : sequence of Axes, optional
        One per feature; the figure is then the caller's, and nothing is drawn outside these
        axes (no title: the key gives the number of replicates).
    random_state : int, optional
        Which posterior draws are replicated.
    """
    result = _posterior_result(result, "plot_ppc_density")
    _check_replicates(n_replicates)
    X, g = _ppc_data(result)
    D = X.shape[1]
    given = axes is not None
    if given:  # before the simulation: a wrong call fails at once
        axes = _given_axes(axes, D, "plot_ppc_density", f"one axes per feature ({D})")
    # The curves use at most _KDE_POINTS rows of each replicate, and a replicate's rows are
    # independent draws: simulating only that many is the same check (at N = 100,000 it was
    # 50 x 100,000 rows simulated for 5,000 used).
    n_simulated = min(len(X), _KDE_POINTS)
    gaps = np.isnan(X).any(axis=0)
    if gaps.any():  # the same random rows for the data completed and every replicate
        sampled = _sample_rows(len(X), _KDE_POINTS, np.random.default_rng(0))
        completed, xrep = _completed_sets(result, X[sampled], sampled, n_replicates,
                                          random_state)
    else:
        xrep = _replicates(result, n_simulated, n_replicates, random_state)
    # At most _PPC_COLUMNS panels a row: 13 in one row (1 inch each) overprinted their tick
    # labels and cut their names; beyond that, rows of (about) equal length.
    columns = D if D <= _PPC_COLUMNS + 1 else -(-D // -(-D // _PPC_COLUMNS))
    if not given:
        n_rows = -(-D // columns)
        fig = Figure(figsize=(min(4.2 * columns, 13), 3.4 + 2.9 * (n_rows - 1)),
                     layout="constrained")
        axes = fig.subplots(n_rows, columns, squeeze=False).ravel()
        for spare in axes[D:]:
            spare.remove()
    else:
        fig = axes[0].figure
    rng = np.random.default_rng(0)
    for i, a in enumerate(axes[:D]):
        # a missing value is missing in every replicate too: compare like with like
        seen = ~np.isnan(X[:, i])
        x = X[seen, i]
        # Over the bulk of the data (_bulk, as the other figures' axes): a few gross
        # outliers (two rows x1000) spread the axis over -600..4686, and a KDE's bandwidth
        # from their sd smeared the observed curve into a flat hump under the replicates'
        # spikes, a good fit drawn as a gross misfit. Both densities are estimated from
        # their values in that range (scaled by their share in it); a note counts the rest.
        lo, hi = _ppc_range(x)
        grid = np.linspace(lo, hi, 300)
        # A KDE costs N x grid per curve: at N = 100,000 the panel took 31 s. The same
        # random rows (at most _KDE_POINTS) for the data and every replicate keep the
        # comparison like with like.
        if gaps.any():
            rows, simulated = sampled, slice(None)
        else:
            rows = np.flatnonzero(seen)
            rows = rows[_sample_rows(rows.size, _KDE_POINTS, rng)]
            simulated = rows if n_simulated == len(X) else np.arange(rows.size)
        for s in range(xrep.shape[0]):
            a.plot(grid, _density_within(xrep[s, simulated, i], grid), color="C0",
                   alpha=0.15, lw=0.8, label="replicated" if s == 0 else None)
        weights = None if g is None else g[rows]
        more = ()
        if gaps[i]:  # one curve per draw: the observed values and that draw's fill-ins
            for s in range(completed.shape[0]):
                a.plot(grid, _density_within(completed[s, :, i], grid, weights),
                       color="black", alpha=0.3, lw=0.8)
            missing = int(np.count_nonzero(~seen))
            more = (f"{format_number(missing)} of {format_number(len(X))} missing: drawn "
                    "per posterior draw",)
        else:
            a.plot(grid, _density_within(X[rows, i], grid, weights), color="black", lw=2,
                   label="observed")
        a.set_xlim(lo, hi)
        # the observed points beyond [lo, hi] ("n point(s) beyond"), and replicates that
        # leave the panel nearly empty
        _note_outside(a, x, more=more + _replicates_elsewhere(
            xrep[:, simulated, i], x, lo, hi, result.em.covariance_type))
        # A long feature name on two lines at most (three in a narrow panel), as wide as its
        # panel: in one line the names of neighbouring panels ran into each other.
        width = _axes_characters(a)
        a.set(xlabel=_wrap(result.feature_names[i], width, 2 if width >= 24 else 3),
              ylabel="density" if i % columns == 0 else None)
        _density_ticks(a)
        a.tick_params(axis="y", labelsize="small")
        # fewer ticks in narrower panels: at D=8 "−5.0 −2.5" ran together
        a.xaxis.set_major_locator(MaxNLocator(nbins=5 if columns < 5 else 4 if columns < 7
                                              else 3))
        a.tick_params(axis="x", labelsize="small" if columns >= 5 else "medium")
    from matplotlib.lines import Line2D  # the key's replicate: visible, unlike one curve's

    replicated = f"replicated ({xrep.shape[0]})" if given else "replicated"
    handles = [Line2D([], [], color="C0", alpha=0.6, lw=1.2, label=replicated)]
    if not gaps.all():
        handles.append(Line2D([], [], color="black", lw=2, label="observed"))
    if gaps.any():
        handles.append(Line2D([], [], color="black", alpha=0.5, lw=1,
                              label="observed, missing values drawn"))
    if given:  # the caller's figure: nothing outside its axes; the count in the key
        axes[0].legend(handles=handles, fontsize="small")
        return fig
    # Below the panels: in the first panel's top right the key covered its note of the
    # points beyond the axes (noise data: "2 point(s) beyond the axes").
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles),
               fontsize="small", frameon=False)
    # One panel (4.2 inches) is too narrow for the title on one line.
    fig.suptitle(f"Posterior predictive check:{' ' if D > 1 else chr(10)}"
                 f"{xrep.shape[0]} replicated data sets")
    return fig


def _replicates_elsewhere(replicated: np.ndarray, x: np.ndarray, lo: float, hi: float,
                          covariance_type: str) -> tuple[str, ...]:
    """A density-check panel's note when the ``replicated`` values (replicates, rows) fall
    within its range ``[lo, hi]`` (the bulk of the data ``x``) less than half as often as
    the data's: their curves are then flat, or absent, under the data's, which reads as
    "no replicates drawn" (QA: a spherical fit of columns on scales 1e-3 and 1e4 gave the
    small column an sd of 5,900, and its panel showed the data's curve alone)."""
    inside = float(np.mean((replicated >= lo) & (replicated <= hi)))
    data = float(np.mean((x >= lo) & (x <= hi)))
    if not inside < 0.5 * data:
        return ()
    # the spread as the interquartile range: an sd counts the data's gross outliers (two
    # rows x1000 gave the data's sd as 59 beside the replicates' 57, a bulk of sd 2.5)
    def iqr(values, axis=None):
        return np.subtract(*np.percentile(values, [75, 25], axis=axis))

    spread = float(np.median(iqr(replicated, axis=1)))
    line = (f"the replicates put {format_number(100 * inside, 2)}% of their values in this "
            f"range (the data {format_number(100 * data, 2)}%); interquartile range: "
            f"replicates {format_number(spread, 2)}, data {format_number(float(iqr(x)), 2)}")
    if covariance_type == "spherical":
        line += ("; a spherical covariance gives every feature one variance: standardise "
                 "the features, or fit 'diag'")
    return (line,)


def _ppc_range(x: np.ndarray) -> tuple[float, float]:
    """The x range of a density-check panel: the bulk of the observed values ``x``
    (:func:`~bayesgmm.plots._common._bulk`: gross outliers left out), padded by 15% of its
    span on each side (all of ``x`` when it has no outliers)."""
    bulk = _bulk(x)
    inner = x[bulk] if bulk.sum() >= 2 else x
    lo, hi = float(inner.min()), float(inner.max())
    pad = 0.15 * (hi - lo) if hi > lo else max(abs(hi), 1.0)
    return lo - pad, hi + pad


def _density_within(values: np.ndarray, grid: np.ndarray,
                    weights: np.ndarray | None = None) -> np.ndarray:
    """A kernel density estimate on ``grid`` of the ``values`` within its range, scaled by
    their (weighted) share of all ``values``: the density of the whole sample over that
    range, its bandwidth not set by values far beyond it (NaN where fewer than two distinct
    values lie within: no curve).

    The bandwidth is ArviZ's default (``bw="experimental"``: Silverman's rule averaged with
    the improved Sheather-Jones), not SciPy's Scott rule: a rule from the overall sd smooths
    a multimodal sample's small modes away (galaxies: Scott 1,890 km/s against 856, and the
    seven points near 10,000 km/s, a histogram bar of 0.00005, drew as a bump of 0.00002).
    Observed and replicated samples get the same rule, each its own bandwidth."""
    from arviz_stats.base import array_stats

    inside = (values >= grid[0]) & (values <= grid[-1])
    v = values[inside]
    if np.unique(v).size < 2:
        return np.full(grid.shape, np.nan)
    w = np.ones(v.size) if weights is None else weights[inside]
    share = (inside.mean() if weights is None
             else float(weights[inside].sum() / weights.sum()))
    bandwidth = float(array_stats.get_bw(v, bw="experimental"))
    if not (np.isfinite(bandwidth) and bandwidth > 0):  # SciPy's rule (Scott's)
        bandwidth = float(np.sqrt(stats.gaussian_kde(v, weights=w).covariance[0, 0]))
    # The sum of Gaussian kernels itself: SciPy's gaussian_kde evaluates through a
    # triangular solve (12 ms a curve at 600 rows, most of a 6 s figure of 100 curves).
    kernels = np.exp(-0.5 * np.square((grid[:, None] - v[None, :]) / bandwidth))
    return share * (kernels @ (w / w.sum())) / (bandwidth * np.sqrt(2 * np.pi))


def _check_replicates(n_replicates: Any, least: int = 1) -> None:
    """``n_replicates``: a whole number >= ``least``, or a one-line error naming it."""
    if isinstance(n_replicates, bool) or not isinstance(n_replicates, int | np.integer) \
            or n_replicates < least:
        raise ValueError(f"n_replicates must be an integer >= {least} (replicated data "
                         f"sets, one posterior draw each); got {n_replicates!r}")


def _axes_characters(a: Axes, points_per_character: float = 6.2) -> int:
    """Characters of a 10 pt label that fit across the axes ``a`` (as laid out so far)."""
    fig = a.get_figure(root=True)
    width = a.get_position().width * fig.get_figwidth() * 72
    return max(int(width / points_per_character), 12)


# Rows a predictive check repeats frequency weights into, at most.
_MAX_REPEATED = 1_000_000


def _ppc_data(result: BayesResult) -> tuple[np.ndarray, np.ndarray | None]:
    """The data a predictive check compares replicates with, and row weights if any.

    Frequency weights that are whole numbers are the rows repeated (the data set the fit saw);
    other weights are returned for a weighted density (the joint statistics then use the rows
    unweighted, an approximation).
    """
    X = _data(result)
    obs = result.idata["observed_data"]
    if "sample_weight" not in obs:
        return X, None
    g = np.asarray(obs["sample_weight"].values, dtype=np.float64)
    # repeated up to _MAX_REPEATED rows (review: weights of 1e5 on 100 rows took 720 MB);
    # beyond, weighted as fractional weights are
    if np.all(g == np.round(g)) and g.sum() <= _MAX_REPEATED:
        return np.repeat(X, g.astype(np.int64), axis=0), None
    return X, g


def _replicates(result: BayesResult, n_rows: int, n_replicates: int,
                random_state: Any) -> np.ndarray:
    """Up to ``n_replicates`` replicated data sets of ``n_rows`` rows, one posterior draw each
    (S, n_rows, D)."""
    rep = result.sample_posterior_predictive(n_rows, max_draws=n_replicates,
                                             random_state=random_state)
    return rep["x"].values


def _completed_sets(result: BayesResult, X: np.ndarray, rows: np.ndarray, n_replicates: int,
                    random_state: Any) -> tuple[np.ndarray, np.ndarray]:
    """The data ``X`` (the ``rows`` of :func:`_ppc_data`'s) completed under each of up to
    ``n_replicates`` posterior draws, and that draw's replicate: (S, len(rows), D) each."""
    labels = _ppc_labels(result)
    pairs = list(result.completed_pairs(X, None if labels is None else labels[rows],
                                        n_draws=n_replicates, random_state=random_state))
    return (np.concatenate([c for c, _ in pairs]), np.concatenate([r for _, r in pairs]))


def _ppc_labels(result: BayesResult) -> np.ndarray | None:
    """Known components of :func:`_ppc_data`'s rows (-1 unknown), or None: repeated by
    whole-number weights as the rows are."""
    obs = result.idata["observed_data"]
    if "labels" not in obs.data_vars:
        return None
    labels = np.asarray(obs["labels"].values)
    if "sample_weight" in obs:
        g = np.asarray(obs["sample_weight"].values, dtype=np.float64)
        if np.all(g == np.round(g)) and g.sum() <= _MAX_REPEATED:
            labels = np.repeat(labels, g.astype(np.int64))
    return labels


def _replicate_statistics(result: BayesResult, X: np.ndarray, statistic: Any,
                          n_replicates: int, random_state: Any) -> np.ndarray:
    """``statistic`` (:func:`_ppc_statistics`) over up to ``n_replicates`` replicated data sets
    of ``len(X)`` rows, each on the rows complete in ``X`` (missing values: the same rows of
    every replicate): (replicates, statistics).

    The replicates are simulated a few at a time, each pass's held at most ``_MAX_VALUES``
    values (the simulation holds replicates x rows x D x D): all 200 at once held 6 GB at
    200,000 rows. One pass (small N) is one call with ``random_state``, as always; several
    passes each draw their posterior draws afresh (seeded from ``random_state``), so a
    draw may be replicated twice, as sampling the draws with replacement would.
    """
    post = result.idata["posterior"]
    n_replicates = min(n_replicates, post.sizes["chain"] * post.sizes["draw"])
    D = X.shape[1]
    per_pass = max(1, _MAX_VALUES // max(len(X) * D * D, 1))
    if n_replicates <= per_pass:
        passes = [(n_replicates, random_state)]
    else:
        rng = np.random.default_rng(random_state)
        sizes = [per_pass] * (n_replicates // per_pass) + [n_replicates % per_pass]
        passes = [(size, int(rng.integers(2**32))) for size in sizes if size]
    rows = ~np.isnan(X).any(axis=1)
    values = []
    for size, seed in passes:
        xrep = _replicates(result, len(X), size, seed)
        values.append(statistic(xrep if rows.all() else xrep[:, rows]))
        del xrep  # before the next pass's: one pass's replicates at a time
    return np.concatenate(values)


def _ppc_statistics(X: np.ndarray, names) -> tuple[list[str], Any]:
    """The joint check's statistics: (labels, statistic), ``statistic`` mapping data sets
    (..., N, D) to their values (..., len(labels)). 1-D: sd, skewness and excess kurtosis;
    else the correlation of each pair of features (i < j, in that order), then each
    feature's skewness and excess kurtosis (QA: a K=1 fit of a skewed 2-D cluster, skewness
    2.4 per feature, drew no finding: only correlations were checked). Then, for each
    feature with at least :data:`PPC_QUANTILE_MIN_VALUES` distinct values in ``X`` (the
    data's complete rows), Bowley's quartile skewness and Moors' octile kurtosis
    (:func:`_quantile_shape`): the moments are swamped by a few gross outliers, these are not
    (QA: one component spanning two clusters passed every moment beside 12 outliers; its
    octile kurtosis lay 4.4 replicate sds below theirs). A column of few distinct values
    (codes, coarse rounding) has quantiles the continuous replicates cannot match: left out."""
    D = X.shape[1]
    complete = X[~np.isnan(X).any(axis=1)]  # the rows the statistics are computed on
    many = [j for j in range(D)
            if np.unique(complete[:, j]).size >= PPC_QUANTILE_MIN_VALUES  # distinct values
            and np.subtract(*np.quantile(complete[:, j], [0.75, 0.25])) > 0]  # a spread
    # Recorded on a grid (integers, 0.1 units), the data's octiles sit on it and continuous
    # replicates' do not: an offset that stays while the replicates' spread shrinks with N
    # (review: rounded Gaussians flagged 8-22 replicate sds off at N = 3,000-20,000). The
    # replicates are rounded to the data's grid for these statistics: like with like.
    grids = [_grid(complete[:, j]) for j in many]

    def shapes(Z):  # (..., N, D) -> (..., 2 len(many)): all skewnesses, then kurtoses
        if not many or not Z.shape[-2]:  # none, or no rows: NaN, as the moments give
            return np.full(Z.shape[:-2] + (2 * len(many),), np.nan)
        columns = [Z[..., j] if grid is None else grid[0] + grid[1] * np.round(
            (Z[..., j] - grid[0]) / grid[1]) for j, grid in zip(many, grids, strict=True)]
        return np.concatenate(_quantile_shape(np.stack(columns, axis=-2)), axis=-1)

    short = [_ellipsize(n, 36) for n in names]
    quantile_labels = ([f"quartile skewness({short[j]})" for j in many]
                       + [f"octile kurtosis({short[j]})" for j in many])
    if D == 1:
        def moments(Z):
            z = Z[..., 0]
            return np.concatenate([np.stack([z.std(axis=-1), *_skew_kurtosis(z)], axis=-1),
                                   shapes(Z)], axis=-1)
        return (["sd", "skewness", "excess kurtosis"]
                + [label.split("(")[0] for label in quantile_labels]), moments

    upper = np.triu_indices(D, 1)

    def correlations(Z):  # every pair from one matrix product: D=20 has 190 pairs
        c = Z - Z.mean(axis=-2, keepdims=True)
        cov = np.einsum("...ni,...nj->...ij", c, c)
        sd = np.sqrt(np.einsum("...ii->...i", cov))
        return (cov / (sd[..., :, None] * sd[..., None, :]))[..., upper[0], upper[1]]

    def label(i, j):  # long names: one a line, each shortened (they ran off the panel)
        a, b = (_ellipsize(names[k], 36) for k in (i, j))
        return f"corr({a}, {b})" if len(a) + len(b) <= 30 else f"corr({a},\n{b})"

    def statistics(Z):
        z = np.moveaxis(Z, -1, -2)  # (..., D, N): each feature's moments along N
        return np.concatenate([correlations(Z), *_skew_kurtosis(z), shapes(Z)], axis=-1)

    return ([label(i, j) for i, j in zip(*upper, strict=True)]
            + [f"skewness({n})" for n in short] + [f"excess kurtosis({n})" for n in short]
            + quantile_labels, statistics)


# A feature needs this many distinct values for its quantile statistics in the check.
PPC_QUANTILE_MIN_VALUES = 20


def _grid(values: np.ndarray) -> tuple[float, float] | None:
    """(origin, step) where ``values`` lie on a grid: every gap between distinct values a
    whole multiple of the smallest (to rounding error); None for continuous values."""
    distinct = np.unique(values)
    gaps = np.diff(distinct)
    step = float(gaps.min()) if gaps.size else 0.0
    if not step > 0:
        return None
    multiples = gaps / step
    if not np.allclose(multiples, np.round(multiples), rtol=0, atol=1e-6):
        return None
    return float(distinct[0]), step
_OCTILES = np.arange(1, 8) / 8


def _quantile_shape(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bowley's quartile skewness (Q3 + Q1 - 2 Q2) / (Q3 - Q1) and Moors' (1988) octile
    kurtosis ((E7 - E5) + (E3 - E1)) / (E6 - E2) along the last axis (E_i: the i-th octile;
    1.233 for a normal distribution, lower for a flat or two-peaked one, higher for heavy
    tails): shape statistics that no more than an eighth of the values, however far, can
    move. NaN where the quartiles coincide."""
    e = np.quantile(z, _OCTILES, axis=-1)  # (7, ...)
    with np.errstate(divide="ignore", invalid="ignore"):
        iqr = e[5] - e[1]
        return (e[5] + e[1] - 2 * e[3]) / iqr, ((e[6] - e[4]) + (e[2] - e[0])) / iqr


def _skew_kurtosis(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Skewness and excess kurtosis along the last axis, SciPy's defaults (``stats.skew``,
    ``stats.kurtosis``: biased moments, Fisher's kurtosis, 0 for a normal distribution), from
    one centring and the powers built on each other: SciPy's two calls centred twice and
    checked precision on every array, 11 of the 15 s of the check at 100,000 rows."""
    c = z - z.mean(axis=-1, keepdims=True)
    c2 = c * c
    m2 = c2.mean(axis=-1)
    m3 = (c2 * c).mean(axis=-1)
    m4 = (c2 * c2).mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):  # no spread: NaN, as SciPy's
        return m3 / m2 ** 1.5, m4 / (m2 * m2) - 3.0


# A predictive p-value this close to 0 or 1 says the model does not reproduce the statistic:
# fewer than 1% of the replicated data sets are as extreme as the data.
PPC_MISFIT = 0.01
# Fewer replicated data sets than this cannot tell a misfit at PPC_MISFIT from chance: with n
# of them the data's value lies beyond every one by chance with probability 2 / (n + 1).
PPC_MIN_REPLICATES = 100
# Fewer complete rows than this give no statistic worth comparing.
PPC_MIN_ROWS = 10
# Panels of the joint check at most (four rows of three): every statistic up to D=3; beyond,
# those whose p-values are farthest from 0.5, and the title gives the other p-values' range.
PPC_MAX_PANELS = 12


def _ppc_shown(p: np.ndarray) -> np.ndarray:
    """Which statistics get a panel (indices, in their own order): all, or the
    ``PPC_MAX_PANELS`` with p farthest from 0.5 (the misfits a reader looks for)."""
    if len(p) <= PPC_MAX_PANELS:
        return np.arange(len(p))
    extreme = np.argsort(-np.abs(p - 0.5), kind="stable")[:PPC_MAX_PANELS]
    return np.sort(extreme)


@dataclass(frozen=True)
class PredictiveCheck:
    """Statistics of replicated data sets against the data's (:func:`predictive_check`).

    Attributes
    ----------
    labels : tuple of str
        The statistics (1-D: sd, skewness, excess kurtosis; else each pair's correlation,
        each feature's skewness and excess kurtosis; then, for each feature with many
        distinct values, its quartile skewness and octile kurtosis).
    observed : ndarray (S,)
        The data's values (on its complete rows).
    replicated : ndarray (R, S)
        Each replicated data set's.
    p : ndarray (S,)
        One-sided posterior predictive p-values, P(T(rep) >= T(obs)); NaN where the data's
        value is not finite (no complete rows, no spread).
    noise : bool
        The fit has a uniform noise component (its remedy is then not suggested again).
    not_judged : str
        Why no statistic is judged a misfit ("" when they are): too few replicates (too few
        posterior draws), too few complete rows, or fractional weights (which the data's
        statistics do not use and the replicates' do).
    completed : bool
        The data have missing values: each posterior draw's replicate was compared with the
        data completed under that draw (:meth:`BayesResult.completed_pairs`); ``observed``
        is the completed data sets' mean statistic, ``p`` the share of draws whose replicate
        reaches its completed data's.
    ranges : tuple of (str, float, float)
        Each feature's name as the labels write it, and its smallest and largest observed
        value: a skewness misfit's transform fits the column's sign and bounds.
    """

    labels: tuple[str, ...]
    observed: np.ndarray
    replicated: np.ndarray
    p: np.ndarray
    noise: bool = False
    not_judged: str = ""
    completed: bool = False
    ranges: tuple[tuple[str, float, float], ...] = ()

    def __repr__(self) -> str:
        # a line per statistic, not the (R, S) replicates in full (QA159 L2: 399 lines, the
        # p-values last)
        R = self.replicated.shape[0]
        lo, hi = (np.nanquantile(self.replicated, q, axis=0) if R else np.full(len(self.p), np.nan)
                  for q in (0.03, 0.97))
        width = max((len(label) for label in self.labels), default=0)
        rows = [f"  {label:<{width}}  observed {obs:10.4g}  replicates' 94% [{a:.4g}, "
                f"{b:.4g}]  p {p:.3f}" for label, obs, a, b, p
                in zip(self.labels, self.observed, lo, hi, self.p, strict=True)]
        said = self.not_judged or self.misfit_words() or "no misfit"
        return (f"PredictiveCheck({len(self.labels)} statistics over {R} replicated data sets"
                f"; {said}; .replicated holds them all):\n" + "\n".join(rows))

    def misfits(self, level: float = PPC_MISFIT) -> list[int]:
        """The statistics the model does not reproduce: p at most ``level`` or at least
        1 - ``level`` (the data's value beyond nearly every replicate's), and the data's value
        beyond the replicates' mean by the Bonferroni bound over the S statistics,
        Phi^-1(1 - level / (2 S)) of their sd (review: p alone flagged 1 of 8 correctly
        specified 6-D fits, 27 statistics at 1% each). None when the check is not judged."""
        if self.not_judged:
            return []
        spread = self.replicated.std(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.abs(self.observed - self.replicated.mean(axis=0)) / spread
        extreme = (self.p <= level) | (self.p >= 1 - level)
        return [int(k) for k in np.flatnonzero(extreme & (z >= self.bound(level)))]

    def bound(self, level: float = PPC_MISFIT) -> float:
        """How many of the replicates' sds from their mean the data's value must lie to be a
        misfit: the Bonferroni bound over the statistics, Phi^-1(1 - level / (2 S))."""
        return float(stats.norm.isf(level / (2 * len(self.p))))

    def misfit_labels(self, level: float = PPC_MISFIT) -> list[str]:
        """The statistics not reproduced (:meth:`misfits`), by name, on one line each."""
        return [self.labels[k].replace("\n", " ") for k in self.misfits(level)]

    def misfit_words(self, level: float = PPC_MISFIT) -> str:
        """The misfits in a sentence ("" when none), largest departure first, those beyond
        the same share of replicates said together: "the data's skewness (0.53) and excess
        kurtosis (8.26) are above every one of the 200 replicated data sets' (p < 0.005)"."""
        bad = sorted(self.misfits(level), key=lambda k: -abs(self.p[k] - 0.5))
        n = len(self.replicated)
        said: dict[str, list[str]] = {}  # "above every one of ... (p < 0.005)" -> values
        for k in bad:
            above = self.p[k] < 0.5  # few replicates reach the data's value
            beyond = (self.replicated[:, k] < self.observed[k]) if above else \
                (self.replicated[:, k] > self.observed[k])
            count = int(np.sum(beyond))  # a count, not a share: 199 of 200 read "100%"
            where = (f"{'above' if above else 'below'} "
                     + (f"every one of the {format_number(n)} replicated data sets'"
                        if count == n else f"{format_number(count)} of the {format_number(n)} "
                                           "replicated data sets'")
                     + f" (p {_p_words(self.p[k], n)})")
            label = self.labels[k].replace("\n", " ")  # a long pair: two lines in its panel
            said.setdefault(where, []).append(
                f"{label} ({format_number(self.observed[k], 3)})")
        parts = []
        for where, values in said.items():
            listed = values[0] if len(values) == 1 else \
                ", ".join(values[:-1]) + f" and {values[-1]}"
            parts.append(f"the data's {listed} {'is' if len(values) == 1 else 'are'} {where}")
        return "; ".join(parts)

    def finding(self, level: float = PPC_MISFIT, provisional: bool = False) -> str:
        """What the check says the model does not reproduce, and what that means, as plain
        sentences ("" when every statistic is within the replicates' range, or none is
        judged): by statistic and direction, heavier tails or an asymmetry (a transform, more
        components, a noise component), a flatter or several-peaked shape (more components),
        a spread, or a joint structure (a correlation). The report's section on the check,
        the command line and the Methods paragraph print the same words. ``provisional``: the
        posterior failed its convergence checks, so its replicates may be wrong too (review:
        "the model itself misses part of the data" stood under a PROBLEMS verdict)."""
        words = self.misfit_words(level)
        if not words:
            return ""
        far = self._far_values(self.misfits(level))
        causes = [far] if far else list(dict.fromkeys(self._cause(k)
                                                      for k in self.misfits(level)))
        if provisional:
            return (f"The replicated data sets do not reproduce the data: {words}. The "
                    "posterior failed its convergence checks, so this is provisional: it may "
                    "be the sampling, or the model itself missing part of the data: "
                    f"{'; and '.join(causes)}.")
        return (f"The model does not reproduce the data: {words}. The convergence checks say "
                "whether this model's posterior was computed correctly; this check says the "
                f"model itself misses part of the data: {'; and '.join(causes)}.")

    def _cause(self, k: int) -> str:
        """What a misfit of statistic ``k`` says the model lacks, and what may give it
        (review: a kurtosis below every replicate's, a flat or two-peaked shape, was told to
        add a noise component for outliers)."""
        label, above = self.labels[k], self.p[k] < 0.5  # the data's value above the replicates'
        noise = "" if self.noise else ", or a noise component for outliers"
        if label.startswith("corr("):
            return ("a joint structure that its components do not give (another covariance "
                    "type or more components may)")
        kurtosis = label.startswith(("excess kurtosis", "octile kurtosis"))  # not a name's
        if kurtosis and not above:
            return ("a flatter or several-peaked shape than its components give (more "
                    "components may)")
        if kurtosis:  # not a log: heavy tails may be symmetric, or below 0 (QA)
            return f"heavier tails than its Gaussian components give (more components{noise} may)"
        if label.startswith(("skewness", "quartile skewness")):
            if above != (self.observed[k] > 0):  # the data less skewed than the model
                return ("an asymmetry that its components give more strongly than the data "
                        "(another covariance type or more components may)")
            return ("an asymmetry that its Gaussian components do not give ("
                    + _skew_transform(above, self._range(label)) + ", or more components, may)")
        return (f"a spread that its components do not give (more components{noise} may)")

    def far_values_only(self, level: float = PPC_MISFIT) -> bool:
        """Whether only moments miss and the robust statistics of the same columns pass: a
        few values far out, not the bulk's shape (see :meth:`finding`)."""
        return bool(self._far_values(self.misfits(level)))

    def _far_values(self, misfits: list[int]) -> str:
        """The cause when only moments miss (skewness, excess kurtosis) and the same columns'
        quartile skewness and octile kurtosis, which a few gross outliers barely move, are
        reproduced: a few values far out, not the bulk's shape ("" otherwise). QA101: one
        assay failure 1e4 sds out, held by the noise component, was blamed on the clusters'
        shape, with a log transform advised."""
        names, kinds = [], set()  # one feature: labels without "(name)" (QA107), named ""
        for k in misfits:
            kind, _, rest = self.labels[k].partition("(")
            if kind not in ("skewness", "excess kurtosis"):
                return ""
            names.append(rest[:-1])
            kinds.add(kind)
        robust = [self.labels.index(label) for name in names
                  for kind in ("quartile skewness", "octile kurtosis")
                  for label in [f"{kind}({name})" if name else kind] if label in self.labels]
        if not robust or set(robust) & set(misfits):
            return ""
        columns = ", ".join(dict.fromkeys(names)) or "the feature"
        held = ("the noise component holds such rows, but its replicates, drawn evenly over "
                "its box, seldom put one where the data have it" if self.noise else
                "a noise component (noise=True) may take them")
        what = " and ".join(["an asymmetry"] * ("skewness" in kinds) + [
            "heavier tails than its Gaussian components give"] * ("excess kurtosis" in kinds))
        return (f"{what}, from a few values far out along {columns} rather than the shape of "
                "the bulk (the same columns' quartile skewness and octile kurtosis, which a few "
                f"gross outliers barely move, are reproduced): look at the rows farthest out; "
                f"{held}")

    def _range(self, label: str) -> tuple[float, float] | None:
        """The observed (smallest, largest) value of the feature a statistic's label names."""
        name = label[label.find("(") + 1:label.rfind(")")] if "(" in label else None
        found = [(lo, hi) for n, lo, hi in self.ranges if name is None or n == name]
        return found[0] if len(found) == 1 else None

    @property
    def misfit_level(self) -> float:
        """How close to 0 or 1 a p-value must be to count as a misfit (``PPC_MISFIT``)."""
        return PPC_MISFIT

    @property
    def statistics_words(self) -> str:
        """The statistics compared, in words (the Methods paragraph's, less its citations)."""
        return self.statistics_text()

    def statistics_text(self, cite: Any = None) -> str:
        """:attr:`statistics_words`, ``cite(key, text)`` citing the quantile statistics'
        sources where given (:mod:`bayesgmm.paper_methods`' citation, keys of
        :data:`bayesgmm.references.REFERENCES`)."""
        def cited(key: str, text: str) -> str:
            return "" if cite is None else f" {cite(key, text)}"

        quantiles = [label for label in self.labels if label.startswith("octile kurtosis")]
        robust = ("" if not quantiles else
                  f", with Bowley's quartile skewness{cited('bowley', '(Bowley 1920)')} and "
                  f"Moors' octile kurtosis{cited('moors', '(Moors 1988)')}, which a few "
                  "gross outliers barely move" + (
                      "" if len(quantiles) == self.n_features else
                      f" (of {', '.join(q[len('octile kurtosis('):-1] for q in quantiles)}: "
                      f"the features with at least {PPC_QUANTILE_MIN_VALUES} distinct values)"))
        joint = any(label.startswith("corr(") for label in self.labels)
        completed = ("" if not self.completed else
                     ", each replicate against the data completed under the same posterior "
                     "draw (each missing value drawn given its row's observed values"
                     + ("" if cite is None else f"; {cite('completed', 'Gelman et al. 2005')}")
                     + ")")
        if self.labels[:3] == ("sd", "skewness", "excess kurtosis"):
            return f"the standard deviation, skewness and excess kurtosis{robust}{completed}"
        return (("the correlation of each pair of features and " if joint else "")
                + f"each feature's skewness and excess kurtosis{robust}{completed}")

    @property
    def n_features(self) -> int:
        """The features checked (each has a moment skewness)."""
        return sum(1 for label in self.labels if label.startswith("skewness"))


def _skew_transform(right: bool, bounds: tuple[float, float] | None) -> str:
    """A transform that removes a skew beyond the model's: ``right`` (the data's skewness above
    the replicates' and above 0) or left, fitted to the column's ``bounds`` (QA75: "a log" was
    advised for a log-transformed column, all negative and left-skewed; QA76/QA78: "a square"
    of negative values turned a left skew into a worse right one, a log of values far from 0
    does little, a logit of exact 0s and 1s is infinite)."""
    lo, hi = bounds if bounds is not None else (np.nan, np.nan)
    if 0 <= lo and hi <= 1:
        edge = (" (exact 0s and 1s nudged inside first)" if lo == 0 or hi == 1 else "")
        side = "x" if right else "1 - x"
        return (f"a transform such as a square root or a log of {side}, or a logit{edge} "
                "(its values lie in [0, 1])")
    if right:
        return ("a transform such as a log of the values shifted to just above 0 (x - min + c, "
                "c small beside their spread)")
    square = " or, its values being >= 0, a power above 1 (a square)" if lo >= 0 else ""
    return f"a transform of the left skew, such as a log of (max + c - x){square}"


def _p_words(p: float, n: int) -> str:
    """"= 0.37" ("= 0.014" within 0.05 of 0 or 1); "< 0.005" where no replicate of ``n``
    reached the data (p = 0 is no estimate: QA), "> 0.995" where every one did."""
    if p == 0:
        return f"< {format_number(1 / n, 2)}"
    if p == 1:
        return f"> {format_number(1 - 1 / n, 3)}"
    # near the misfit rule's 0.01 and 0.99 a third decimal tells 0.006 from 0.014 (QA: "p =
    # 0.01" beside a rule of p <= 0.01, unmarked, could not be read)
    return f"= {p:.3f}" if min(p, 1 - p) < 0.05 else f"= {p:.2f}"


def predictive_check(result: BayesResult, n_replicates: int = 200, random_state: Any = 0
                     ) -> PredictiveCheck:
    """The statistics :func:`plot_ppc_statistics` draws, computed once: the report's text
    and its figure read the same numbers (QA: a K=1 fit's p = 0.00 for skewness and
    kurtosis stood under a green verdict with no word of it)."""
    result = _posterior_result(result, "predictive_check")
    _check_replicates(n_replicates, least=2)  # one replicate: no distribution to compare
    X, weights = _ppc_data(result)
    labels, statistic = _ppc_statistics(X, result.feature_names)
    with ignored(RuntimeWarning):  # an all-NaN column: NaN bounds, said by no transform
        ranges = tuple((_ellipsize(n, 36), float(np.nanmin(X[:, j])), float(np.nanmax(X[:, j])))
                       for j, n in enumerate(result.feature_names))
    complete = ~np.isnan(X).any(axis=1)
    not_judged = _not_judged(min(n_replicates, _n_draws(result)), int(complete.sum()),
                             weights)
    if not complete.all() and not not_judged:  # each draw's completed data vs its replicate
        observed, values, p = _completed_statistics(result, X, statistic, n_replicates,
                                                    random_state)
        return PredictiveCheck(tuple(labels), observed, values, p, noise=bool(result.noise),
                               completed=True, ranges=ranges)
    # too few complete rows: NaN statistics, said below (QA: NumPy's "Mean of empty slice"
    # on the console)
    with ignored(RuntimeWarning) if complete.sum() < PPC_MIN_ROWS else contextlib.nullcontext():
        values = _replicate_statistics(result, X, statistic, n_replicates, random_state)
        observed = statistic(X[complete])  # as the replicates': the complete rows
    # review: no complete rows gave NaN here, p = 0 and every statistic "not reproduced"
    p = np.where(np.isfinite(observed), np.mean(values >= observed, axis=0), np.nan)
    return PredictiveCheck(tuple(labels), observed, values, p, noise=bool(result.noise),
                           not_judged=not_judged, ranges=ranges)


def _n_draws(result: BayesResult) -> int:
    post = result.idata["posterior"]
    return int(post.sizes["chain"] * post.sizes["draw"])


def _completed_statistics(result: BayesResult, X: np.ndarray, statistic: Any,
                          n_replicates: int, random_state: Any
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The check of data with missing values (:meth:`BayesResult.completed_pairs`): each
    posterior draw's completed data set against its replicate, statistic by statistic.
    Returns (the completed data sets' mean statistics, the replicates' (S, statistics),
    p = P(T(rep_s) >= T(completed_s)) over the draws). On the complete rows alone the data
    were a subset the missingness chose, which replicates cannot be: with values missing
    where another was high (missing at random), every correct model failed (QA)."""
    labels = _ppc_labels(result)
    D = X.shape[1]
    per_pass = max(1, _MAX_VALUES // max(2 * len(X) * D * D, 1))
    completed, replicated = [], []
    for data, rep in result.completed_pairs(X, labels, n_draws=n_replicates,
                                            random_state=random_state, per_pass=per_pass):
        completed.append(statistic(data))
        replicated.append(statistic(rep))
        del data, rep  # one pass's data sets at a time
    completed_values, values = np.concatenate(completed), np.concatenate(replicated)
    p = np.mean(values >= completed_values, axis=0)
    return completed_values.mean(axis=0), values, p


def _not_judged(n_replicates: int, n_complete: int, weights: np.ndarray | None) -> str:
    """Why a predictive check cannot judge misfits ("" when it can); ``weights``: those
    :func:`_ppc_data` could not repeat into rows."""
    if weights is not None:
        what = ("fractional weights" if np.any(weights != np.round(weights)) else
                f"weights standing for more than {_MAX_REPEATED:,} rows")
        return (f"the rows carry {what}, which the data's statistics do not use and the "
                "replicated data sets' do")
    if n_complete < PPC_MIN_ROWS:
        return f"only {n_complete} rows are complete (no missing value)"
    if n_replicates < PPC_MIN_REPLICATES:
        return (f"only {n_replicates} replicated data sets (one per posterior draw), too few "
                f"to tell a p-value of {PPC_MISFIT:g} from chance")
    return ""


@sizable
def plot_ppc_statistics(result: BayesResult, n_replicates: int = 200, axes: Any = None,
                        random_state: Any = 0, check: PredictiveCheck | None = None
                        ) -> Figure:
    """A joint posterior predictive check: statistics of replicated data against the data's.

    Marginal densities can match while the joint structure does not; the correlation between
    each pair of features catches that, and each feature's skewness and excess kurtosis
    (SciPy's kurtosis - 3) the asymmetry and tails a density plot hides (1-D data: sd,
    skewness and excess kurtosis); Bowley's quartile skewness and Moors' octile kurtosis
    (of each feature with at least ``PPC_QUANTILE_MIN_VALUES`` distinct values) the shape of
    the bulk, which a few gross outliers swamp in the moments. Up to
    :data:`PPC_MAX_PANELS` (12) statistics, each has a panel (D <= 2); with more, the 12
    whose p-values lie farthest from 0.5, and a new figure's title says how many were left
    out and the range of their p-values.
    Each panel: the statistic over ``n_replicates`` replicated data sets (histogram), the
    observed value (black line) and the one-sided posterior predictive p-value
    ``p`` = P(T(rep) >= T(obs)) (a new figure's title says it is one-sided, and which side):
    values near 0 (the data's statistic above nearly every replicate's) or near 1 (below)
    flag a misfit.

    Parameters
    ----------
    result : BayesResult
    n_replicates : int
        Replicated data sets (one random posterior draw each), whose statistics make the
        histograms and the p-values; at least 2.
    axes : sequence of Axes, optional
        One per panel (``min(statistics, 12)``; a new figure lays them out in up to three
        columns); the figure is then the caller's, and nothing is drawn outside these axes
        (no title).
    random_state : int, optional
        Which posterior draws are replicated.
    check : PredictiveCheck, optional
        The statistics already computed (:func:`predictive_check`; ``n_replicates`` and
        ``random_state`` are then its own): the report's text and figure share them.
    """
    result = _posterior_result(result, "plot_ppc_statistics")
    _check_replicates(n_replicates, least=2)  # one replicate: no distribution to compare
    X, _ = _ppc_data(result)
    n = min(len(_ppc_statistics(X, result.feature_names)[0]), PPC_MAX_PANELS)
    given = axes is not None
    if given:  # before the simulation: a wrong call fails at once
        axes = _given_axes(axes, n, "plot_ppc_statistics", f"one axes per panel ({n})")
    if check is None:
        check = predictive_check(result, n_replicates, random_state)
    labels, values, observed, p = check.labels, check.replicated, check.observed, check.p
    shown = _ppc_shown(p)
    if not given:
        cols = min(n, 3)
        rows = (n + cols - 1) // cols
        # one or two panels: wide enough for the title's two lines
        fig = Figure(figsize=(max(4.0 * cols, 7.0), 2.9 * rows), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        for a in axes[n:]:
            a.set_axis_off()
    else:
        fig = axes[0].figure
    misfit = set(check.misfits())  # as the text judges (review: p = 1.00 beside no word)
    for a, k in zip(axes, shown, strict=False):
        if not np.isfinite(values[:, k]).any():  # no complete rows: nothing to histogram
            a.text(0.5, 0.5, "no complete rows", ha="center", va="center",
                   transform=a.transAxes)
            a.set(xlabel=labels[k], xticks=[], yticks=[])
            continue
        a.hist(values[:, k], bins=30, color="C0", alpha=0.6)
        a.axvline(observed[k], color="black", lw=2)
        a.set(xlabel=labels[k], yticks=[])  # p one-sided: the figure's title says so
        # as the text says it: "p < 0.005" where no replicate reached the data (QA: "p = 0.00"
        # in the panel beside "p < 0.005" in the text)
        # in words as well as red (QA102: "red" cannot be looked up on a greyscale print)
        a.set_title(f"p {_p_words(p[k], len(values))}" + (" (misfit)" if k in misfit else ""),
                    color="#b2182b" if k in misfit else "black",
                    fontweight="bold" if k in misfit else "normal")
        # at most 5 ticks: 0.025 apart (D=5), their labels ran together
        a.xaxis.set_major_locator(MaxNLocator(nbins=5))
    if given:  # the caller's figure: nothing drawn outside its axes
        return fig
    kind = "Predictive check" if X.shape[1] == 1 else "Joint predictive check"
    data = ("the data completed under each draw (line: their mean)" if check.completed
            else "the data (line)")
    title = (f"{kind}: {format_number(len(values))} replicated data sets (histogram) vs "
             f"{data}\np: one-sided, P(T(rep) \u2265 T(obs)); misfit (red, marked): p \u2264 "
             f"{PPC_MISFIT:g} or \u2265 {1 - PPC_MISFIT:g} and the data "
             f"{check.bound():.2f}+ replicate sds off (Bonferroni over {len(p)})")
    left = np.setdiff1d(np.arange(len(p)), shown)
    if len(left):
        title += (f"\n{n} of {len(p)} statistics shown, those with p farthest from 0.5; "
                  f"the other {len(left)} have p from {p[left].min():.2f} to "
                  f"{p[left].max():.2f}")
    fig.suptitle(title, fontsize=11)
    return fig
