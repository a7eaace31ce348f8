"""Figures for choosing K: criteria against K, the LOO comparison, the posterior of K+.

As in :mod:`bayesgmm.plots`, every function takes an optional ``ax`` to draw into and returns the
matplotlib ``Figure``; without ``ax`` it is a bare :class:`matplotlib.figure.Figure` (not
registered with pyplot), so no window opens and no pyplot state leaks.

Where it sits: the selection layer, above the three routes whose results it draws; imported
by :mod:`bayesgmm.selection`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..figure_size import sizable, wrap_to_width
from .choice_notes import eligible_cells
from .criteria import CRITERIA, EMSelection
from .loo import BayesSelection, with_current_names
from .sparse import SparseMixture

if TYPE_CHECKING:  # heavy imports (arviz, pymc, matplotlib) stay out of the EM workers
    from matplotlib.figure import Figure


# One look per covariance type, told apart by marker and line as well as colour (QA102: four
# tab10 colours, one marker, one solid line: full and spherical one grey on paper, diag and
# spherical the deuteranope's confusion pair); Okabe & Ito's colours, as the components' are.
_TYPE_STYLES = {"full": ("#0072B2", "o", "-"), "tied": ("#E69F00", "s", "--"),
                "diag": ("#009E73", "^", "-."), "spherical": ("#D55E00", "D", ":")}


def _axes(ax: Any, n: int, width: float = 5.0, height: float = 3.6) -> list:
    """``n`` axes: new ones in one row when ``ax`` is None, else the given one(s)."""
    if ax is None:
        from matplotlib.figure import Figure  # here: EM sweep workers never load matplotlib

        fig = Figure(figsize=(width * n, height), layout="constrained")
        return list(fig.subplots(1, n, squeeze=False)[0])
    axes = list(np.ravel(ax)) if isinstance(ax, Sequence | np.ndarray) else [ax]
    if len(axes) != n:
        raise ValueError(f"this plot needs {n} axes; got {len(axes)}")
    return axes


# delta=True: differences from the best up to this are drawn on a linear scale, larger ones
# logarithmically; and the guides drawn on the BIC panel (Kass & Raftery 1995's evidence
# grades for 2 log Bayes factors, which Delta BIC approximates: 2 positive, 6 strong, 10 very
# strong).
DELTA_LINEAR_UP_TO = 10.0
DELTA_GUIDES = (2.0, 6.0, 10.0)
_GUIDE_GRADES = ("positive", "strong", "very strong")
# The guides of each criterion's panel: (difference, label). Kass & Raftery's grades are for
# Bayes factors, so BIC's alone; AIC gets Burnham & Anderson's rule of thumb (below ~2: no
# preference usually taken), ICL (BIC plus the classification entropy, no Bayes factor) the
# near-tie line of the selection's notes, without a grade.
_GUIDES = {
    "bic": tuple(zip(DELTA_GUIDES, (f"{g:g}: {grade}" for g, grade in
                                    zip(DELTA_GUIDES, _GUIDE_GRADES, strict=True)),
                     strict=True)),
    "aic": ((2.0, "2: rule of thumb\n(Burnham &\nAnderson)"),),
    "icl": ((2.0, "2: near tie\n(no grades)"),),
}
# Tick candidates of a delta panel beyond the linear part: 1, 2, 5 per decade (one a decade
# when the panel spans more than three).
_DECADE_STEPS = (1.0, 2.0, 5.0)


@sizable
def plot_criteria(table: EMSelection | pd.DataFrame, ax: Any = None, *,
                  criteria: Sequence[str] = ("bic", "icl"), delta: bool = True) -> Figure:
    """Information criteria against K, one line per covariance type, one panel per criterion.

    Parameters
    ----------
    table : EMSelection or its ``.table`` DataFrame
    ax : matplotlib Axes or sequence of Axes, optional
        One Axes per criterion; a new figure when None.
    criteria : sequence of {"bic", "aic", "icl"}
    delta : bool, default True
        Plot each criterion minus its best (eligible) value, on a scale that is linear up to
        :data:`DELTA_LINEAR_UP_TO` and logarithmic beyond (``symlog``, plain tick labels):
        the differences of a few units where the choice is made stay visible next to curves
        thousands of units worse (a spherical fit, K = 1). Dotted guides, labelled beside
        the panel: on BIC's, Kass & Raftery's grades of 2 log Bayes factors at
        :data:`DELTA_GUIDES` (2 positive, 6 strong, 10 very strong); on AIC's, 2 (Burnham &
        Anderson's rule of thumb: differences below ~2 are usually not taken as a
        preference); on ICL's, 2 (the selection's near tie; ICL is on BIC's scale but
        penalised by the classification entropy, no Bayes factor, so no grades). False: the
        criteria themselves, on a linear scale (where a curve far worse than the rest, such
        as a spherical fit's, squeezes the others and the best cell into the bottom).

    Returns
    -------
    matplotlib.figure.Figure
        Lower is better on every panel; the best eligible cell is circled and the cells
        excluded from best (degenerate, or a likely spurious spike) are crossed.
    """
    frame = table.table if isinstance(table, EMSelection) else table
    criteria = [criteria] if isinstance(criteria, str) else list(criteria)
    for criterion in criteria:
        if criterion not in CRITERIA:
            raise ValueError(f"unknown criterion {criterion!r}; choose from {CRITERIA}")
    axes = _axes(ax, len(criteria), width=4.2 if delta else 5.0)
    eligible = eligible_cells(frame) if "degenerate" in frame else frame
    # crossed: the cells left out of "best" (degenerate, or a likely spurious spike)
    degenerate = frame["bic"].notna() & ~frame.index.isin(eligible.index)
    for axis, criterion in zip(axes, criteria, strict=True):
        offset = float(eligible[criterion].min()) if delta and \
            eligible[criterion].notna().any() else 0.0
        values = frame[criterion] - offset
        for ct, group in frame.groupby("covariance_type", sort=False):
            order = group["n_components"].sort_values().index
            colour, marker, line = _TYPE_STYLES.get(ct, (None, "o", "-"))
            axis.plot(group.loc[order, "n_components"], values[order], color=colour,
                      marker=marker, ls=line, label=ct)
        if degenerate.any():
            axis.plot(frame.loc[degenerate, "n_components"], values[degenerate],
                      marker="x", color="black", ls="none", label="excluded from best")
        if eligible[criterion].notna().any():
            best = eligible[criterion].idxmin()
            axis.plot(frame.loc[best, "n_components"], values[best], marker="o", ms=14,
                      mfc="none", mec="black", ls="none", clip_on=False,
                      label=f"best: K={frame.loc[best, 'n_components']} "
                      f"{frame.loc[best, 'covariance_type']}")
        axis.set_xlabel("number of components K")
        if delta:
            axis.set_yscale("symlog", linthresh=DELTA_LINEAR_UP_TO)
            # up to past the last guide whatever was drawn: the guides are the scale the
            # panel is read on (a lone cell at 0 got ticks at 0.055 and -0.5, and no guide)
            axis.set_ylim(_delta_floor(axis, values),
                          max(axis.get_ylim()[1], 2 * DELTA_GUIDES[-1]))
            _delta_guides(axis, criterion)
            _delta_ticks(axis)
            axis.set_ylabel(f"\u0394{criterion.upper()} from the best (lower is better)")
        else:
            axis.set_ylabel(f"{criterion.upper()} (lower is better)")
        axis.set_xticks(sorted(frame["n_components"].unique()))
        if not delta:
            axis.legend(fontsize="small")
    if delta:
        # One legend for all panels, below them: inside, it would hide the curves near the
        # best, which is where the panels are read (needs the figure's constrained layout).
        fig = axes[0].figure
        handles, labels = axes[0].get_legend_handles_labels()
        for axis in axes:
            best = [(h, lab) for h, lab in zip(*axis.get_legend_handles_labels(), strict=True)
                    if lab.startswith("best: ")]
            if best:
                axis.set_title(best[0][1], fontsize="medium")
        keep = [(h, "best cell" if lab.startswith("best: ") else lab)
                for h, lab in zip(handles, labels, strict=True)]
        if fig.get_layout_engine() is not None:
            fig.legend(*zip(*keep, strict=True), loc="outside lower center",
                       ncol=len(keep), fontsize="small", frameon=False)
        else:
            axes[0].legend(*zip(*keep, strict=True), fontsize="small")
    return axes[0].figure


def _delta_guides(axis: Any, criterion: str) -> None:
    """The dotted guides of a delta panel (:data:`_GUIDES`: Kass & Raftery's grades on BIC's
    alone), each labelled just outside the panel's right edge: inside, the data lines
    crossed the labels."""
    for guide, label in _GUIDES.get(criterion, ()):
        axis.axhline(guide, color="grey", lw=0.8, ls=":")
        axis.annotate(label, (1.0, guide), xycoords=("axes fraction", "data"),
                      xytext=(3, 0), textcoords="offset points", ha="left", va="center",
                      fontsize="small", color="0.35", annotation_clip=False)


def _delta_ticks(axis: Any) -> None:
    """Plain, readable ticks on a delta panel's symlog axis: 0, 2 and 5 in its linear part (0
    and 5 above 1,000, where it is squeezed), then 1, 2, 5 per decade (matplotlib's symlog
    locator gave 0 and 10^1 alone), negative ones mirrored when a degenerate cell lies below
    the best; thousands with a comma."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    low, high = axis.get_ylim()
    top = max(abs(low), abs(high), DELTA_LINEAR_UP_TO)
    decades = int(np.ceil(np.log10(top / DELTA_LINEAR_UP_TO))) + 1
    steps = _DECADE_STEPS if decades <= 3 else (1.0,)
    beyond = [s * DELTA_LINEAR_UP_TO * 10.0 ** d for d in range(decades) for s in steps]
    # over more than two decades the linear part is squeezed: 0 and 2 ran together (QA);
    # the guides still mark 2 where it has one
    magnitudes = [2.0, 5.0, *beyond] if decades <= 3 else [5.0, *beyond]
    candidates = sorted({0.0, *magnitudes, *(-m for m in magnitudes)})
    ticks = [t for t in candidates if low <= t <= high]
    axis.yaxis.set_major_locator(FixedLocator(ticks))
    axis.yaxis.set_minor_locator(NullLocator())
    axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def _delta_floor(axis: Any, values: pd.Series) -> float:
    """The bottom of a delta panel's symlog axis: just below 0 (the best cell), or below the
    lowest value drawn. A degenerate cell can lie below the best eligible one (Delta -48);
    a fixed floor at 0 sent its curve through the bottom edge and hid its cross."""
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    if not finite.size or finite.min() >= 0:
        return -0.5
    # 5% of the drawn range as room below, measured on the axis's own (symlog) scale, as
    # matplotlib's margins are above: a fixed factor would be a hair on a panel spanning
    # five decades.
    scale = axis.yaxis.get_transform()
    low, high = scale.transform(np.array([finite.min(), max(finite.max(), 0.0)]))
    return float(scale.inverted().transform(np.array([low - 0.05 * (high - low)]))[0])


