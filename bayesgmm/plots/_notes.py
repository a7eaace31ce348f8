"""A panel's notes: how many points lie beyond its axes or miss a coordinate (those as ticks
at the edge of the axis they have), placed where they hide the fewest points and clear of the
legend.

Where it sits: the surface layer (:mod:`bayesgmm.plots`); imports the shared parts
(:mod:`bayesgmm.plots._common`); imported by :mod:`bayesgmm.plots.fit` and
:mod:`bayesgmm.plots.diagnostics`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ..formatting import format_number
from ._common import _RUG_POINTS, _sample_rows


def _note_outside(ax: Axes, x: np.ndarray, y: np.ndarray | None = None,
                  keep: np.ndarray | None = None, centres: np.ndarray | None = None,
                  names: list[str] | None = None, more: tuple[str, ...] = (),
                  tick_colors: np.ndarray | None = None) -> None:
    """Say how many points lie beyond the axes (set around the bulk of the data,
    :func:`_limits`): "noise point(s)" when ``keep`` (:func:`_claimed`) is given and every
    one of them is a noise point; and, on a line of its own, how many are not drawn for a
    missing coordinate (NaN in ``x`` or ``y``). ``y`` None: a 1-D panel (only ``x`` counts;
    the note goes at the top, clear of the rug and the jittered points along the bottom, and
    the panel grows by a line so that it sits above the tallest bar).
    :func:`_clear_of_legend` moves a 2-D panel's note off its legend. ``centres`` (K, 2),
    the components' means on the panel's axes, and their ``names``: those beyond the axes
    are named too (QA: a component of weight 0.011 out at the outliers was in the legend
    and nowhere in the panel, which read as a one-component fit). ``more``: the caller's own
    lines, after these (one note a panel). ``tick_colors`` (N, 4): each row's colour for its
    margin tick (its component's, in a classification), else grey."""
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    beyond = (x < x0) | (x > x1)
    missing = np.isnan(x)
    if y is not None:
        beyond |= (y < y0) | (y > y1)
        missing |= np.isnan(y)
        beyond &= ~missing  # counted once, as missing a coordinate (QA: in both lines)
    outside, absent = int(np.sum(beyond)), int(np.sum(missing))
    lines, edge = [], np.empty((0, 2))
    if outside:
        noise = keep is not None and not np.any(beyond & keep)
        if y is not None:
            edge = _edge_markers(ax, x, y, beyond)
        lines.append(f"{format_number(outside)} {'noise ' if noise else ''}point(s) beyond "
                     "the axes" + (" (triangles at the edge)" if len(edge) else ""))
    if absent and y is not None:
        ticked = _margin_ticks(ax, x, y, tick_colors)
        # short: in a pair grid's small panels a long note covered the points (QA); the
        # figure's caption says what the ticks are
        lines.append(f"{format_number(absent)} missing a coordinate"
                     + (": not shown" if not ticked else " (ticks at the edge)"
                        if ticked == absent else
                        f" ({format_number(ticked)} as ticks at the edge)"))
    elif absent:
        lines.append(f"{format_number(absent)} missing this feature: not shown")
    if centres is not None and y is not None:
        away = [str(names[k] if names is not None else f"component {k}")
                for k, (cx, cy) in enumerate(np.asarray(centres, dtype=float))
                if not (x0 <= cx <= x1 and y0 <= cy <= y1)]
        if away:
            lines.append(f"{', '.join(away)}: centred beyond the axes")
    lines.extend(more)
    if not lines:
        return
    lines = _wrapped_to_panel(ax, lines, _NOTE_FONTSIZE)
    if y is None:
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom, top + (0.08 + 0.07 * len(lines)) * (top - bottom))
        places = (((0.99, 0.98), "right", "top"), *_NOTE_PLACES)
    else:  # the corner the note hides fewest points in (QA: iris's notes over its points)
        places = _corners_by_points(ax, x, y, lines, edge)
    (xy, ha, va) = places[0]
    # on a translucent white ground: where every corner holds points, the text stays legible
    # and the points under it still show (QA79: "80 missing a coordinate" struck through)
    note = ax.annotate("\n".join(lines), xy, xycoords="axes fraction", ha=ha, va=va,
                       fontsize=_NOTE_FONTSIZE, color="0.25", zorder=6,
                       bbox={"boxstyle": "square,pad=0.15", "facecolor": "white",
                             "edgecolor": "none", "alpha": 0.75})
    # inside its panel, so the layout need not make room for it (ecologist QA: in a 3 x 3
    # grid the long notes squeezed every panel to a sliver and ran into the neighbours)
    note.set_in_layout(False)
    note._bayesgmm_note = True
    note._bayesgmm_places = places


