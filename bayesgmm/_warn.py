"""Where bayesgmm's warnings point, and catching them in one thread without touching others.

Every ``warnings.warn`` of the package passes ``skip_file_prefixes=IN_PACKAGE`` (Python >=
3.12) instead of a ``stacklevel``: the warning is attributed to the first frame outside this
package however deep the call that raised it (a stacklevel counts frames, so the same helper
reached through ``fit_bayes`` and through ``BayesianGMM.fit`` pointed into bayesgmm on one of
the two; QA: ``estimator.py:217``).

:func:`recorded` and :func:`ignored` stand for ``warnings.catch_warnings`` (with
``record=True`` and ``simplefilter("always")``, or with ``filterwarnings("ignore", ...)``),
which swaps the process's filters and display hook and restores them on leaving: two threads
inside at once restore each other's state, out of order. QA145 H1: after 40 ``fit_em`` in two
threads (a thread pool, joblib's threading backend, Dask's threads, a nested ``select_em``)
every later warning of the process was swallowed, a ``DesignWeightsWarning`` in the main
thread included, and ``select_em``'s table lost cells' warnings at random. Here the first
thread in installs one display hook and one "always" filter for the process and the last one
out removes them; in between the hook hands a warning to the innermost block of the thread
that raised it (recorded, or dropped when it matches an ignore), and applies the process's own
filters to a warning of a thread in no block. The package's own warnings go through
:func:`warn`, which hands them to a block of its thread directly: another thread inside a
``catch_warnings`` of its own (pandas, SciPy and matplotlib use them) changes the process's
filters for every thread, so that other libraries' warnings raised in a block meanwhile may
go uncaught or unsaid (QA148 H3), but never the package's. Outside blocks :func:`warn` keeps
Python's memory of what the filters show once (per line or per module), which every
block's start resets as ``catch_warnings`` does: a warning repeated by every fit is shown once
per place, as Python shows it (QA152 M1). On Pythons where
``catch_warnings`` is context-local (3.14 with ``sys.flags.context_aware_warnings``) it is
used as it is; on 3.14 without it (its default build), too, unchecked against its internals,
with the old race (QA148 M2).

Every use of the warnings module's internals (``_showwarning_orig``, ``_showwarnmsg_impl``:
where a warning goes when the display hook is Python's own; ``_filters_mutated``: Python's
caches of warnings shown once, reset when this module's filter goes in) is here, behind one
version check (:data:`_PRIVATE_CHECKED`); on another Python the blocks are plain
``catch_warnings``.

Where it sits: the vocabulary layer; standard library only.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["IN_PACKAGE", "ignored", "recorded", "warn"]

IN_PACKAGE = (os.path.dirname(os.path.abspath(__file__)) + os.sep,)

# The Pythons whose warnings module this one was read against (3.12, 3.13).
_PRIVATE_CHECKED = (3, 12) <= sys.version_info[:2] <= (3, 13)
_CONTEXT_LOCAL = bool(getattr(sys.flags, "context_aware_warnings", False))
# This module's "always" filter, told from a user's equal one by identity (QA149 M1: a stray
# copy left by another thread's catch_warnings was taken for the user's own)
_ALWAYS = ("always", None, Warning, None, 0)

_lock = threading.Lock()
# threads in a block; the display hook this module's replaced (put back by the last one out)
_state: dict = {"users": 0, "hook": None}
_blocks = threading.local()  # this thread's blocks, innermost last
_shown: set = set()  # what a thread in no block was shown under "default"/"module"/"once"
# The package's own warnings shown outside blocks under "default"/"module"/"once", and the
# process's filters they were shown under: the list itself and its entries. Python forgets
# what it showed when either changes: a ``catch_warnings`` block swaps in a copy of the list
# on entering and puts the original back on leaving (QA153 H1: a pytest test, each inside
# one, no longer recorded a warning an earlier test had shown).
_shown_outside: dict = {"list": None, "filters": None, "keys": set()}


@contextlib.contextmanager
def recorded() -> Iterator[list[warnings.WarningMessage]]:
    """The warnings raised in this thread inside the block (``"always"``), as
    ``warnings.catch_warnings(record=True)`` with ``simplefilter("always")`` records them:
    every one of the package's (:func:`warn`), and other libraries' unless another thread
    has changed the process's filters meanwhile (see the module's docstring); a block of
    :func:`ignored` inside drops what it matches first. Other threads are not touched."""
    found: list[warnings.WarningMessage] = []
    if not _PRIVATE_CHECKED or _CONTEXT_LOCAL:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield found
            finally:
                found += caught
        return
    with _block(("record", found)):
        yield found


@contextlib.contextmanager
def ignored(*categories: type[Warning], message: str = "", module: str = "") -> Iterator[None]:
    """Drop the warnings of ``categories`` (default: every warning) whose text starts with
    ``message`` and whose module's name with ``module`` (regular expressions, as
    ``warnings.filterwarnings`` takes them), raised in this thread inside the block."""
    categories = categories or (Warning,)
    if not _PRIVATE_CHECKED or _CONTEXT_LOCAL:
        with warnings.catch_warnings():
            for category in categories:
                warnings.filterwarnings("ignore", message, category, module)
            yield
        return
    rule = (re.compile(message, re.I), categories, re.compile(module))
    with _block(("ignore", rule)):
        yield


def warn(message: str | Warning, category: type[Warning] | None = None, stacklevel: int = 1,
         *, skip_file_prefixes: tuple[str, ...] = ()) -> None:
    """``warnings.warn`` for the package's own warnings: in a block of this thread it goes to
    the block directly (recorded, or dropped by a matching :func:`ignored`), whatever other
    threads have done meanwhile to the process's filters and display hook (QA148 H3: a
    thread inside ``catch_warnings`` with an "ignore" elsewhere lost a third of a block's
    records); outside any block, to ``warnings.warn``."""
    category = type(message) if isinstance(message, Warning) else category or UserWarning
    for kind, data in reversed(getattr(_blocks, "stack", ())):
        if kind == "record":  # the instance, as catch_warnings records it (QA149 H1: a
            # message re-warned from the record came back a UserWarning)
            found = message if isinstance(message, Warning) else category(message)
            data.append(warnings.WarningMessage(found, category, "", 0))
            return
        if _dropped(data, message, category, ""):
            return
    if _shown_before(message, category, stacklevel + 1, skip_file_prefixes):
        return
    warnings.warn(message, category, stacklevel + 1, skip_file_prefixes=skip_file_prefixes)


def _shown_before(message: str | Warning, category: type[Warning], stacklevel: int,
                  skip_file_prefixes: tuple[str, ...]) -> bool:
    """Whether the process's filters show this warning once (per line or per module)
    and it was shown. Python's own memory of it is reset each time a block starts (the
    filters' version goes up, as ``catch_warnings`` does), so a warning repeated by every
    fit was shown by every fit (QA152 M1: five fits, 15 warnings where 3 were due)."""
    if not _PRIVATE_CHECKED or _CONTEXT_LOCAL:  # blocks are Python's own there (QA153 M2)
        return False
    frame = _attributed_frame(sys._getframe(1), stacklevel, skip_file_prefixes)
    if frame is None:
        return False
    found = warnings.WarningMessage(message, category, frame.f_code.co_filename,
                                    frame.f_lineno)
    action, key = _action_and_key(found, frame.f_globals.get("__name__", "<string>"))
    if key is None:
        return False
    with _lock:
        filters = [entry for entry in warnings.filters if entry is not _ALWAYS]
        if (warnings.filters is not _shown_outside["list"]
                or filters != _shown_outside["filters"]):
            _shown_outside.update(list=warnings.filters, filters=filters, keys=set())
        if key in _shown_outside["keys"]:
            return True
        _shown_outside["keys"].add(key)
    return False


def _attributed_frame(caller: Any, stacklevel: int, skip_file_prefixes: tuple[str, ...]
                      ) -> Any:
    """The frame ``warnings.warn(..., stacklevel, skip_file_prefixes=...)`` called in the
    frame ``caller`` attributes a warning to, found as CPython 3.12-3.13 find it (None: no
    such frame; Python then names ``sys``)."""
    frame = caller
    if skip_file_prefixes:
        stacklevel = max(2, stacklevel)
    if stacklevel <= 1 or _internal(frame.f_code.co_filename):
        for _ in range(stacklevel - 1):
            frame = frame.f_back if frame is not None else None
        return frame
    for _ in range(stacklevel - 1):
        frame = frame.f_back
        while frame is not None and (_internal(frame.f_code.co_filename)
                                     or frame.f_code.co_filename.startswith(
                                         skip_file_prefixes)):
            frame = frame.f_back
        if frame is None:
            return None
    return frame


def _internal(filename: str) -> bool:
    """A frame ``warnings.warn`` passes over, as CPython's ``_is_internal_filename``."""
    return "importlib" in filename and "_bootstrap" in filename


