#!/usr/bin/env python3
"""The release libraries ship only what they run (docs/architecture.md, "Test hooks").

    check-release-hooks.py SRC_DIR SHARED_LIB STATIC_LIB TESTING_LIB

Fails when
  - a test hook (a function declared inside `#ifdef DR_TESTING` in a header under
    SRC_DIR) is in the symbol table of SHARED_LIB or STATIC_LIB,
  - a hook is missing from TESTING_LIB (then the list read from the headers is wrong and
    the first check proves nothing), or no hook is found at all,
  - the release allocator (alloc.c's object in STATIC_LIB) contains an atomic
    instruction (a lock prefix, xchg with memory) or calls the __atomic runtime: dr__malloc runs on
    every allocation of every thread.
Needs nm, ar and objdump (binutils). Exit 0 when clean, 1 with one line per finding.
"""
import os
import re
import subprocess
import sys
import tempfile

DECL = re.compile(r"\b(dr__\w+)\s*\(")


def hooks_declared(src):
    names = set()
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".h"):
                continue
            depth = 0  # inside #ifdef DR_TESTING when > 0 (counting nested #if)
            with open(os.path.join(root, name), encoding="utf-8") as f:
                for line in f:
                    s = line.strip()
                    if depth == 0:
                        if re.match(r"#\s*ifdef\s+DR_TESTING\b", s):
                            depth = 1
                        continue
                    if re.match(r"#\s*if", s):
                        depth += 1
                    elif re.match(r"#\s*endif", s):
                        depth -= 1
                    else:
                        names.update(DECL.findall(s))
    return names


def symbols(lib):
    out = subprocess.run(["nm", "-A", lib], capture_output=True, text=True)
    if out.returncode != 0 and "no symbols" not in out.stderr:
        raise SystemExit(f"nm {lib} failed: {out.stderr.strip()}")
    return {line.split()[-1] for line in out.stdout.splitlines() if line.split()}


def allocator_findings(static_lib):
    findings = []
    with tempfile.TemporaryDirectory() as tmp:
        members = subprocess.run(["ar", "t", static_lib], capture_output=True, text=True,
                                 check=True).stdout.split()
        alloc = [m for m in members if re.fullmatch(r"alloc\.c\.o(bj)?", m)]
        if len(alloc) != 1:
            return [f"{static_lib}: expected one alloc.c object, found {alloc}"]
        subprocess.run(["ar", "x", os.path.abspath(static_lib), alloc[0]], cwd=tmp, check=True)
        dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", alloc[0]], cwd=tmp,
                             capture_output=True, text=True, check=True).stdout
        if "<dr__malloc>:" not in dis:
            return [f"{static_lib}: alloc.c's object has no dr__malloc to inspect"]
        for line in dis.splitlines():
            insn = line.split("\t")[-1].strip()
            # xchg is atomic only with a memory operand (xchg %ax,%ax is padding).
            if (re.match(r"lock\b", insn) or (re.match(r"xchg\b", insn) and "(" in insn)
                    or "__atomic" in insn):
                findings.append(f"release allocator (alloc.c): atomic instruction `{insn}`")
    return findings


def main(argv):
    if len(argv) != 5:
        print(__doc__)
        return 2
    src, shared, static, testing = argv[1:]
    findings = []
    hooks = hooks_declared(src)
    if not hooks:
        findings.append(f"no function declared under #ifdef DR_TESTING in {src}: "
                        "the check would prove nothing")
    in_testing = symbols(testing)
    for hook in sorted(hooks - in_testing):
        findings.append(f"{hook}: declared as a test hook but not in {testing}")
    for lib in (shared, static):
        for hook in sorted(hooks & symbols(lib)):
            findings.append(f"{lib}: contains test hook {hook}")
    findings += allocator_findings(static)
    for line in findings:
        print(line)
    if findings:
        return 1
    print(f"release libraries: none of {len(hooks)} test hooks "
          f"({', '.join(sorted(hooks))}); allocator without atomics")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