def _edge_markers(ax: Axes, x: np.ndarray, y: np.ndarray, beyond: np.ndarray) -> np.ndarray:
    """The points of a 2-D panel beyond its axes, each as a small triangle on the edge it is
    beyond, pointing its way (the side it is farthest past, in axes fractions), so that a
    reader sees where the far points are and how many, while the axes stay on the bulk (QA:
    with a noise component every scatter figure clipped its 11 gross outliers to a note, and
    the legend's "x noise" marked nothing). At most :data:`_RUG_POINTS` (a random subset
    beyond). Returns where they were drawn, in axes fractions (n, 2), for the note to keep
    clear of."""
    rows = np.flatnonzero(beyond)
    if not rows.size:
        return np.empty((0, 2))
    rows = rows[_sample_rows(rows.size, _RUG_POINTS)]
    with np.errstate(invalid="ignore", over="ignore"):
        frac = (ax.transScale + ax.transLimits).transform(np.column_stack([x[rows], y[rows]]))
    frac = np.nan_to_num(frac, nan=0.5, posinf=1e9, neginf=-1e9)
    past = np.column_stack([-frac[:, 0], frac[:, 0] - 1, -frac[:, 1], frac[:, 1] - 1])
    side = np.argmax(past, axis=1)  # left, right, bottom, top
    inset = 0.015  # the triangle inside the frame: over no tick label, clipped by nothing
    edge = np.clip(frac, inset, 1 - inset)
    edge[side == 0, 0], edge[side == 1, 0] = inset, 1 - inset
    edge[side == 2, 1], edge[side == 3, 1] = inset, 1 - inset
    alpha = 0.8 * min(1.0, float(np.sqrt(50 / rows.size)))
    for s, marker in enumerate("<>v^"):
        on = side == s
        if on.any():
            # hollow: a component's marker may be a filled triangle (QA87: component 2's
            # "^" and the key's "beyond the axes" were one symbol)
            (line,) = ax.plot(edge[on, 0], edge[on, 1], marker, color=_EDGE_COLOR,
                              markersize=6, alpha=alpha, linestyle="none",
                              markerfacecolor="none", markeredgewidth=1.2,
                              transform=ax.transAxes, zorder=4)
            line._bayesgmm_edge = True
    # triangles on one spot (points beyond a corner pile up there) are counted beside it
    # (QA: 12 outliers beyond both axes read as 4 marks)
    spots, counts = np.unique(np.round(edge, 2), axis=0, return_counts=True)
    for (sx, sy), n in zip(spots, counts, strict=True):
        if n > 1:
            text = ax.annotate(f"{n}", (sx, sy), xycoords="axes fraction", fontsize=6.5,
                               color=_EDGE_COLOR, xytext=(-4 if sx > 0.5 else 4, 0),
                               textcoords="offset points", va="center",
                               ha="right" if sx > 0.5 else "left")
            text.set_in_layout(False)
    return edge


def _edge_handles(ax: Axes) -> list:
    """A key entry for the triangles of :func:`_edge_markers` where ``ax`` has any (QA: the
    key listed "x noise" and components whose points were all beyond the axes, and nothing
    for the grey triangles that stood for them)."""
    if not any(getattr(line, "_bayesgmm_edge", False) for line in ax.lines):
        return []
    from matplotlib.lines import Line2D

    return [Line2D([], [], marker=">", ls="", color=_EDGE_COLOR, markerfacecolor="none",
                   markeredgewidth=1.2, label="beyond the axes")]


