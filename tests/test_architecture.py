"""The import rules of README's "Development" section, checked over the source with `ast`.

Every import counts, those under ``if TYPE_CHECKING:`` and inside functions too: a layer that
needs another only for a type still depends on it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "watchmgr"

#: The pure core: the rule and plan model and the steps between them. None of it may reach the
#: edges (command line, rendering, the network, the sandbox) or the flows that drive it.
CORE = (
    "watchmgr.errors",
    "watchmgr.merge",
    "watchmgr.yamlbound",
    "watchmgr.settings",
    "watchmgr.selection",
    "watchmgr.rules",
    "watchmgr.query",
    "watchmgr.watch",
    "watchmgr.rewrites",
    "watchmgr.normalize",
    "watchmgr.plan",
    "watchmgr.fingerprint",
)
#: Lucene's own algorithms, shared by the product and the sandbox: the one place where both
#: need the same answer (how Lucene reads a regex), so it may import nothing of watchmgr.
LEAF = "watchmgr.lucene"
EDGES = ("watchmgr.cli", "watchmgr.output", "watchmgr.workflow", "watchmgr.sandbox")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text("utf-8")) for p in PACKAGE.rglob("*.py")}


MODULES = _modules()


def _imports(module: str) -> Iterator[str]:
    """Every module `module` imports, absolute, with ``from X import y`` giving X and X.y."""
    package = module if module in _packages() else module.rpartition(".")[0]
    for node in ast.walk(MODULES[module]):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _packages() -> set[str]:
    return {_module_name(p) for p in PACKAGE.rglob("__init__.py")}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _importers(target: tuple[str, ...]) -> set[str]:
    """The modules that import anything of `target`."""
    return {m for m in MODULES if any(_within(i, target) for i in _imports(m))}


def test_the_walk_sees_the_imports_it_checks() -> None:
    assert "watchmgr.cluster" in MODULES and "watchmgr.cli.plan" in MODULES
    assert "elasticsearch" in set(_imports("watchmgr.cluster"))
    assert "watchmgr.workflow" in set(_imports("watchmgr.cli.plan"))


def test_only_the_cluster_adapter_imports_elasticsearch() -> None:
    assert _importers(("elasticsearch", "elastic_transport")) == {"watchmgr.cluster"}


def test_only_the_github_adapter_talks_to_github() -> None:
    assert _importers(("urllib3", "requests", "http.client")) == {"watchmgr.github"}


def test_only_the_cli_edge_imports_the_sandbox() -> None:
    outside = _importers(("watchmgr.sandbox",)) - {m for m in MODULES if _within(m, EDGES[3:])}
    assert outside == {"watchmgr.cli", "watchmgr.cli.local"}


def test_the_sandbox_imports_no_product_code_but_the_lucene_leaf() -> None:
    sandbox = [m for m in MODULES if _within(m, ("watchmgr.sandbox",))]
    product = tuple(
        m for m in MODULES if m != "watchmgr" and not _within(m, ("watchmgr.sandbox", LEAF))
    )
    found = {m: i for m in sandbox for i in _imports(m) if _within(i, product)}
    assert found == {}


def test_the_lucene_leaf_imports_nothing_of_watchmgr() -> None:
    leaf = [m for m in MODULES if _within(m, (LEAF,))]
    assert "watchmgr.lucene.regexp" in leaf
    found = [
        (m, i)
        for m in leaf
        for i in _imports(m)
        if _within(i, ("watchmgr",)) and not _within(i, (LEAF,))
    ]
    assert found == []


def test_the_product_and_the_sandbox_read_regexes_through_the_leaf() -> None:
    assert "watchmgr.lucene.regexp" in set(_imports("watchmgr.query.lucene"))
    assert "watchmgr.lucene.regexp" in set(_imports("watchmgr.sandbox.automaton"))


@pytest.mark.parametrize("module", CORE)
def test_the_core_reaches_no_edge(module: str) -> None:
    edges = (*EDGES, "watchmgr.cluster", "watchmgr.apply", "watchmgr.config")
    assert [i for i in _imports(module) if _within(i, edges)] == []


def test_the_workflow_neither_prints_nor_knows_the_cli_or_the_sandbox() -> None:
    # The workflow is a package of flows, which may import one another and nothing of the edges.
    flows = [m for m in MODULES if _within(m, ("watchmgr.workflow",))]
    assert len(flows) > 1
    others = tuple(e for e in EDGES if e != "watchmgr.workflow")
    assert {m: i for m in flows for i in _imports(m) if _within(i, others)} == {}


def test_only_the_cli_uses_the_workflow_and_nothing_uses_the_cli() -> None:
    users = _importers(("watchmgr.workflow",))
    assert {m for m in users if not _within(m, ("watchmgr.cli", "watchmgr.workflow"))} == set()
    assert {m for m in _importers(("watchmgr.cli",)) if not _within(m, EDGES[:1])} == set()


def test_output_renders_without_reaching_back() -> None:
    output = [m for m in MODULES if _within(m, ("watchmgr.output",))]
    back = (*EDGES[:1], *EDGES[2:], "watchmgr.cluster", "watchmgr.config")
    assert {m: i for m in output for i in _imports(m) if _within(i, back)} == {}


def _prints(module: str) -> list[str]:
    """Where `module` writes to the terminal: print(), typer.echo, sys.stdout / sys.stderr."""
    found = []
    for node in ast.walk(MODULES[module]):
        called = node.func if isinstance(node, ast.Call) else None
        if isinstance(called, ast.Name) and called.id == "print":
            found.append(f"{module}:{node.lineno}: print()")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in (("sys", "stdout"), ("sys", "stderr")):
                found.append(f"{module}:{node.lineno}: sys.{node.attr}")
            if (node.value.id, node.attr) == ("typer", "echo"):
                found.append(f"{module}:{node.lineno}: typer.echo")
    return found


def test_only_the_cli_and_output_print() -> None:
    # The sandbox is a program of its own beside the flow (`watchmgr sandbox` logs requests).
    allowed = ("watchmgr.cli", "watchmgr.output", "watchmgr.sandbox")
    found = [line for m in MODULES if not _within(m, allowed) for line in _prints(m)]
    assert found == []


def test_errors_and_warnings_leave_through_the_one_sink() -> None:
    # Only output.messages writes to stderr; the rest of output and the CLI write data.
    writers = {
        line.split(":")[0]
        for m in MODULES
        if not _within(m, ("watchmgr.sandbox",))
        for line in _prints(m)
        if line.endswith("sys.stderr")
    }
    assert writers <= {"watchmgr.output.messages", "watchmgr.output.plan", "watchmgr.cli.plan"}


def test_the_cli_app_loads_no_heavy_library_and_no_flow() -> None:
    import subprocess
    import sys

    heavy = ("sigma", "elasticsearch", "deepdiff", "yaml", "rich", "watchmgr.workflow")
    code = f"import sys, watchmgr.cli\nprint([m for m in {heavy!r} if m in sys.modules])"
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "[]", ran.stdout
