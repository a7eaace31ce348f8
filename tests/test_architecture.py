"""The package's shape: no import circles, no oversized modules, the public API exported.

The import graph is read from the source (``ast``), so it sees imports inside functions too
(a lazy import still makes two modules depend on each other) and imports by a string
(``importlib.import_module``, the CLI's ``_Lazy``); imports under ``if TYPE_CHECKING:`` are
annotations only and are left out. A name a package exports lazily (PEP 562: the facade's
``from . import save`` loads ``persistence``) is an edge to the module behind it, so a circle
through the facade is seen. The layers are docs/ARCHITECTURE.md's table, read from the doc: every
module has a row, no import goes to a higher layer except the allowed upward edges below, and
every module's docstring says where it sits.
"""

import ast
import re
import sys
from pathlib import Path

import bayesgmm

PACKAGE = Path(bayesgmm.__file__).parent
DOC = PACKAGE.parent / "docs" / "ARCHITECTURE.md"
MAX_LINES = 500
# The upward imports the layers allow (each also stated in docs/ARCHITECTURE.md), with why.
ALLOWED_UPWARD = {
    # compatibility: bayesgmm.model.compile_nutpie resolves to the back end on first use.
    ("bayesgmm.model", "bayesgmm.backends.nutpie"),
}


def _module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else \
                test.attr if isinstance(test, ast.Attribute) else None
            if name == "TYPE_CHECKING":
                skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


# Calls that import a module named by a string: importlib's, and the command line's lazy proxy
# (``cli._Lazy(".sampling", "fit_bayes")``).
DYNAMIC_IMPORTERS = ("import_module", "_Lazy")


def _string_dicts(tree: ast.Module) -> dict[str, dict[str, str]]:
    """Module-level dict literals of strings (``_LAZY = {"save": "persistence"}``)."""
    found = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.Dict):
            try:
                value = ast.literal_eval(stmt.value)
            except ValueError:
                continue
            if all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
                found[stmt.targets[0].id] = value
    return found


def _dynamic_import(node: ast.AST, dicts: dict[str, dict[str, str]]) -> dict | None:
    """What a call ``import_module(arg, ...)`` or ``_Lazy(arg, ...)`` imports: ``{None: arg}``
    for a literal; ``{key: prefix + D[key] + suffix}`` for ``f"<prefix>{D[name]}<suffix>"`` over
    a module-level dict literal ``D`` (a PEP 562 table: key = the name exported lazily). Empty
    for any other call and for a variable argument (``cli._Lazy.get``: the machinery behind the
    literal calls); None when the argument cannot be read."""
    if not (isinstance(node, ast.Call) and node.args):
        return {}
    func = node.func
    called = func.id if isinstance(func, ast.Name) else \
        func.attr if isinstance(func, ast.Attribute) else None
    arg = node.args[0]
    if called not in DYNAMIC_IMPORTERS or isinstance(arg, ast.Name):
        return {}
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return {None: arg.value}
    if isinstance(arg, ast.JoinedStr):
        slots = [i for i, part in enumerate(arg.values) if isinstance(part, ast.FormattedValue)]
        if len(slots) == 1:
            slot = arg.values[slots[0]].value
            if isinstance(slot, ast.Subscript) and isinstance(slot.value, ast.Name) \
                    and slot.value.id in dicts:
                prefix = "".join(p.value for p in arg.values[:slots[0]])
                suffix = "".join(p.value for p in arg.values[slots[0] + 1:])
                return {key: prefix + value + suffix
                        for key, value in dicts[slot.value.id].items()}
    return None