_EDGE_COLOR = "0.3"


def _corners_by_points(ax: Axes, x: np.ndarray, y: np.ndarray, lines: list[str],
                       edge: np.ndarray | None = None) -> tuple:
    """:data:`_NOTE_PLACES` ordered by how many points a note of ``lines`` would cover there
    (fewest first; ties keep the default order), from the note's size estimated as
    :func:`_wrapped_to_panel` does and the points' places in axes fractions (a point missing
    one coordinate at the edge of the axis it has, where its tick is drawn; ``edge``, the
    triangles of :func:`_edge_markers`, count as points)."""
    fig = ax.figure
    position = ax.get_position()
    width_pt = max(position.width * fig.get_figwidth() * 72, 1.0)
    height_pt = max(position.height * fig.get_figheight() * 72, 1.0)
    width = max(map(len, lines)) * 0.55 * _NOTE_FONTSIZE / width_pt + 0.01
    height = len(lines) * 1.25 * _NOTE_FONTSIZE / height_pt + 0.01
    known_x, known_y = ~np.isnan(x), ~np.isnan(y)
    shown = known_x | known_y
    points = np.column_stack([np.where(known_x, x, np.nan), np.where(known_y, y, np.nan)])
    with np.errstate(invalid="ignore"):
        frac = (ax.transScale + ax.transLimits).transform(points[shown])
    frac[np.isnan(frac[:, 0]), 0] = 0.0  # a tick on the left edge (y known)
    frac[np.isnan(frac[:, 1]), 1] = 0.0  # a tick along the bottom (x known)
    if edge is not None and len(edge):
        frac = np.vstack([frac, edge])

    def covered(place) -> int:
        (px, py), ha, va = place
        left = px - width if ha == "right" else px
        bottom = py if va == "bottom" else py - height
        return int(np.sum((frac[:, 0] >= left) & (frac[:, 0] <= left + width)
                          & (frac[:, 1] >= bottom) & (frac[:, 1] <= bottom + height)))

    counts = [covered(place) for place in _NOTE_PLACES]
    order = sorted(range(len(_NOTE_PLACES)), key=lambda i: (counts[i], i))
    return tuple(_NOTE_PLACES[i] for i in order)


_NOTE_FONTSIZE = 7.5


def _wrapped_to_panel(ax: Axes, lines: list[str], fontsize: float) -> list[str]:
    """``lines`` wrapped between words to the panel's width (about half an em a character)."""
    import textwrap

    fig = ax.figure
    width_pt = ax.get_position().width * fig.get_figwidth() * 72
    chars = max(12, int(0.95 * width_pt / (0.55 * fontsize)))
    return [part for line in lines for part in textwrap.wrap(line, chars)]


# The edge ticks of rows missing a coordinate: dark grey, no component's colour (QA: the
# vermilion they had was a component's, near another's orange, and no legend explained it).
_TICK_COLOR = "0.2"


