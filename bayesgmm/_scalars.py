"""Checks of single values (integers, numbers, booleans, seeds): one test per kind, one-line
errors that name the argument.

Where it sits: the vocabulary layer; imports nothing of bayesgmm (NumPy only).
:mod:`bayesgmm._validation` re-exports every name, the import path most callers use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["check_bool", "check_int", "check_n_components", "check_number", "check_positive",
           "check_random_state", "check_seed", "draw_seed", "is_int", "is_number", "seed_from",
           "shown", "transposed_hint"]


def shown(value: Any, limit: int = 60) -> str:
    """``value`` as an error message shows it: its repr when short and on one line, else what
    it is (notebook QA: ``fit_em(2, X)`` printed the whole DataFrame in the message); for data
    where a number belongs, a hint that the arguments may be swapped."""
    text = repr(value)
    if len(text) <= limit and "\n" not in text:
        return text
    shape = getattr(value, "shape", None)
    kind = type(value).__name__
    what = f"{'an' if kind[0] in 'AEIOUaeiou' else 'a'} {kind}" + (
        f" of shape {tuple(shape)}" if shape else "")
    swapped = " (the data? check the order of the arguments)" if shape or isinstance(
        value, list | tuple) else ""
    return what + swapped


def transposed_hint(n_rows: int, n_features: int) -> str:
    """The clause a too-few-values warning adds when the rows are fewer than the features,
    as transposed data look (notebook QA: ``X.T`` was fitted as 2 rows of 272 features and
    nothing said so); "" otherwise."""
    return ("; with fewer rows than features, check that each row is an observation (data "
            "given transposed: pass X.T)" if n_rows < n_features else "")


def is_int(value: Any, minimum: int | None = None) -> bool:
    """The one "is it an int" test: an int or NumPy integer (not a bool, not 2.0) >= minimum."""
    return not isinstance(value, bool) and isinstance(value, int | np.integer) and (
        minimum is None or value >= minimum)


def check_int(value: Any, name: str, minimum: int | None = 1) -> int:
    """``value`` as an int if :func:`is_int` (``minimum=None``: any); else a ValueError."""
    if not is_int(value, minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{name} must be an integer{bound}; got {shown(value)}")
    return int(value)


def is_number(value: Any) -> bool:
    """A real number: an int or float, NumPy's too (not a bool, a complex, a string)."""
    return not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)


def check_number(value: Any, name: str, ok: Callable[[Any], Any] | None = None,
                 must: str = "a number") -> float:
    """``value`` as a float if :func:`is_number` and ``ok(value)``; else "{name} must be {must}"."""
    if not is_number(value) or (ok is not None and not ok(value)):
        raise ValueError(f"{name} must be {must}; got {shown(value)}")
    return float(value)


def check_n_components(n_components: Any) -> int:  # check_int, with its message below 1
    if check_int(n_components, "n_components", None) < 1:
        raise ValueError(f"n_components must be >= 1; got {n_components}")
    return int(n_components)


def check_bool(value: Any, name: str) -> bool:
    """``value`` if it is True or False (NumPy booleans count); else a one-line ValueError.
    Strings such as "no" are truthy in Python: refused rather than read as True."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False; got {shown(value)}")
    return bool(value)


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """``value`` as a float if it is a finite real number > 0 (``allow_zero``: >= 0); a
    bool or a string is refused, not converted (``float(True)`` is 1, ``float("1e-3")`` a
    number: nothing is converted implicitly)."""
    bound = ">= 0" if allow_zero else "> 0"
    return check_number(value, name, lambda v: np.isfinite(v) and (
        v > 0 or (allow_zero and v == 0)), f"a finite number {bound}")


def check_seed(seed: Any, name: str = "random_state") -> int | None:
    """A seed: None or any non-negative integer (NumPy's SeedSequence takes big ones); else a
    ValueError naming ``name`` (``random_state``, ``--seed``, ``[sampler] seed``)."""
    if seed is not None and not is_int(seed, 0):
        raise ValueError(f"{name} must be a non-negative integer (0, 1, 2, ...; any size); "
                         f"got {shown(seed)}")
    return None if seed is None else int(seed)


def check_random_state(random_state: Any, name: str = "random_state") -> Any:
    """None, a non-negative integer, or a NumPy SeedSequence / BitGenerator / Generator; a
    legacy ``numpy.random.RandomState`` (what scikit-learn's ``check_random_state`` makes)
    becomes a Generator seeded by one draw from it, so it advances as scikit-learn's
    estimators advance it (API QA: it was refused). A SeedSequence is copied: spawning
    children from it counts them in it, so that a second fit given the same one spawned
    others and differed (review: fit_em(seq) twice, two fits); a SeedSequence, as an
    integer, names one stream, while a Generator is meant to advance."""
    if isinstance(random_state, np.random.SeedSequence):
        return np.random.SeedSequence(random_state.entropy, spawn_key=random_state.spawn_key,
                                      pool_size=random_state.pool_size,
                                      n_children_spawned=random_state.n_children_spawned)
    if isinstance(random_state, np.random.BitGenerator | np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(2**31)))
    try:
        return check_seed(random_state, name)
    except ValueError:
        raise ValueError(f"{name} must be None, a non-negative integer or a NumPy Generator / "
                         f"SeedSequence / RandomState; got {shown(random_state)}") from None


def seed_from(random_state: Any, name: str = "random_state") -> int | None:
    """The integer seed of a run that takes one (the sampler's): None and integers as given;
    from a NumPy SeedSequence, BitGenerator or Generator, 31 bits drawn from it (so that one
    ``rng`` can serve fit_em and fit_bayes alike, and advances as it does for fit_em)."""
    state = check_random_state(random_state, name)
    if isinstance(state, np.random.SeedSequence):
        return int(state.generate_state(1)[0] >> 1)
    if isinstance(state, np.random.BitGenerator):
        state = np.random.Generator(state)
    if isinstance(state, np.random.Generator):
        return int(state.integers(2**31))
    return state


def draw_seed() -> int:
    """A fresh random seed for a run that was given none (recorded so it can be repeated):
    below 2**31, short enough to retype from a printout, for the library and the command line
    alike (QA80: the command line drew 31 bits, the library 63)."""
    return int(np.random.SeedSequence().entropy % 2**31)