def _absolute(name: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name of a relative import (``level`` dots, then ``module``) in ``name``."""
    base = name.split(".") if is_package else name.split(".")[:-1]
    base = base[:len(base) - level + 1]
    return ".".join(base + ([module] if module else []))


def _direct_imports(name: str, path: Path, annotations: bool):
    """A module's imports as read: ``(from_imports, targets, lazy_exports)``.

    ``from_imports``: (module, imported name) pairs; ``targets``: modules imported by name
    (``import x``, ``import_module``, ``_Lazy``); ``lazy_exports``: the module's PEP 562 exports
    (name -> the module its ``__getattr__`` loads it from).
    """
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    skip = set() if annotations else _type_checking_nodes(tree)
    dicts = _string_dicts(tree)
    from_imports, targets, lazy_exports = [], set(), {}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(name, is_package, node.level, node.module) if node.level \
                else node.module or ""
            from_imports.extend((module, alias.name) for alias in node.names)
        else:
            dynamic = _dynamic_import(node, dicts)
            if dynamic is None:
                raise ValueError(f"{name}: cannot read the dynamic import {ast.unparse(node)}")
            for key, text in dynamic.items():
                level = len(text) - len(text.lstrip("."))
                target = _absolute(name, is_package, level, text[level:] or None) if level \
                    else text
                targets.add(target)
                if key is not None:
                    lazy_exports[key] = target
    return from_imports, targets, lazy_exports


def import_graph(annotations: bool = False, package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package modules it imports (anywhere in its body, or by a string).

    Lazy exports are resolved: ``from . import save``, where the facade's ``__getattr__`` loads
    ``save`` from ``persistence``, is an edge to ``persistence``. The top package (the facade)
    is a node: its edges are its own imports, lazy ones included, and a module that imports a
    name the facade defines itself depends on it. ``annotations=True`` also counts imports
    under ``if TYPE_CHECKING:``.
    """
    modules = {_module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    top = package.name
    read = {name: _direct_imports(name, path, annotations) for name, path in modules.items()}
    graph: dict[str, set[str]] = {}
    for name, (from_imports, targets, _) in read.items():
        targets = set(targets)
        for module, imported in from_imports:
            sub = f"{module}.{imported}"
            lazy = read[module][2] if module in read else {}
            if sub in modules:  # "from . import kernels" imports a module
                targets.add(sub)
            elif imported in lazy:  # a PEP 562 export: the module behind it
                targets.add(lazy[imported])
                if module != top:  # importing bayesgmm.x runs the facade first anyway
                    targets.add(module)
            else:
                targets.add(module)
        # A name that is not a module file (``bayesgmm.x.y`` attribute access) maps to the
        # longest module prefix.
        resolved = set()
        for target in targets:
            if target.split(".")[0] != top:
                continue
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            resolved.add(target)
        graph[name] = resolved - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_reader_sees_lazy_and_relative_imports():
    """The checker itself: a made-up circle through a function-level import is found."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [{"a", "b", "c"}]
    real = import_graph()
    assert "bayesgmm.em" in real["bayesgmm.persistence"]  # module level
    assert "bayesgmm.sampling" in real["bayesgmm.selection.loo"]  # inside a function
    assert "bayesgmm.kernels" in real["bayesgmm.em"]  # "from . import kernels"
    assert "bayesgmm.backends.nutpie" in real["bayesgmm.model"]  # import_module over a dict
    assert "bayesgmm.sampling" in real["bayesgmm.cli"]  # _Lazy(".sampling", "fit_bayes")
    assert "bayesgmm.persistence" in real["bayesgmm"]  # the facade's lazy exports


def test_the_graph_reader_sees_a_circle_through_the_facade(tmp_path):
    """``from . import save`` in a function, where the facade loads ``save`` lazily from a
    module that imports the caller, is a circle (the one the result types' save() once hid)."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from importlib import import_module\n"
        "_LAZY = {'save': 'b'}\n\n\n"
        "def __getattr__(name):\n"
        "    return getattr(import_module(f'.{_LAZY[name]}', __name__), name)\n")
    (package / "a.py").write_text("def save_it(x):\n    from . import save\n\n"
                                  "    return save(x)\n")
    (package / "b.py").write_text("from .a import save_it\n")
    graph = import_graph(package=package)
    assert graph == {"pkg": {"pkg.b"}, "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}}
    assert circles(graph) == [{"pkg.a", "pkg.b"}]


def test_no_import_circles():
    """None at all, the allowed upward edges included (the result types' save() once closed
    one through persistence; they now write through result_files, below them)."""
    found = circles(import_graph())
    assert not found, f"import circles in {PACKAGE.name}: {found}"


def test_no_import_circles_even_in_annotations():
    found = circles(import_graph(annotations=True))
    assert not found, f"import circles (annotations included) in {PACKAGE.name}: {found}"


def layer_table() -> dict[str, tuple[int, str, set[str] | None]]:
    """docs/ARCHITECTURE.md's layer table: module -> (layer number, layer name, what it may
    import: a set of modules, or None for "any lower layer")."""
    text = DOC.read_text()
    start = text.index("## Modules and what each may import")
    section = text[start:text.index("\n## ", start + 1)]
    table: dict[str, tuple[int, str, set[str] | None]] = {}
    number, layer = -1, ""
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith("| layer |"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 4, f"a row of the layer table with {len(cells)} cells: {line}"
        if cells[0]:
            number, layer = int(cells[0].split()[0]), cells[0].split(maxsplit=1)[1]
        path = re.match(r"`([\w/]+\.py)`", cells[1])
        assert path, f"a row of the layer table names no module: {line}"
        module = _module_name(PACKAGE / path.group(1))
        names = re.findall(r"`([\w.]+)`", cells[3])
        may = {f"{PACKAGE.name}.{n}" for n in names} if names or cells[3] == "nothing" else None
        table[module] = (number, layer, may)
    return table


def test_every_module_is_in_the_layer_table():
    table, modules = set(layer_table()), set(import_graph())
    assert not modules - table, f"modules missing from docs/ARCHITECTURE.md: {modules - table}"
    assert not table - modules, f"no such modules (docs/ARCHITECTURE.md): {table - modules}"


def test_no_import_goes_to_a_higher_layer():
    """Module-level, lazy, string and annotation imports, but for the allowed upward edges."""
    table = layer_table()
    graph = import_graph(annotations=True)
    upward = sorted(f"{a} (layer {table[a][0]}) -> {b} (layer {table[b][0]})"
                    for a, targets in graph.items() for b in targets
                    if table[b][0] > table[a][0] and (a, b) not in ALLOWED_UPWARD)
    assert not upward, f"imports to a higher layer (docs/ARCHITECTURE.md): {upward}"
    stale = {edge for edge in ALLOWED_UPWARD if edge[1] not in graph[edge[0]]}
    assert not stale, f"allowed upward edges the code no longer has: {stale}"
    doc = DOC.read_text()
    for a, b in ALLOWED_UPWARD:
        short = [name.removeprefix(f"{PACKAGE.name}.") for name in (a, b)]
        assert f"`{short[0]}` -> `{short[1]}`" in doc, f"{a} -> {b} not in docs/ARCHITECTURE.md"


def test_the_layer_table_lists_what_each_module_imports():
    """The table's "may import" column is true of the code (where it lists modules)."""
    table = layer_table()
    wrong = {module: sorted(targets - table[module][2])
             for module, targets in import_graph().items()
             if table[module][2] is not None and targets - table[module][2]}
    assert not wrong, f"imports the table does not allow (docs/ARCHITECTURE.md): {wrong}"


def test_the_layer_table_lists_no_import_the_code_does_not_make():
    """The other direction (QA146 M3: the table said "every module it imports", and three
    entries named imports the code no longer made): each listed module is imported, at
    module level, lazily or for annotations."""
    table = layer_table()
    graph = import_graph(annotations=True)
    stale = {module: sorted(listed - graph[module]) for module, (_, _, listed) in table.items()
             if listed is not None and listed - graph[module]}
    assert not stale, f"listed imports the code does not make (docs/ARCHITECTURE.md): {stale}"


def test_every_module_docstring_says_where_it_sits():
    """A "Where it sits: the <name> layer ..." or "Layer: <name> ..." paragraph, naming the
    module's layer in the table."""
    table = layer_table()
    wrong = []
    for name, path in _modules().items():
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        paragraph = next((" ".join(p.split()) for p in doc.split("\n\n")
                          if "Where it sits" in p or "Layer:" in p), "")
        said = re.search(r"Layer: ([\w-]+)", paragraph) if "Layer:" in paragraph else \
            re.search(r"Where it sits.*?\b([\w-]+) layer\b", paragraph)
        if not said or said.group(1).lower() != table[name][1]:
            wrong.append(f"{name} (the {table[name][1]} layer): "
                         f"{paragraph[:80] or 'no Where it sits'}")
    assert not wrong, f"module docstrings that do not say where the module sits: {wrong}"


def _too_long(names) -> list[str]:
    """Modules over MAX_LINES whose docstring does not say why ("over 500 lines ...")."""
    too_long = []
    for name, path in _modules().items():
        lines = path.read_text().count("\n")
        if name not in names or lines <= MAX_LINES:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if f"over {MAX_LINES} lines" not in " ".join(doc.splitlines()).lower():
            too_long.append(f"{name} ({lines} lines)")
    return too_long


def test_no_module_over_500_lines_without_a_reason():
    too_long = _too_long(set(_modules()))
    assert not too_long, f"modules over {MAX_LINES} lines without a reason: {too_long}"


# Other packages' internals, each used by one module only, behind its version check.
INTERNALS = {
    "pytensor.link": "bayesgmm.pytensor_numba",
    "nutpie.compile_pymc": "bayesgmm.backends.nutpie_model",
    "nutpie.compiled_pyfunc": "bayesgmm.backends.nutpie_model",
    "arviz_plots.backend": "bayesgmm.plots.diagnostics",
    "numba.core": "bayesgmm._numba_cache",  # caching's classes, the config (QA119 M3)
    "numba.np.ufunc": "bayesgmm._numba_cache",  # whether the threads started
}


def test_other_packages_internals_are_imported_by_one_module_each():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path, PACKAGE)
        for node in ast.walk(ast.parse(path.read_text())):
            imported = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                        [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            wrong += [f"{name} imports {module}" for module in imported
                      for internal, owner in INTERNALS.items()
                      if (module == internal or module.startswith(internal + "."))
                      and name != owner]
    assert not wrong, f"internals outside the module that checks their version: {wrong}"


def test_public_names_are_exported_and_importable():
    for name in bayesgmm.__all__:
        assert getattr(bayesgmm, name) is not None, name
    for name in ("DegenerateComponentWarning", "NotFittedError", "SamplerSettings",
                 "DiagnosticThresholds", "save"):
        assert name in bayesgmm.__all__, name


def test_reading_specs_and_selection_by_em_do_not_load_the_sampler():
    """io (specs) and selection (EM sweep workers) stay light: no PyMC, ArviZ or matplotlib."""
    import subprocess

    code = ("import sys, bayesgmm.io, bayesgmm.selection, bayesgmm.settings; "
            "print(sorted(m for m in ('pymc', 'arviz', 'matplotlib', 'bayesgmm.sampling') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_an_em_fit_saves_and_loads_without_arviz(tmp_path):
    """QA143 L7: ``bayesgmm.load`` of an 11 KB EM fit took 10.9 s on a busy machine, in
    importing ArviZ and matplotlib for the posterior's type."""
    import subprocess

    code = ("import sys, bayesgmm; X = bayesgmm.load_old_faithful(); "
            f"bayesgmm.fit_em(X, 2, random_state=0).save({str(tmp_path / 'em')!r}); "
            f"bayesgmm.load({str(tmp_path / 'em')!r}); "
            "print(sorted(m for m in ('pymc', 'arviz', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_public_submodules_are_attributes_after_a_plain_import():
    """QA: after ``import bayesgmm``, ``bayesgmm.outliers.noise_evidence`` (the README's own
    call) raised AttributeError, and ``bayesgmm.selection`` appeared only after ``select_em``
    ran. Each public submodule now loads on first access, and the bare import still loads no
    PyMC, ArviZ or matplotlib."""
    import subprocess

    code = (
        "import sys, bayesgmm\n"
        "heavy = ('pymc', 'arviz', 'matplotlib', 'pytensor')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "assert {'plots', 'outliers', 'report', 'selection'} <= set(dir(bayesgmm))\n"
        "bayesgmm.outliers.noise_evidence, bayesgmm.observations.encode_labels\n"
        "bayesgmm.observation_record.name_labels, bayesgmm.paths, bayesgmm.io\n"
        "bayesgmm.selection.plot_criteria, bayesgmm.selection.select_em\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "bayesgmm.plots.animate_em, bayesgmm.report.write_report, bayesgmm.report.write_em_report\n"
        "assert 'bayesgmm.plots' in sys.modules\n"
        "try:\n"
        "    bayesgmm.no_such_module\n"
        "except AttributeError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[:2] == ["[]", "[]"]  # the EM-side modules load no sampler, no plots
    assert lines[2] == "module 'bayesgmm' has no attribute 'no_such_module'"
    assert "plots" not in bayesgmm.__all__  # `from bayesgmm import *` stays light


def test_type_checkers_see_every_lazily_exported_name():
    """Packager QA: type checkers saw the facade's lazily loaded names as Any; an
    ``if TYPE_CHECKING:`` import of each (the same module as ``_LAZY`` says) and a py.typed
    marker give them the real signatures."""
    import bayesgmm

    path = Path(bayesgmm.__file__)
    tree = ast.parse(path.read_text())
    typed = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for stmt in node.body:
                typed.update({alias.name: stmt.module for alias in stmt.names})
    assert typed == bayesgmm._LAZY
    assert (path.parent / "py.typed").is_file()


def test_settings_document_their_fields_in_the_order_they_take_them():
    """QA74: SamplerSettings documented ``metric`` before ``max_draws`` and ``max_time``; its
    fields are positional, so following the documented order misassigned them. Every public
    dataclass a user constructs (a ``Parameters`` section) documents its fields in field
    order."""
    import dataclasses
    import re

    import bayesgmm

    checked = 0
    for name in bayesgmm.__all__:
        cls = getattr(bayesgmm, name)
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)
                and "Parameters\n" in (cls.__doc__ or "")):
            continue
        fields = [f.name for f in dataclasses.fields(cls) if f.init]
        documented = [n for line in re.findall(r"^    (\w+(?:, \w+)*) : ", cls.__doc__, re.M)
                      for n in line.split(", ") if n in fields]
        assert documented == [f for f in fields if f in documented], name
        checked += 1
    assert checked >= 4  # SamplerSettings, DiagnosticThresholds, Priors, ConjugatePrior, ...


def test_the_covariance_vocabulary_answers_whether_a_type_has_correlations():
    """QA119 M1: ``covariance_type in ("full", "tied")`` stood at 34 places; the vocabulary
    answers it (:func:`bayesgmm.covariance.has_correlations`), and no other module asks it
    by listing the types."""
    pairs = ({"full", "tied"}, {"diag", "spherical"})
    asked = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "covariance.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(
                    isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
                for listed in node.comparators:
                    if isinstance(listed, (ast.Tuple, ast.Set, ast.List)) and {
                            getattr(e, "value", None) for e in listed.elts} in pairs:
                        asked.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not asked, f"ask covariance.has_correlations instead: {asked}"


def test_warnings_are_caught_only_through_the_thread_safe_blocks():
    """QA145 H1: ``warnings.catch_warnings`` and the filter functions change the whole
    process; in fits run in threads they restored each other's state out of order and
    silenced every later warning. The package catches warnings through
    ``_warn.recorded`` / ``_warn.ignored`` alone, and warns through ``_warn.warn``, which
    gives a block of its thread the package's own warnings directly (QA148 H3)."""
    used = re.compile(r"warnings\.(catch_warnings|simplefilter|filterwarnings|resetwarnings|"
                      r"warn)\(")
    found = [f"{path.relative_to(PACKAGE)}:{n}" for path in sorted(PACKAGE.rglob("*.py"))
             if path.name != "_warn.py"
             for n, line in enumerate(path.read_text().splitlines(), 1) if used.search(line)]
    assert not found, f"use bayesgmm._warn.recorded / ignored / warn: {found}"
