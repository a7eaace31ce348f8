"""The package's shape: no import circles, no oversized modules, the public API exported.

The import graph is read from the source (``ast``), so it sees imports inside functions too
(a lazy import still makes two modules depend on each other); imports under
``if TYPE_CHECKING:`` are annotations only and are left out. The package's own ``__init__``
(the public facade, which re-exports every layer) is not a node: a module that calls the public
API at run time (``bayesgmm.save``) depends on the facade, not on the module behind it.
"""

import ast
import sys
from pathlib import Path

import bayesgmm

PACKAGE = Path(bayesgmm.__file__).parent
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
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


def import_graph(annotations: bool = False) -> dict[str, set[str]]:
    """Module -> the package modules it imports (anywhere in its body), facade excluded.

    ``annotations=True`` also counts imports under ``if TYPE_CHECKING:``.
    """
    modules = _modules()
    top = PACKAGE.name
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), filename=str(path))
        skip = set() if annotations else _type_checking_nodes(tree)
        targets = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.split(".")[0] == top)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[:len(base) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                if module.split(".")[0] != top:
                    continue
                for alias in node.names:  # "from . import kernels" imports a module
                    sub = f"{module}.{alias.name}"
                    targets.add(sub if sub in modules else module)
        # A name that is not a module file (``bayesgmm.x.y`` attribute access) maps to the
        # longest module prefix.
        resolved = set()
        for target in targets:
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            resolved.add(target)
        graph[name] = {t for t in resolved if t != name and t != top}
    graph.pop(top, None)
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


def test_no_import_circles():
    found = circles(import_graph())
    assert not found, f"import circles in {PACKAGE.name}: {found}"


def test_no_import_circles_even_in_annotations():
    found = circles(import_graph(annotations=True))
    assert not found, f"import circles (annotations included) in {PACKAGE.name}: {found}"


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