def _dropped(rule: tuple, message: str | Warning, category: type[Warning], module: str) -> bool:
    pattern, categories, mod = rule
    return bool(issubclass(category, categories) and pattern.match(str(message))
                and mod.match(module))


@contextlib.contextmanager
def _block(block: tuple) -> Iterator[None]:
    with _lock:
        if _state["users"] == 0:
            # every warning reaches the hook, which decides; a user's own "always" stays
            # theirs (QA148 M1), and copies of ours that another thread's catch_warnings
            # put back after the last block went (QA149 M1) go
            _remove_always(every=True)
            warnings.filters.insert(0, _ALWAYS)
            warnings._filters_mutated()
            # the hook left by a block another thread's catch_warnings outlived is no
            # original: the one saved before stays (QA148 H2: every later warning lost)
            if warnings.showwarning is not _show:
                _state["hook"] = warnings.showwarning
            warnings.showwarning = _show
        _state["users"] += 1
    stack = _blocks.__dict__.setdefault("stack", [])
    stack.append(block)
    try:
        yield
    finally:
        stack.pop()
        with _lock:
            _state["users"] -= 1
            if _state["users"] == 0:
                _remove_always()
                if warnings.showwarning is _show:  # not replaced since (by a user's block)
                    warnings.showwarning = _state["hook"]
                _shown.clear()


