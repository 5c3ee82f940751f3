"""The import graph of ganlab/ has no cycles: no module imports a module that imports it back, at module top or
inside a function (issue 22)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "ganlab"


def modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = p.relative_to(ROOT.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    graph = {m: set() for m in mods}
    for name, path in mods.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package[:len(package) - node.level + 1] if node.level else []
                full = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module
                subs = [f"{full}.{a.name}" for a in node.names if f"{full}.{a.name}" in mods]
                targets = subs if subs and len(subs) == len(node.names) else [full, *subs]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            # importing a.b.c runs the packages a.b's __init__ first (unless the importer is inside a.b already)
            parents = {".".join(t.split(".")[:k]) for t in targets for k in range(2, len(t.split(".")))}
            targets = [*targets, *(p for p in parents if not name.startswith(p + "."))]
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_detector_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_ganlab_has_no_import_cycles():
    graph = import_graph()
    assert "ganlab.runs" in graph["ganlab.sampling"]  # the graph is really read
    assert cycles(graph) == []


def test_checkpoint_keys_are_spelled_only_in_the_schema():
    """The checkpoint schema lives in ganlab/checkpoint.py: no other module of ganlab/ spells its keys (a reader goes
    through Checkpoint's names and accessors, so a renamed key cannot be missed somewhere)."""
    from ganlab.checkpoint import Checkpoint

    keys = {Checkpoint.G_EMA, Checkpoint.OPT_G, Checkpoint.OPT_D, Checkpoint.GEN_STATE, Checkpoint.TORCH_RNG}
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "checkpoint.py" and path.parent == ROOT:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in keys:
                found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {node.value!r}")
    assert found == []


def test_ganlab_modules_import_each_other_at_module_top():
    """Inside ganlab/ a module imports another at its top, so its dependencies are visible in one place; the
    exceptions are cli.py (``ganlab --help`` stays fast) and modules that load an optional heavy library at their top
    (sweeps/search.py: Ray Tune's Optuna searcher)."""
    lazy = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "cli.py":
            continue
        for fn in ast.walk(ast.parse(path.read_text())):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lazy += [f"{path.relative_to(ROOT.parent)}:{n.lineno} from {'.' * n.level}{n.module or ''}"
                         for n in ast.walk(fn) if isinstance(n, ast.ImportFrom) and n.level and n.module != "search"]
    assert lazy == []
