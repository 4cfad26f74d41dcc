#!/usr/bin/env python3
"""Holds src/ to its layers (src/layers.txt, lowest first; docs/architecture.md).

Reads every `#include "..."` under src/ and fails when
  - a file includes a header of a layer below its own in layers.txt (a lower layer may
    not depend on a higher one),
  - the modules (a .c and its .h are one module) include each other in a cycle,
  - an include names no file of src/ (other than the public header),
  - two files in different layers share a name (bare includes would be ambiguous), or a
    source sits outside the layer folders.

    check_layers.py [SRC_DIR]      check SRC_DIR (default: src/ beside tests/)
    check_layers.py --self-test    prove that each rule fails on a tree that breaks it

Standard library only. Exit status 0 when clean, 1 with one line per finding.
"""
import os
import re
import tempfile

import archcheck

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
PUBLIC_HEADERS = {"dadratings.h"}
NOT_SOURCES = {"CMakeLists.txt", "dadratings.map", "layers.txt"}


def read_layers(src):
    with open(os.path.join(src, "layers.txt"), encoding="utf-8") as f:
        return [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]


def check(src):
    findings = []
    layers = read_layers(src)
    rank = {name: i for i, name in enumerate(layers)}
    where = {}  # file name -> layer
    for entry in sorted(os.listdir(src)):
        path = os.path.join(src, entry)
        if os.path.isdir(path):
            if entry not in rank:
                findings.append(f"src/{entry}/: a folder that is not a layer in src/layers.txt")
                continue
            for name in sorted(os.listdir(path)):
                if name in where:
                    findings.append(f"src/{entry}/{name}: the name is also used in "
                                    f"src/{where[name]}/ (bare includes would be ambiguous)")
                where[name] = entry
        elif entry not in NOT_SOURCES:
            findings.append(f"src/{entry}: outside every layer folder")
    for layer in layers:
        if not os.path.isdir(os.path.join(src, layer)):
            findings.append(f"src/layers.txt names {layer}, which is no folder of src/")

    graph = {}  # module -> {module: "file:line"}
    for name, layer in sorted(where.items()):
        module = f"{layer}/{name.rsplit('.', 1)[0]}"
        graph.setdefault(module, {})
        with open(os.path.join(src, layer, name), encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = m.group(1)
                at = f"src/{layer}/{name}:{lineno}"
                if target in PUBLIC_HEADERS:
                    continue
                if target not in where:
                    findings.append(f"{at}: includes \"{target}\", which is no file of src/")
                    continue
                tlayer = where[target]
                if rank[tlayer] > rank[layer]:
                    findings.append(f"{at}: includes {tlayer}/{target}, but layer {layer} is "
                                    f"below {tlayer} (src/layers.txt)")
                tmodule = f"{tlayer}/{target.rsplit('.', 1)[0]}"
                if tmodule != module:
                    graph[module].setdefault(tmodule, at)

    state = {}
    reported = set()

    def visit(module, stack):
        state[module] = "open"
        stack.append(module)
        for nxt in sorted(graph.get(module, {})):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):] + [nxt]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    steps = ", ".join(graph[a][b] for a, b in zip(cycle, cycle[1:]))
                    findings.append(f"include cycle {' -> '.join(cycle)} ({steps})")
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    return findings


def self_test():
    """Each rule, broken once in a small tree, must be reported."""
    cases = {
        "upward include": ({"core/a.c": '#include "b.h"\n', "aws/b.h": ""}, "is below"),
        "cycle": ({"core/a.h": '#include "b.h"\n', "core/b.h": '#include "a.h"\n'},
                  "include cycle"),
        "unknown include": ({"core/a.c": '#include "nowhere.h"\n'}, "no file of src/"),
        "same name twice": ({"core/a.h": "", "aws/a.h": ""}, "also used in"),
        "outside the layers": ({"stray.c": ""}, "outside every layer"),
    }
    failures = 0
    for what, (files, expected) in cases.items():
        with tempfile.TemporaryDirectory() as src:
            with open(os.path.join(src, "layers.txt"), "w") as f:
                f.write("# lowest first\ncore\naws\n")
            for d in ("core", "aws"):
                os.mkdir(os.path.join(src, d))
            for rel, text in files.items():
                with open(os.path.join(src, rel), "w") as f:
                    f.write(text)
            found = check(src)
            if not any(expected in line for line in found):
                print(f"self-test FAILED: {what}: no finding containing {expected!r} in {found}")
                failures += 1
            else:
                print(f"self-test ok: {what}: {found[0]}")
    with tempfile.TemporaryDirectory() as src:  # and a clean tree passes
        with open(os.path.join(src, "layers.txt"), "w") as f:
            f.write("core\naws\n")
        os.mkdir(os.path.join(src, "core"))
        os.mkdir(os.path.join(src, "aws"))
        with open(os.path.join(src, "aws", "b.c"), "w") as f:
            f.write('#include "b.h"\n#include "a.h"\n#include "dadratings.h"\n')
        open(os.path.join(src, "aws", "b.h"), "w").close()
        open(os.path.join(src, "core", "a.h"), "w").close()
        if check(src):
            print(f"self-test FAILED: a clean tree reported {check(src)}")
            failures += 1
        else:
            print("self-test ok: a clean tree passes")
    return 1 if failures else 0


if __name__ == "__main__":
    archcheck.main(check, self_test,
                   failed=lambda f: f"{len(f)} layering finding(s); the layers are in src/layers.txt",
                   passed=lambda src: f"layers ok: {', '.join(read_layers(src))}")