def _remove_always(every: bool = False) -> None:
    """This module's filter out of the process's list (the first, or ``every`` copy)."""
    for i in reversed([i for i, entry in enumerate(warnings.filters) if entry is _ALWAYS]
                      [:None if every else 1]):
        del warnings.filters[i]


def _show(message, category, filename, lineno, file=None, line=None) -> None:
    """The display hook while any thread is in a block (see the module's docstring)."""
    found = warnings.WarningMessage(message, category, filename, lineno, file, line)
    for kind, data in reversed(getattr(_blocks, "stack", ())):
        if kind == "record":
            data.append(found)
            return
        if _dropped(data, message, category, _module_of(filename)):
            return
    action = _process_action(found)
    if action == "error":
        raise message if isinstance(message, Warning) else category(message)
    if action != "ignore":
        _forward(found)


def _process_action(found: warnings.WarningMessage) -> str:
    """What the process's filters (without this module's "always") do with ``found`` in a
    thread in no block; the first showing of a "default", "module" or "once" warning."""
    action, key = _action_and_key(found, _module_of(found.filename))
    if key is not None:
        with _lock:
            if key in _shown:
                return "ignore"
            _shown.add(key)
    return action


def _action_and_key(found: warnings.WarningMessage, module: str) -> tuple[str, Any]:
    """The process's filters' action on ``found`` (raised in ``module``), without this
    module's "always", and the key of what it shows once (None: shown every time)."""
    text = str(found.message)
    for entry in list(warnings.filters):
        if entry is _ALWAYS:  # this module's: not the process's own
            continue
        action, pattern, category, mod, lineno = entry
        if (issubclass(found.category, category) and _matched(pattern, text)
                and _matched(mod, module) and lineno in (0, found.lineno)):
            break
    else:
        action = warnings.defaultaction
    # as CPython's C warnings key them, in the module's registry: "once" and "module" per
    # module, "default" per line (QA155 L5: by module, not file: a notebook's cells are files
    # of one __main__)
    key = {"once": (text, found.category, module),
           "module": (text, found.category, module),
           "default": (text, found.category, module, found.lineno)}.get(action)
    return action, key


def _matched(pattern, text: str) -> bool:
    """A filter's message or module pattern against ``text`` as CPython's C filters match
    it: None matches all, a string (Python's own default filters: ``'__main__'``) only
    itself, a compiled expression from the start (QA148 H1: ``.match`` on the string
    crashed every DeprecationWarning raised in a block it did not match)."""
    if pattern is None:
        return True
    return pattern == text if isinstance(pattern, str) else bool(pattern.match(text))


def _forward(found: warnings.WarningMessage) -> None:
    """Where ``found`` would have gone without this module's hook."""
    hook = _state["hook"]
    if hook is not None and hook is not _show and hook is not warnings._showwarning_orig:
        hook(found.message, found.category, found.filename, found.lineno, found.file,
             found.line)
    else:  # Python's own display, or a catch_warnings(record=True) list
        warnings._showwarnmsg_impl(found)


def _module_of(filename: str) -> str:
    """The dotted module name of a source file, as a filter's ``module`` pattern is matched
    (its path below the longest ``sys.path`` entry holding it)."""
    path = os.path.abspath(filename or "")
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if main and os.path.abspath(main) == path or filename in ("<string>", "<stdin>"):
        return "__main__"  # a script's (QA148 L1: Python's filters name it so)
    roots = [os.path.abspath(p) + os.sep for p in sys.path if p]
    root = max((r for r in roots if path.startswith(r)), key=len, default="")
    stem = path[len(root):].removesuffix(".py").removesuffix(os.sep + "__init__")
    return stem.replace(os.sep, ".")