# A model more than this many standard errors (the models' median se) below the best is off
# plot_loo's scale: its own bar and those of the close models would not fit one axis legibly.
_FAR = 6.0


@sizable
def plot_loo(comparison: BayesSelection | pd.DataFrame, ax: Any = None) -> Figure:
    """PSIS-LOO comparison: elpd_loo +- se per model, and elpd_diff +- dse relative to the best.

    Parameters
    ----------
    comparison : BayesSelection or an ``az.compare`` DataFrame
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Filled circles: elpd_loo with its standard error; open triangles (offset below):
        the difference from the best model with the standard error of the difference.
        Models indistinguishable from the best (column ``indistinguishable``, or
        ``within_noise`` in a comparison saved by an older version) are labelled
        "(indistinguishable)"; with a BayesSelection, models whose posterior failed its
        checks "(checks failed)". Models far worse than the rest (more than ``_FAR`` times the
        models' median se below the best, e.g. K=1) are left off the scale, their elpd_diff
        in their label, so that the close ones can be told apart.
    """
    table = with_current_names(comparison.comparison if isinstance(comparison, BayesSelection)
                               else comparison)
    (axis,) = _axes(ax, 1, width=6.0, height=0.75 * len(table) + 1.8)
    y = np.arange(len(table))[::-1].astype(float)
    axis.errorbar(table["elpd"], y, xerr=table["se"], fmt="o", color="C0",
                  label="elpd_loo \u00b1 se")
    best = table["elpd"].iloc[0]
    diff_x = best + table["elpd_diff"].to_numpy()
    axis.errorbar(diff_x[1:], y[1:] - 0.25, xerr=table["dse"].to_numpy()[1:], fmt="^",
                  mfc="none", color="C1", label="best + elpd_diff \u00b1 dse")
    axis.axvline(best, color="grey", ls="--", lw=1, label="the best model's elpd_loo")
    same = (table["indistinguishable"] if "indistinguishable" in table
            else pd.Series(False, table.index))
    failed = ({name for name, line in comparison.diagnostics.items()
               if str(line).startswith("PROBLEMS")}
              if isinstance(comparison, BayesSelection) else set())
    # the typical se, not the largest: a far-behind model's own wide se, or a single
    # large one, made the bound 20 of those and kept K=1 60 below the rest on the axis,
    # squeezing the close models' bars together (QA)
    scale = max(float(np.nanmedian(table["se"].to_numpy())), 1.0)
    far = (best - table["elpd"].to_numpy()) > _FAR * scale
    # The qualifiers on lines of their own under the model's name: on one line, long labels
    # ("K=4 (indistinguishable) (checks failed)") squeezed the axes into the figure's right
    # third and pushed the title off it (QA).
    notes = [[note for note, on in (
        ("indistinguishable", same.iloc[i]), ("checks failed", name in failed),
        (f"off the scale: elpd_diff {table['elpd_diff'].iloc[i]:.0f}", far[i])) if on]
        for i, name in enumerate(table.index)]
    # one qualifier a line: "(checks failed, off the scale: elpd_diff -157)" on one line
    # squeezed the axes into a third of the figure (referee)
    labels = ["\n".join([str(name), *(f"({note})" for note in n)])
              for name, n in zip(table.index, notes, strict=True)]
    axis.set_yticks(y, labels)
    if far.any() and not far.all():
        near = ~far
        low = min(np.min((table["elpd"] - table["se"]).to_numpy()[near]),
                  np.min((diff_x - table["dse"].to_numpy())[near]))
        high = np.max((table["elpd"] + table["se"]).to_numpy()[near])
        pad = 0.1 * max(high - low, 1.0)
        axis.set_xlim(low - pad, high + pad)
    axis.set_xlabel("elpd_loo (higher is better)")
    # few ticks: the two-line model labels leave the axes narrow, and "-307.5" ran into
    # "-305.0"
    from matplotlib.ticker import MaxNLocator

    axis.xaxis.set_major_locator(MaxNLocator(nbins=4))
    axis.set_title("PSIS-LOO: expected log predictive\ndensity per model", fontsize="medium")
    # Below the axes: inside, it would hide a model's point; above, it ran into the title.
    # One entry a line: two columns ran past the figure's right edge ("best + elpd_diff
    # ± d...", referee).
    # Its top a fixed distance in points under the axes, past the tick labels and the x label
    # (QA69: at -0.16 of the axes' height it touched the x label of a two-model figure).
    from matplotlib.transforms import offset_copy

    under = offset_copy(axis.transAxes, fig=axis.figure, y=-_below_x_label(axis),
                        units="points")
    axis.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, 0.0),
                bbox_transform=under, ncol=1, frameon=False)
    return axis.figure


