"""Numpydoc text that several public functions share, written once.

A parameter that means the same in several places (the data ``X`` a fitted model predicts
for, its known ``labels``) is described once here; :func:`shared_docs` puts the description
where a docstring has a line ``{name}`` of its own, indented as that line. ``help()`` and the
documentation read the whole text; the source reads the placeholder.

Where it sits: the vocabulary layer; imports nothing of bayesgmm (the standard library only).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping
from typing import TypeVar

__all__ = ["PREDICTION_PARAMETERS", "shared_docs"]

F = TypeVar("F", bound=Callable)

# The data and known labels of the prediction methods (EMResult's and BayesResult's).
PREDICTION_PARAMETERS = {
    "X_with_gaps": """\
        X : array-like (N, D), or (N,) when D = 1
            NaN marks a missing value.""",
    "labels_known": """\
        labels : array-like (N,) of int, optional
            Known components (-1 or NaN unknown).""",
}
# The whole Parameters section of a method that takes those two and nothing else.
PREDICTION_PARAMETERS["X_and_labels_section"] = "\n".join(
    ["Parameters", "----------"] + [textwrap.dedent(PREDICTION_PARAMETERS[name])
                                    for name in ("X_with_gaps", "labels_known")])

# A line that is a placeholder and nothing else: ``{name}``.
_PLACEHOLDER = re.compile(r"^(\s*)\{([A-Za-z_][A-Za-z0-9_]*)\}\s*$")


def shared_docs(texts: Mapping[str, str]) -> Callable[[F], F]:
    """A decorator that fills a docstring's placeholder lines from ``texts``.

    Parameters
    ----------
    texts : mapping of str to str
        Name to numpydoc text (indented as you like: it is dedented, then indented as the
        placeholder's line).

    Returns
    -------
    callable
        The decorator; it returns the function itself, its ``__doc__`` filled in. A
        placeholder ``texts`` does not name raises ValueError when the module is imported
        (a typo never reaches ``help()``).
    """
    def decorate(func: F) -> F:
        lines = []
        for line in (func.__doc__ or "").splitlines():
            placeholder = _PLACEHOLDER.match(line)
            if placeholder is None:
                lines.append(line)
                continue
            indent, name = placeholder.groups()
            if name not in texts:
                raise ValueError(f"{func.__qualname__}'s docstring has {{{name}}}, which no "
                                 f"shared text names (known: {', '.join(sorted(texts))})")
            lines.extend(indent + text if text else text
                         for text in textwrap.dedent(texts[name]).splitlines())
        func.__doc__ = "\n".join(lines)
        return func

    return decorate
