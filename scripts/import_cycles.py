#!/usr/bin/env python3
"""Import circles between parity's modules.

Reads every file under src/, finds the `crate::a::b` paths it names (in `use` items and in
expressions), and builds a graph between library modules: a file `src/x/y.rs` is module `x::y`,
`src/x/mod.rs` is `x`. An edge a -> b means a names something of b (or of b's submodules). It
prints the strongly connected components with more than one member (Tarjan's algorithm):
each is an import circle. Exit code 1 when there is one.

    python3 scripts/import_cycles.py            # file level
    python3 scripts/import_cycles.py --top      # top-level modules (config, diff, runner, ...)
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def module_of(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "mod":
        parts.pop()
    if parts in (["lib"], ["main"]):
        return "crate"
    return "::".join(parts)


def strip_comments(text: str) -> str:
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def test_free(text: str) -> str:
    """Drops `#[cfg(test)] mod tests { ... }` blocks: tests may reach anywhere."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i : m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def uses(text: str, modules: set, me: str):
    """Modules named by `crate::...` paths, `super::...` and grouped `use crate::{a, b::c}`."""
    found = set()

    def resolve(segments):
        best = None
        for n in range(1, len(segments) + 1):
            cand = "::".join(segments[:n])
            if cand in modules:
                best = cand
        return best

    def expand(prefix, body):
        # body of a use tree after `prefix::`: a name, a path, or {group}
        body = body.strip()
        if body.startswith("{"):
            depth, start, items = 0, 1, []
            for k, ch in enumerate(body):
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                    if depth == 0:
                        items.append(body[start:k])
                        break
                elif ch == "," and depth == 1:
                    items.append(body[start:k])
                    start = k + 1
            for item in items:
                expand(prefix, item)
            return
        m = re.match(r"([\w:]*?)(::\{.*)?$", body, flags=re.S)
        path = body.split("::{")[0]
        segs = prefix + [s for s in re.split(r"::", path) if s and s != "self" and re.match(r"^\w+$", s)]
        target = resolve(segs)
        if target:
            found.add(target)
        if "::{" in body:
            expand(segs, body[body.index("::{") + 2 :])

    for m in re.finditer(r"\buse\s+(crate|super)::([^;]+);", text, flags=re.S):
        base = [] if m.group(1) == "crate" else me.split("::")[:-1] if "::" in me else []
        if m.group(1) == "super" and me.count("::") == 0:
            base = []
        expand(base, m.group(2))
    for m in re.finditer(r"\bcrate((?:::\w+)+)", text):
        segs = [s for s in m.group(1).split("::") if s]
        target = resolve(segs)
        if target:
            found.add(target)
    found.discard(me)
    return found


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
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
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    top = "--top" in sys.argv
    files = sorted(p for p in SRC.rglob("*.rs"))
    modules = {module_of(p) for p in files}
    graph = {}
    for p in files:
        me = module_of(p)
        if me == "crate":
            continue
        text = test_free(strip_comments(p.read_text()))
        targets = uses(text, modules, me)
        if top:
            me = me.split("::")[0]
            targets = {t.split("::")[0] for t in targets} - {me, "crate"}
        else:
            # a module naming its own parent's items (`super::X`) is part of it, not a circle
            targets = {t for t in targets if not me.startswith(t + "::") and t != "crate"}
        graph.setdefault(me, set()).update(targets)
    circles = [c for c in sccs(graph) if len(c) > 1]
    level = "top-level module" if top else "module"
    if not circles:
        print(f"no import circle between {len(graph)} {level}s")
        return 0
    for c in circles:
        print(f"import circle of {len(c)} {level}s: " + ", ".join(c))
    return 1


if __name__ == "__main__":
    sys.exit(main())