def _margin_ticks(ax: Axes, x: np.ndarray, y: np.ndarray,
                  colors: np.ndarray | None = None) -> int:
    """Points of a 2-D panel that miss one coordinate, as ticks on the edge of the axis of the
    one they have (x known: along the bottom; y known: along the left), so that a reader sees
    where the incomplete rows lie (QA: 203 of 579 rows appeared nowhere but in a footnote).
    At most :data:`_RUG_POINTS` a side (a random subset beyond). Only where the known
    coordinate lies within the axes: a tick beyond them (drawn unclipped) stretched the
    panel's extent 1,600 pixels to the right and the grid's layout collapsed (QA: a mistyped
    hba1c of 52 in a row missing its glucose). ``colors`` (N, 4): each row's tick colour (a
    classification's: the rows' components, where grey ticks left the figure's subject
    unshown for a quarter of the rows, QA); grey without. Returns how many rows the ticks
    stand for."""
    from matplotlib.transforms import blended_transform_factory

    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    only_x = np.flatnonzero(np.isfinite(x) & np.isnan(y) & (x >= x0) & (x <= x1))
    only_y = np.flatnonzero(np.isnan(x) & np.isfinite(y) & (y >= y0) & (y <= y1))
    for rows, along_x in ((only_x, True), (only_y, False)):
        if not rows.size:
            continue
        rows = rows[_sample_rows(rows.size, _RUG_POINTS)]
        alpha = 0.6 * min(1.0, float(np.sqrt(200 / rows.size)))
        xy = (x[rows], np.full(rows.size, 0.012)) if along_x else \
            (np.full(rows.size, 0.012), y[rows])
        transform = (blended_transform_factory(ax.transData, ax.transAxes) if along_x else
                     blended_transform_factory(ax.transAxes, ax.transData))
        marker = "|" if along_x else "_"
        if colors is None:
            ax.plot(*xy, marker, color=_TICK_COLOR, markersize=7, alpha=alpha,
                    transform=transform, clip_on=False, zorder=4)
        else:  # one colour a row: a scatter (markersize 7 is s=49)
            ax.scatter(*xy, marker=marker, c=np.asarray(colors)[rows], s=49, alpha=alpha,
                       transform=transform, clip_on=False, zorder=4)
    return int(only_x.size + only_y.size)


# Where a 2-D panel's note may go (axes fraction, ha, va), in order: clear of the legend.
# Inset from the frame by more than the margin ticks and edge triangles reach (0.012-0.03 of
# the panel), so that a note strikes through neither (QA: "87 missing a coordinate: ..." over
# the rug ticks it described).
_NOTE_INSET = 0.035
_NOTE_PLACES = (((1 - _NOTE_INSET, _NOTE_INSET), "right", "bottom"),
                ((_NOTE_INSET, _NOTE_INSET), "left", "bottom"),
                ((1 - _NOTE_INSET, 1 - _NOTE_INSET), "right", "top"),
                ((_NOTE_INSET, 1 - _NOTE_INSET), "left", "top"))


def _legend_off_points(ax: Axes, x: np.ndarray, y: np.ndarray) -> None:
    """Move ``ax``'s legend beside the axes (top right, outside) when, where matplotlib's
    "best" put it, it covers any of the points (``x``, ``y``, data coordinates) drawn
    within the axes, or a triangle of those beyond them: with clusters in every corner
    "best" is only the least bad place (QA: a 5-D membership plot's key over a cluster's
    edge). Call it after the limits are set and before :func:`_clear_of_legend`."""
    legend = ax.get_legend()
    if legend is None:
        return
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    inside = np.isfinite(x) & np.isfinite(y) & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    # the triangles of the points beyond the axes too (QA: the key hid 4 outliers' corner
    # triangle and its count)
    edges = [line.get_transform().transform(line.get_xydata()) for line in ax.lines
             if getattr(line, "_bayesgmm_edge", False)]
    if not inside.any() and not edges:
        return
    ax.get_figure(root=True).draw_without_rendering()
    box = legend.get_window_extent().padded(4)  # a marker half-covered counts too
    points = np.concatenate([ax.transData.transform(np.column_stack([x[inside], y[inside]])),
                             *edges])
    covered = ((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
               & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1))
    if not covered.any():
        return
    legend.set_loc("upper left")
    legend.set_bbox_to_anchor((1.02, 1.0), transform=ax.transAxes)
    legend.borderaxespad = 0.0


def _clear_of_legend(ax: Axes) -> None:
    """Move ``ax``'s note (:func:`_note_outside`) to the first of its corners (fewest points
    first) where ``ax``'s legend does not cover it (the legend's "best" place takes no
    account of text). Call it last."""
    legend = ax.get_legend()
    notes = [t for t in ax.texts if getattr(t, "_bayesgmm_note", False)]
    if legend is None or not notes:
        return
    ax.get_figure(root=True).draw_without_rendering()
    box = legend.get_window_extent()
    for note in notes:
        for xy, ha, va in getattr(note, "_bayesgmm_places", _NOTE_PLACES):
            note.xy = note.xyann = xy
            note.set(ha=ha, va=va)
            if not note.get_window_extent().overlaps(box):
                break
