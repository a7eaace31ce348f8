"""How a component looks in every figure: its colour, its marker, its line style, and one
scatter of many components' points in which each point has its component's marker.

Where it sits: the surface layer (:mod:`bayesgmm.plots`); imports matplotlib and NumPy only;
imported by :mod:`bayesgmm.plots._common`, :mod:`bayesgmm.plots.fit` and
:mod:`bayesgmm.plots.diagnostics`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_NOISE_COLOR = "black"  # apart from the grey of the size legend and of C7

# Components 0..6 take Okabe & Ito's colour-blind-safe colours (black left to the noise and
# the EM fit, yellow last): matplotlib's C0..C9 made components 1 and 2 one olive under
# protanopia, 2 and 3 under deuteranopia (accessibility QA). Components 7..19 take tab10's
# purple, brown and olive, then tab20's light shades and tab10's cyan, in an order of hues
# unlike their neighbours' and with light blue last (K=8 drew components 0, 5 and 7 in three
# blues: big-data QA); no grey (tab10's and tab20's greys are the data's and the size key's).
# A component keeps its colour (and marker) whatever K, so figures of fits with different K
# agree; in scatter plots its marker tells it apart too. Sky blue comes fourth, vermillion
# fifth: as component 3 beside component 1's orange, two clusters read as one (QA, K=4), and
# reddish purple fourth sat too near blue under protanopia.
_OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#56B4E9", "#D55E00", "#CC79A7", "#F0E442")
# after Okabe-Ito: "C<n>" tab10's, an int tab20's (odd: its light shades)
_MORE = ("C4", "C5", "C8", 7, 5, 9, 3, "C9", 13, 17, 11, 19, 1)
_PALETTE_SIZE = len(_OKABE_ITO) + len(_MORE)
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">", "p")


def _component_color(k: int, n_gaussians: int | None = None) -> Any:
    """Component k's colour (Okabe-Ito's seven, then :data:`_MORE`; cycling past 20);
    with ``n_gaussians`` given, k == n_gaussians is the noise."""
    if n_gaussians is not None and k == n_gaussians:
        return _NOISE_COLOR
    k %= _PALETTE_SIZE
    if k < len(_OKABE_ITO):
        return _OKABE_ITO[k]
    more = _MORE[k - len(_OKABE_ITO)]
    if isinstance(more, str):
        return more
    from matplotlib import colormaps

    return colormaps["tab20"](more)


def _component_marker(k: int, n_gaussians: int | None = None) -> str:
    """Component k's marker in scatter plots and keys (the noise's: a cross)."""
    if n_gaussians is not None and k == n_gaussians:
        return "x"
    return _MARKERS[k % len(_MARKERS)]


def _component_linestyle(k: int) -> str:
    """Component k's line style where curves alone tell components apart (a 1-D fit)."""
    return ("-", "--", "-.", ":")[k % 4]


def _scatter_components(ax: Any, x: np.ndarray, y: np.ndarray, components: np.ndarray,
                        n_gaussians: int, **kwargs: Any) -> Any:
    """One scatter of points of several components, in the order given (interleaved: drawn
    component by component, the last covered the first), each with its component's marker:
    told apart by shape as well as colour (colour-blind and greyscale readers)."""
    from matplotlib.markers import MarkerStyle

    if n_gaussians in components:  # the noise's cross is unfilled: drawn blank here
        raise ValueError("_scatter_components draws the Gaussian components' points only")
    points = ax.scatter(x, y, **kwargs)
    shapes = {}
    for k in np.unique(components):
        style = MarkerStyle(_component_marker(int(k), n_gaussians))
        shapes[k] = style.get_path().transformed(style.get_transform())
    points.set_paths([shapes[k] for k in components])
    return points
