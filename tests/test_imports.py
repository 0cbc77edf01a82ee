"""The package's import graph, imports inside functions included: no cycle, and experiments never reach up into the
jobs that run them."""

from pathlib import Path

from dlps.tools import dag

ROOT = Path(__file__).resolve().parents[1]


def graph() -> dict[str, set[str]]:
    """Each dlps module file (repo-relative) and the dlps module files it imports anywhere in it."""
    out = {}
    for path in sorted((ROOT / "dlps").rglob("*.py")):
        targets = {dag.module_file(m) for m in dag.imports(path)}
        out[path.relative_to(ROOT).as_posix()] = {t.relative_to(ROOT).as_posix() for t in targets if t} - {
            path.relative_to(ROOT).as_posix()}
    return out


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
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

    for v in g:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle():
    assert cycles(graph()) == []


def test_no_experiment_imports_the_jobs_that_run_it():
    up = {m: sorted(t for t in ts if t.startswith("dlps/jobs/")) for m, ts in graph().items()
          if m.startswith("dlps/experiments/")}
    assert {m: ts for m, ts in up.items() if ts} == {}
