#!/usr/bin/env python3
"""The module graph of one crate, and the shape rules of issue #22 checked on it.

    scripts/module-graph.py services/bugs [--mod-edges] [--quiet]

Lists every edge `file -> file` that a path into the crate makes (`use crate::…`,
`super::…`, `self::…`, a child module named from its parent, inline
`crate::a::b` paths), then fails (exit 1) when:
  - the files, or the crate's top-level modules ("rooms": api, core, store, …),
    import each other in a circle;
  - a file outside api/, peers/, lib.rs and bin/ names `atmr_proto`;
  - a .rs file (src/, tests/, benches/) does not start with `//!`;
  - a local `#[allow(clippy::too_many_arguments)]` appears.
With --follow-reexports an item reached through a `pub use` (e.g. `crate::Env`
re-exported by lib.rs) is an edge to the file that defines it, not to the
re-exporting file. With --mod-edges a `mod child;` declaration also counts as an edge from the
parent to the child, so a child that uses an item of its parent's file is a
circle too (the strictest reading of "no module imports one that imports it back").
It prints the line count of every file and the median.

Comments and string literals are removed before paths are read, so a path in
a doc comment is not an edge. A stop-gap until the workspace's tidy test.
"""

import argparse
import re
import statistics
import sys
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(src: str) -> str:
    """`src` with comments and string/char literals blanked (lengths kept loosely)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            out.append(" ")
        elif c == "r" and re.match(r'r#*"', src[i:]) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = re.match(r'r(#*)"', src[i:])
            end = '"' + m.group(1)
            j = src.find(end, i + len(m.group(0)))
            i = n if j < 0 else j + len(end)
            out.append('""')
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            i = j + 1
            out.append('""')
        elif c == "'":
            # A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            m = re.match(r"'(\\.[^']*|[^\\'])'", src[i:])
            if m:
                out.append("' '")
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def module_of(rel: Path) -> tuple:
    parts = list(rel.with_suffix("").parts)
    if parts[-1] in ("lib", "main") and len(parts) == 1:
        return ()
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def expand_use_tree(tree: str) -> list:
    """`a::{b, c::{d as x, e}}` -> ['a::b', 'a::c::d', 'a::c::e'] (aliases dropped, globs kept)."""
    tree = re.sub(r"\s+as\s+" + IDENT, "", tree)
    tree = re.sub(r"\s+", "", tree)

    def parse(s, prefix):
        out, depth, start, items = [], 0, 0, []
        for k, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(s[start:k])
                start = k + 1
        items.append(s[start:])
        for item in items:
            if not item:
                continue
            b = item.find("{")
            if b >= 0:
                head = item[:b].rstrip(":")
                out += parse(item[b + 1: item.rindex("}")], prefix + ([head] if head else []))
            else:
                out.append("::".join(prefix + [item]))
        return out

    return parse(tree, [])


class Crate:
    def __init__(self, root: Path, mod_edges: bool, follow_reexports: bool = False):
        self.root = root
        self.src = root / "src"
        self.files = sorted(p for p in self.src.rglob("*.rs") if "bin" not in p.relative_to(self.src).parts[:1])
        self.modules = {}  # module path tuple -> file (Path), inline modules included
        self.children = {}  # module path -> set of child names
        self.text = {f: strip(f.read_text()) for f in self.files}
        self.mod_edges = mod_edges
        self.follow = follow_reexports
        self.reexports = {}  # module path -> {name: path segments written in that module}
        for f in self.files:
            m = module_of(f.relative_to(self.src))
            self.modules[m] = f
            if m:
                self.children.setdefault(m[:-1], set()).add(m[-1])
            for scope, name in self.inline_mods(f):
                self.modules[scope + (name,)] = f
                self.children.setdefault(scope, set()).add(name)
        for f in self.files:
            for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", self.text[f]):
                scope = self.scope_at(f, m.start())
                raw = re.sub(r"\s+", " ", m.group(1))
                for p in expand_use_tree(re.sub(r"\s+as\s+" + IDENT, "", raw)):
                    segs = [x for x in p.split("::") if x]
                    if segs and segs[-1] != "*":
                        self.reexports.setdefault(scope, {})[segs[-1]] = (scope, segs)

    def inline_mods(self, f: Path):
        """(scope, name) of every inline `mod name { … }` in `f`."""
        out = []
        for scope, start, _ in self.scopes(f):
            if start is not None:
                out.append((scope[:-1], scope[-1]))
        return out

    def scopes(self, f: Path):
        """(module path, body start, body end) of `f`'s file module and its inline modules."""
        text = self.text[f]
        base = module_of(f.relative_to(self.src))
        found = [(base, None, len(text))]
        stack = []  # (module path, depth at which it closes)
        depth = 0
        for m in re.finditer(r"\bmod\s+(" + IDENT + r")\s*\{|[{}]", text):
            tok = m.group(0)
            if tok.startswith("mod"):
                scope = stack[-1][0] if stack else base
                depth += 1
                path = scope + (m.group(1),)
                stack.append((path, depth, m.end()))
            elif tok == "{":
                depth += 1
            else:
                if stack and stack[-1][1] == depth:
                    path, _, start = stack.pop()
                    found.append((path, start, m.start()))
                depth -= 1
        return found

    def scope_at(self, f: Path, pos: int) -> tuple:
        scopes = self.scopes(f)
        best = (scopes[0][0], -1)
        for path, start, end in scopes[1:]:
            if start <= pos <= end and start > best[1]:
                best = (path, start)
        return best[0]

    def resolve(self, scope: tuple, segs: list, depth: int = 0):
        """The file a path written in `scope` reaches, or None when it leaves the crate."""
        if not segs:
            return None
        if segs[0] == "crate":
            base, rest = (), segs[1:]
        elif segs[0] in ("super", "self"):
            base = scope
            rest = segs
            while rest and rest[0] in ("super", "self"):
                if rest[0] == "super":
                    base = base[:-1]
                rest = rest[1:]
        elif segs[0] in self.children.get(scope, ()):
            base, rest = scope, segs
        else:
            return None
        path = tuple(base) + tuple(s for s in rest if s != "*")
        full = path
        while path not in self.modules:
            path = path[:-1]
        if self.follow and depth < 8 and len(full) > len(path):
            again = self.reexports.get(path, {}).get(full[len(path)])
            if again is not None:
                target = self.resolve(again[0], again[1], depth + 1)
                if target is not None:
                    return target
        return self.modules[path]

    def edges(self):
        edges = {}
        for f in self.files:
            text = self.text[f]
            seen = set()
            for m in re.finditer(r"\buse\s+([^;]+);", text):
                scope = self.scope_at(f, m.start())
                for p in expand_use_tree(m.group(1)):
                    segs = [s for s in p.split("::") if s]
                    t = self.resolve(scope, segs)
                    if t is not None and t != f:
                        seen.add(t)
            body = re.sub(r"\buse\s+[^;]+;", " ", text)
            for m in re.finditer(r"(?<![A-Za-z0-9_:])(" + IDENT + r")((?:\s*::\s*" + IDENT + r")+)", body):
                segs = [m.group(1)] + [s.strip() for s in m.group(2).split("::") if s.strip()]
                scope = self.scope_at(f, m.start())
                t = self.resolve(scope, segs)
                if t is not None and t != f:
                    seen.add(t)
            if self.mod_edges:
                m0 = module_of(f.relative_to(self.src))
                for child in self.children.get(m0, ()):
                    t = self.modules[m0 + (child,)]
                    if t != f:
                        seen.add(t)
            edges[f] = seen
        return edges


