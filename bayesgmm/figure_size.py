"""A figure's size on request: the ``figsize`` keyword every figure function takes.

A keyword a figure function does not take is refused with the nearest it does
(:mod:`bayesgmm._keywords`), and in a Jupyter kernel the inline backend is loaded so that the
figures show (:func:`show_in_notebooks`).

Where it sits: the vocabulary layer (the standard library, NumPy and :mod:`bayesgmm._keywords`;
matplotlib's text class is imported inside the function that scales text, its inline backend
only inside a Jupyter kernel, so that :mod:`bayesgmm.selection.plots` can be imported by the EM
sweep's workers without loading matplotlib). Used by :mod:`bayesgmm.plots` and
:mod:`bayesgmm.selection.plots`.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from ._keywords import unknown_keyword

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# A figure drawn smaller than its natural size keeps text at least this share of its size.
MIN_TEXT_SCALE = 0.6


def sizable(func):
    """``func`` with a keyword ``figsize``: (width, height) in inches of the figure it makes.

    A paper wants a figure at its column's width; the figures size themselves to their panels
    (a pair grid grows with D). Only a new figure is resized: given ``ax``/``axes``, the
    caller sizes their own figure, and ``figsize`` is refused with a one-line error.
    """
    signature = inspect.signature(func)
    sized = signature.replace(parameters=[
        *signature.parameters.values(),
        inspect.Parameter("figsize", inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation="tuple[float, float] | None")])

    taken = [*signature.parameters, "figsize"]
    open_ended = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())

    @functools.wraps(func)
    def wrapper(*args, figsize=None, **kwargs):
        for given in () if open_ended else kwargs:  # QA69: ax here, axes there
            if given not in taken:
                raise TypeError(unknown_keyword(func.__name__, given, taken))
        size = check_figsize(figsize)
        if size is not None:
            bound = signature.bind_partial(*args, **kwargs).arguments
            if bound.get("ax") is not None or bound.get("axes") is not None:
                raise ValueError(f"{func.__name__}: figsize sizes a new figure; with ax/axes "
                                 "given, size their figure (fig.set_size_inches)")
        fig = func(*args, **kwargs)
        show_in_notebooks()
        if size is not None:
            before = fig.get_size_inches()
            fig.set_size_inches(size)
            # smaller than drawn: the text shrinks with it (to at most 60% of its size), so
            # that titles and legends still fit the panels they were written for
            scale = min(size[0] / before[0], size[1] / before[1])
            if scale < 1:
                scale_text(fig, max(scale, MIN_TEXT_SCALE))
        wrap_titles(fig)
        return fig

    wrapper.__signature__ = sized
    wrapper.__doc__ = _with_figsize(func.__doc__ or "")
    return wrapper


# The keyword the wrapper adds, as a numpydoc parameter; and what a figure is to do with.
_FIGSIZE_PARAMETER = (
    "    figsize : (float, float), optional\n        Width and height in inches of the new "
    "figure (default: sized to its panels);\n        not with ``ax``/``axes``, whose figure "
    "is the caller's.\n")
_FIGURE_NOTE = (
    "    The figure is a matplotlib ``Figure``: save it with ``fig.savefig(path)``; in a "
    "notebook\n    it shows as the cell's last expression. Given ``ax``/``axes`` it is your "
    "pyplot\n    figure, which the notebook shows by itself: end the call with ``;`` or it\n"
    "    shows twice.\n")  # QA69: none said so; QA96: twice


def _with_figsize(doc: str) -> str:
    """``doc`` with ``figsize`` last among its numpydoc Parameters (before Returns) and the
    figure's note in its Notes (QA110: appended after Returns, numpydoc read the two
    paragraphs as returned values and ``figsize`` as undocumented)."""
    import re

    doc = doc.rstrip() + "\n"
    parameters = "\n    Parameters\n    ----------\n"
    if parameters in doc:  # last among them: before the next section, or at the end
        head, _, tail = doc.partition(parameters)
        after = re.search(r"\n    \w[\w ]*\n    -{3,}\n", tail)
        at = after.start() if after else len(tail)
        doc = (head + parameters + tail[:at].rstrip("\n") + "\n" + _FIGSIZE_PARAMETER
               + tail[at:])
    else:
        doc += parameters + _FIGSIZE_PARAMETER
    notes = "\n    Notes\n    -----\n"
    if notes in doc:
        head, _, tail = doc.partition(notes)
        return head + notes + tail.rstrip("\n") + "\n\n" + _FIGURE_NOTE
    return doc + notes + _FIGURE_NOTE


# matplotlib's names for the inline backend a Jupyter kernel sets (ipykernel's MPLBACKEND)
_INLINE = ("inline", "module://matplotlib_inline.backend_inline")


def show_in_notebooks() -> None:
    """In a Jupyter kernel on matplotlib's inline backend, set up its display of figures.

    The figures here are bare ``Figure`` objects, made without pyplot; the inline backend
    registers its formatter (PNG, or what ``%config InlineBackend`` asks) only when it is
    loaded, which pyplot does on its first figure. Until then a figure showed as the text
    "<Figure size 640x480 with 1 Axes>", with ``display(fig)`` too (QA69: the EM half of a
    class notebook, before any sampling, had no pictures). Loading the backend module is
    what ``%matplotlib inline`` does; outside a kernel, or on another backend, nothing.
    """
    ipython = sys.modules.get("IPython")
    if ipython is None or ipython.get_ipython() is None \
            or "matplotlib_inline.backend_inline" in sys.modules:
        return
    import matplotlib

    if matplotlib.get_backend(auto_select=False) in _INLINE:
        importlib.import_module("matplotlib_inline.backend_inline")  # registers on import


def scale_text(fig: Figure, factor: float) -> None:
    """Every text of ``fig`` (titles, labels, legends, notes) and its tick labels, ``factor``
    times its size."""
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_fontsize(text.get_fontsize() * factor)
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = axis.get_ticklabels()
            size = labels[0].get_fontsize() if labels else None
            if size is not None:
                axis.set_tick_params(labelsize=size)  # the tick labels drawn later, as scaled


def wrap_titles(fig: Figure) -> None:
    """Each panel title's lines, and the figure title's, that are wider than the figure
    wrapped, at spaces, to fit it
    (measured as drawn; QA: a weighted fit's "272 rows standing for 847 observations
    (frequency weights), marker area by weight" ran off both sides of a 6.4-inch figure).
    Lines that fit are left alone. A title is centred on its panel, not on the figure: the
    room is twice the distance from the panel's centre, as laid out, to the nearer edge (a
    weighted overlay's title, wrapped to the figure's width, still ran off its right side).
    """
    import textwrap

    from matplotlib.backends.backend_agg import RendererAgg

    renderer = RendererAgg(10, 10, fig.dpi)

    def room(ax) -> float:  # pixels either side of the panel's centre
        position = ax.get_position()
        centre = (position.x0 + position.x1) / 2
        half = min(centre, 1 - centre)
        for other in fig.axes:  # a panel beside it: up to the middle of the gap (QA96: two
            # titles side by side overlapped by 64 px); a colorbar's thin axes do not count
            o = other.get_position()
            if (other is ax or not other.get_visible() or o.width < 0.3 * position.width
                    or o.y0 >= position.y1 or o.y1 <= position.y0):
                continue
            if o.x0 >= position.x1:
                half = min(half, (position.x1 + o.x0) / 2 - centre)
            elif o.x1 <= position.x0:
                half = min(half, centre - (o.x1 + position.x0) / 2)
        return 0.97 * 2 * half * fig.get_figwidth() * fig.dpi

    def width(line: str, title) -> float:
        prop = title.get_fontproperties()
        return renderer.get_text_width_height_descent(line, prop, ismath=False)[0]

    titled = [ax for ax in fig.axes if ax.title.get_text()]
    # the panels where they will be drawn, unless every line fits with room to spare where
    # they are now (laying a figure out costs 40 ms)
    if fig.get_layout_engine() is not None and any(
            width(line, ax.title) > 0.8 * room(ax)
            for ax in titled for line in ax.title.get_text().split("\n")):
        fig.get_layout_engine().execute(fig)
    def wrapped(title, limit: float) -> None:
        out, changed = [], False
        for line in title.get_text().split("\n"):
            wide = width(line, title)
            if wide <= limit or " " not in line:
                out.append(line)
                continue
            # the widest wrap whose every line fits as drawn (an estimate from the average
            # character left a line too wide, wrapped again later: "95%" / "of" / "the points")
            chars = max(20, int(len(line) * limit / wide))
            pieces = textwrap.wrap(line, chars)
            while chars > 20 and max(width(piece, title) for piece in pieces) > limit:
                chars -= 2
                pieces = textwrap.wrap(line, chars)
            out += pieces
            changed = True
        if changed:
            title.set_text("\n".join(out))

    for ax in titled:
        wrapped(ax.title, room(ax))
    # the figure's own title, centred on it (QA157 M1: a pair grid's "6 of 13 features ...;
    # not shown: ..." ran off both sides, and the part lost was the one saying so)
    heading = fig.get_suptitle()
    if heading:
        # among the figure's own texts, where suptitle puts it (findobj walked every artist:
        # 6% of the report and command-line tests' time, py-spy, stop 71)
        title = next((t for t in fig.texts if t.get_text() == heading), None)
        if title is not None:
            wrapped(title, 0.97 * fig.get_figwidth() * fig.dpi)


def wrap_to_width(text: str, width_inches: float, fontsize: float, max_lines: int = 4
                  ) -> str:
    """``text``'s lines wrapped at spaces so that each, drawn at ``fontsize`` points, is at
    most ``width_inches`` wide (measured as matplotlib draws it); at most ``max_lines`` lines
    per paragraph, an ellipsis where cut (QA: the K+ figure's "Sampler checks FAILED" box,
    wrapped at 70 characters, ran past its panel's right edge)."""
    import textwrap

    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(10, 10, 72)  # 72 dpi: a pixel is a point
    prop = FontProperties(size=fontsize)
    limit = width_inches * 72

    def wide(line: str) -> float:
        return renderer.get_text_width_height_descent(line, prop, ismath=False)[0]

    out = []
    for line in text.split("\n"):
        chars = len(line)
        # between words only: "label-invariant" is one word
        wrap = functools.partial(textwrap.wrap, break_on_hyphens=False)
        while chars > 10 and any(wide(part) > limit for part in wrap(line, chars)):
            chars -= 2
        out += wrap(line, chars, max_lines=max_lines, placeholder=" \u2026") or [""]
    return "\n".join(out)


def check_figsize(figsize: Any) -> tuple[float, float] | None:
    """``figsize`` as two positive finite inches, or None; a one-line error otherwise."""
    if figsize is None:
        return None
    try:
        width, height = (float(v) for v in figsize)
    except (TypeError, ValueError):
        raise ValueError(f"figsize must be (width, height) in inches; got {figsize!r}") from None
    if not (np.isfinite(width) and np.isfinite(height) and width > 0 and height > 0):
        raise ValueError(f"figsize must be two positive numbers of inches; got {figsize!r}")
    return width, height
