"""No import cycle in ``sim``: every module imports on its own, first, in a fresh interpreter.

* Static: the graph of ``sim`` imports (module level and inside functions, not those only for
  type checkers; importing ``a.b.c`` also imports the packages ``a.b`` and ``a``) has no cycle.
* Dynamic: each module is imported first in a fresh process. The third-party libraries are
  loaded once in a parent process that then forks one child per module, so the check costs a
  few seconds rather than one interpreter start per module.
"""

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = sorted(module_name(p) for p in SIM.rglob("*.py"))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, package: str) -> set[str]:
    found: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for other in node.orelse:
                found |= _imports(other, package)
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
        found |= _imports(node, package)
    return found


def import_graph() -> dict[str, set[str]]:
    known = set(MODULES)
    graph = {}
    for path in SIM.rglob("*.py"):
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for target in _imports(ast.parse(path.read_text(encoding="utf-8")), package):
            while target:  # the module and the packages it is in (not the importer's own)
                if target in known and not (name == target or name.startswith(target + ".")):
                    targets.add(target)
                target = target.rpartition(".")[0]
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_static_import_graph_of_sim_has_no_cycle():
    graph = import_graph()
    assert len(graph) > 40 and "sim.processes.calendar" in graph["sim.processes"]  # sanity
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


CHILD = textwrap.dedent(
    """
    import importlib, os, sys
    for lib in ("numpy", "scipy.special", "scipy.stats", "pandas", "mesa", "hydra", "omegaconf",
                "yaml", "matplotlib", "matplotlib.pyplot", "solara", "filelock", "joblib"):
        try:
            importlib.import_module(lib)
        except ImportError:
            pass
    assert not [m for m in sys.modules if m == "sim" or m.startswith("sim.")]
    failed = []
    for name in sys.argv[1:]:
        pid = os.fork()
        if pid == 0:
            try:
                importlib.import_module(name)
            except BaseException as exc:
                print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        if status:
            failed.append(name)
    print("FAILED " + " ".join(failed) if failed else "OK")
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_every_module_of_sim_imports_first_in_a_fresh_process():
    env = {**os.environ, "MPLBACKEND": "Agg", "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *MODULES],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "OK", proc.stderr[-4000:]
