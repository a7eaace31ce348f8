"""Every public callable's docstring has numpydoc sections that match its signature (QA146 M2).

The public callables are the functions in ``bayesgmm.__all__`` and the public methods of the
exported classes, inherited ones included when a bayesgmm class defines them (not scikit-learn's
or Python's, and not properties). For each: every parameter (besides self/cls) is named in a
``Parameters`` section, the section names no parameter the signature lacks, a stated
``default X`` is the signature's default, and a callable that returns something other than None
(its return annotation; without one, a ``return <value>`` in its source) has a ``Returns`` or
``Yields`` section. The sections are read with a small parser of numpydoc's headers
(``Name`` over a line of dashes), so numpydoc is not needed.
"""

import ast
import inspect
import re
import textwrap

import pytest

import bayesgmm


def _sections(doc: str) -> dict[str, list[str]]:
    """A docstring's numpydoc sections: header -> its lines (cleaned), the summary under ""."""
    lines = inspect.cleandoc(doc).splitlines()
    sections: dict[str, list[str]] = {"": []}
    current = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if (i + 1 < len(lines) and line.strip() and not line.startswith(" ")
                and re.fullmatch(r"-{3,}", lines[i + 1].strip())
                and len(lines[i + 1].strip()) == len(line.strip())):
            current = line.strip()
            sections[current] = []
            i += 2
            continue
        sections[current].append(line)
        i += 1
    return sections


def _entries(lines: list[str]) -> list[tuple[list[str], str]]:
    """The entries of a Parameters section: (names, type text) of each unindented line
    (``a, b : int, default 1, 2``)."""
    entries = []
    for line in lines:
        if not line.strip() or line.startswith(" "):
            continue
        names, _, kind = line.partition(" : ")
        entries.append(([n.strip() for n in names.split(",") if n.strip()], kind.strip()))
    return entries


def _public_callables():
    """(qualified name, function) of every public function and method to check."""
    for name in bayesgmm.__all__:
        obj = getattr(bayesgmm, name)
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj) and not issubclass(obj, BaseException):
            for attr in sorted(dir(obj)):
                if attr.startswith("_"):
                    continue
                owner = next(c for c in obj.__mro__ if attr in vars(c))
                if not owner.__module__.startswith("bayesgmm"):
                    continue  # scikit-learn's or Python's
                raw = vars(owner)[attr]
                if isinstance(raw, (classmethod, staticmethod)):
                    raw = raw.__func__
                if inspect.isfunction(raw):
                    yield f"{name}.{attr}", raw


CALLABLES = dict(_public_callables())


def _returns_something(func) -> bool:
    annotation = inspect.signature(func).return_annotation
    if annotation is not inspect.Signature.empty:
        return annotation not in (None, "None")
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    body = tree.body[0]
    nodes = [n for stmt in body.body for n in ast.walk(stmt)]
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) or (
        isinstance(n, ast.Return) and n.value is not None
        and not (isinstance(n.value, ast.Constant) and n.value.value is None)) for n in nodes)


def _same_default(text: str, default) -> bool:
    """Whether the docstring's ``default <text>`` states the signature's ``default``."""
    text = text.strip().strip("`")
    span = re.fullmatch(r"(\d+)\.\.(\d+)", text)  # "1..8": range(1, 9)
    if span:
        return default == range(int(span[1]), int(span[2]) + 1)
    try:
        return ast.literal_eval(text) == default and type(default) is not bool \
            or ast.literal_eval(text) is default
    except (ValueError, SyntaxError):
        return text in (str(default), repr(default))


def _problems(func) -> list[str]:
    sections = _sections(inspect.getdoc(func) or "")
    parameters = list(inspect.signature(func).parameters.values())
    if parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    documented: dict[str, str] = {}
    for names, kind in _entries(sections.get("Parameters", []) + sections.get(
            "Other Parameters", [])):
        match = re.search(r"\bdefault:?\s+(.+)$", kind)
        defaults = [match.group(1).strip()] * len(names) if match else []
        if match and len(names) > 1 and match.group(1).count(",") == len(names) - 1:
            defaults = [d.strip() for d in match.group(1).split(",")]  # "tune, chains : int,
            # default 1000, 4"; one default for them all otherwise
        for i, name in enumerate(names):
            documented[name.lstrip("*")] = defaults[i] if defaults else None
    wanted = {p.name: p for p in parameters}
    problems = [f"parameter {n!r} not in a Parameters section" for n in wanted
                if n not in documented]
    problems += [f"documents {n!r}, which the signature lacks" for n in documented
                 if n not in wanted]
    for name, text in documented.items():
        if text is None or name not in wanted:
            continue
        default = wanted[name].default
        if default is inspect.Parameter.empty:
            problems.append(f"{name!r}: 'default {text}' but the parameter has no default")
        elif not _same_default(text, default):
            problems.append(f"{name!r}: 'default {text}', the signature's is {default!r}")
    if _returns_something(func) and not (sections.get("Returns") or sections.get("Yields")):
        problems.append("returns a value but has no Returns (or Yields) section")
    return problems


def test_the_walk_finds_the_public_api():
    assert {"fit_bayes", "BayesResult.memberships", "BayesResult.summary", "EMResult.predict",
            "BayesianGMM.predict_proba", "BayesianGMM.get_params"} <= set(CALLABLES)
    assert not any(name.endswith((".n_components", ".n_features")) for name in CALLABLES)
    assert len(CALLABLES) > 100


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_the_docstring_sections_match_the_signature(name):
    assert not _problems(CALLABLES[name]), (name, _problems(CALLABLES[name]))


def test_the_parser_reads_numpydoc_sections():
    def f(a, b=2, *args, c="x", **kwargs) -> int:
        """Summary.

        Parameters
        ----------
        a : int
        b, c : int, default 3, "x"
        *args
        **kwargs
            Passed on.
        d : float

        Returns
        -------
        int
        """

    def g(a, b=None):
        """Summary.

        Parameters
        ----------
        b : bool, default False
        """
        return a

    assert _problems(f) == ["documents 'd', which the signature lacks",
                            "'b': 'default 3', the signature's is 2"]
    assert _problems(g) == ["parameter 'a' not in a Parameters section",
                            "'b': 'default False', the signature's is None",
                            "returns a value but has no Returns (or Yields) section"]


def test_shared_text_fills_a_placeholder_line_at_its_indent_and_a_typo_is_refused():
    from bayesgmm._docstrings import shared_docs

    texts = {"x": """\
        x : int
            Counted {from 0}."""}

    @shared_docs(texts)
    def f(x):
        """Summary {x} stays.

        Parameters
        ----------
        {x}
        """

    assert f.__doc__.splitlines()[4:6] == ["        x : int", "            Counted {from 0}."]
    assert f.__doc__.startswith("Summary {x} stays.")  # only a line of its own is a placeholder
    assert _problems(f) == []
    with pytest.raises(ValueError, match=r"g's docstring has \{y\}, which no shared text names"):
        @shared_docs(texts)
        def g():
            """Summary.

            {y}
            """


def test_no_public_docstring_keeps_a_placeholder():
    """A shared text that no decorator filled in would reach help() as ``{name}``."""
    from bayesgmm import plots

    everything = {**CALLABLES, **{f"plots.{name}": getattr(plots, name) for name in plots.__all__}}
    assert {"EMResult.predict", "BayesResult.score_samples", "plots.plot_classification"} <= \
        set(everything)
    left = [name for name, obj in everything.items()
            if re.search(r"^\s*\{[A-Za-z_]\w*\}\s*$", inspect.getdoc(obj) or "", re.M)]
    assert not left