def sccs(nodes, edges):
    """Tarjan's strongly connected components with more than one node."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
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
                out.append(sorted(comp))

    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("crate", type=Path)
    ap.add_argument("--mod-edges", action="store_true", help="count `mod child;` as an edge parent -> child")
    ap.add_argument("--follow-reexports", action="store_true", help="an item reached through a `pub use` is an edge to where it is defined")
    ap.add_argument("--quiet", action="store_true", help="only the problems")
    args = ap.parse_args()
    crate = Crate(args.crate, args.mod_edges, args.follow_reexports)
    src = crate.src
    rel = lambda f: str(f.relative_to(src))  # noqa: E731
    room = lambda f: (f.relative_to(src).parts[0].removesuffix(".rs"))  # noqa: E731
    edges = crate.edges()
    problems = []

    if not args.quiet:
        print("file edges:")
        for f in crate.files:
            for t in sorted(edges[f]):
                print(f"  {rel(f)} -> {rel(t)}")
    for comp in sccs(crate.files, edges):
        problems.append("file circle: " + " <-> ".join(rel(f) for f in comp))

    rooms = {}
    for f, ts in edges.items():
        for t in ts:
            if room(f) != room(t):
                rooms.setdefault(room(f), set()).add(room(t))
    if not args.quiet:
        print("room edges:")
        for r in sorted(rooms):
            print(f"  {r} -> {', '.join(sorted(rooms[r]))}")
    for comp in sccs(sorted({room(f) for f in crate.files}), rooms):
        problems.append("room circle: " + " <-> ".join(comp))

    allowed = ("api", "peers", "lib.rs", "bin")
    for f in sorted(src.rglob("*.rs")):
        r = f.relative_to(src)
        code = strip(f.read_text())
        if r.parts[0] not in allowed and re.search(r"\batmr_proto\b", code):
            problems.append(f"proto outside api/, peers/, lib.rs, bin/: {r}")
    every = sorted(p for d in ("src", "tests", "benches") for p in (args.crate / d).rglob("*.rs"))
    for f in every:
        raw = f.read_text()
        if not raw.startswith("//!"):
            problems.append(f"no //! at the top: {f.relative_to(args.crate)}")
        if re.search(r"allow\s*\(\s*clippy::too_many_arguments", raw):
            problems.append(f"local too_many_arguments allowance: {f.relative_to(args.crate)}")

    counts = {f: len(f.read_text().splitlines()) for f in sorted(src.rglob("*.rs"))}
    if not args.quiet:
        print("lines:")
        for f, n in counts.items():
            print(f"  {n:5} {f.relative_to(src)}")
        print(f"  median {statistics.median(counts.values()):.0f} over {len(counts)} files")
    for f, n in counts.items():
        if n > 500 and not args.quiet:
            head = f.read_text().split("\n\n", 1)[0]
            print(f"note: {f.relative_to(src)} has {n} lines; its //! must say why it is one concern:\n{head}\n")

    for p in problems:
        print("PROBLEM:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