def _below_x_label(axis: Any) -> float:
    """Points from the axes' bottom edge to just under its x label: the ticks, their labels
    and the label, each at its font's line height."""
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties

    rc = mpl.rcParams
    tick_text = FontProperties(size=rc["xtick.labelsize"]).get_size_in_points()
    return (rc["xtick.major.size"] + rc["xtick.major.pad"] + 1.2 * tick_text
            + axis.xaxis.labelpad + 1.2 * axis.xaxis.label.get_fontsize())


@sizable
def plot_n_components(posterior_counts: SparseMixture | pd.Series | np.ndarray,
                      ax: Any = None) -> Figure:
    """Posterior distribution of the number of non-empty components K+ (from a SparseMixture,
    beside the prior that e0 and K_max imply).

    Parameters
    ----------
    posterior_counts : SparseMixture, pandas Series (index k, value P(K+ = k)), or an array
        of K+ values per draw
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Titled with what is shown and the most probable K+.
    """
    failed, model, prior = None, "", None
    if isinstance(posterior_counts, SparseMixture):
        probs, prior = posterior_counts.posterior_counts, posterior_counts.prior_counts
        prior = None if prior is None else prior[prior.index >= 1]  # K+ = 0: in the text
        # what the answer depends on, on the figure (QA: "report e0 with the answer")
        model = (f"; K_max = {posterior_counts.max_components}, "
                 f"e0 = {posterior_counts.concentration:g}")
        if not posterior_counts.diagnostics.ok:
            failed = posterior_counts.diagnostics.verdict
    elif isinstance(posterior_counts, pd.Series):
        probs = posterior_counts
    else:
        values = np.asarray(posterior_counts).ravel().astype(int)
        ks = np.arange(1, values.max() + 1)
        probs = pd.Series([np.mean(values == k) for k in ks], index=ks)
    (axis,) = _axes(ax, 1)
    # what e0 and K_max say before the data (QA118), side by side to read the posterior by
    shift, width = (0.2, 0.4) if prior is not None else (0.0, 0.8)
    axis.bar(probs.index.astype(int) - shift, probs.to_numpy(), width=width, color="C0",
             label="posterior")
    if prior is not None:
        axis.bar(prior.index.astype(int) + shift, prior.to_numpy(), width=width, fill=False,
                 edgecolor="black", hatch="///", label="prior (e0, K_max and N alone)")
        axis.legend(loc="center right", fontsize="small")  # the top: the failure box
    axis.set_xticks(probs.index.astype(int))
    axis.set_xlabel("number of non-empty components K+")
    axis.set_ylabel("probability" if prior is not None else "posterior probability")
    mode = int(probs.index[int(np.argmax(probs.to_numpy()))]) if len(probs) else None
    axis.set_title(("Number of non-empty components K+: posterior and prior" if prior is not None
                    else "Posterior of the number of non-empty components K+")
                   + (f"\n(most probable: K+ = {mode}, P = {probs.max():.2f}{model})"
                      if mode is not None else ""), fontsize="medium")
    if failed is not None:
        # the figure an author pastes must carry the fit's failure with it (QA: 929
        # divergences, PROBLEMS in the report, nothing on the figure)
        # wrapped to the panel's width as drawn, less the box's padding (QA: 70 characters
        # ran past the panel's right edge)
        from matplotlib.font_manager import FontProperties  # not at import: EM workers

        size = FontProperties(size="small").get_size_in_points()
        room = axis.get_position().width * axis.figure.get_figwidth() - 0.45
        checks = wrap_to_width(_clipped(failed.removeprefix("PROBLEMS: "), 400, lines=1),
                               room, size, max_lines=3)
        head = wrap_to_width("Sampler checks FAILED: do not report these probabilities",
                             room, size)
        axis.text(0.5, 0.96, f"{head}\n{checks}", transform=axis.transAxes, ha="center",
                  va="top", fontsize=size, color="#b00020",
                  bbox={"facecolor": "white", "edgecolor": "#b00020", "alpha": 0.9})
        # room for the box; ticks stop at 1, a probability
        axis.set_ylim(0, 1.3 + 0.09 * f"{head}\n{checks}".count("\n"))
        axis.set_yticks(np.linspace(0.0, 1.0, 6))
    return axis.figure


def _clipped(text: str, width: int, lines: int = 3) -> str:
    """The first line of ``text`` in lines of at most ``width`` characters, at most
    ``lines`` of them, cut between words (an ellipsis where cut: the K+ figure's one line
    stopped mid-word, at "lab\u2026", accessibility QA)."""
    import textwrap

    first = text.split("|")[0].split("\n")[0].strip()
    return "\n".join(textwrap.wrap(first, width, max_lines=lines, placeholder=" \u2026"))
