#!/usr/bin/env python3
"""Holds the data model to one module (docs/architecture.md, docs/data-model.md).

src/ratings/keys.h defines every key, index and attribute name of the layout the
JavaScript services share (DR_PK_*, DR_SK_*, DR_GSI_*, DR_INDEX_*, DR_ATTR_*). This check
fails when one of those names is spelled as a string literal anywhere else under src/:
a second spelling is how a writer and a reader drift apart silently. Comments do not
count; a literal counts when it holds the name as a word ("GSI1PK = :pk") or, for a
prefix ending in '#', anywhere ("STATS#%s"); a lower-case name, which is also an
English word, only alone or in an expression ("aggregation = :a").

The renderers of the public result shapes (RESULT_SHAPE_FILES) spell JSON keys such as
"totalRatings" that are a contract of their own, and the readers of other programs' JSON
(FOREIGN_JSON_FILES: the SSO token cache's "expiresAt") spell keys of a contract that is
not ours: there, attribute names (DR_ATTR_*) do not count; key formats and index names
still do.

    check_model_literals.py [SRC_DIR]    check SRC_DIR (default: src/ beside tests/)
    check_model_literals.py --self-test  prove it finds a spelling, and passes without one

Standard library only. Exit status 0 when clean, 1 with one line per finding.
"""
import os
import re
import tempfile

import archcheck

MODEL_HEADER = os.path.join("ratings", "keys.h")
MODEL_FILES = {os.path.join("ratings", "keys.h"), os.path.join("ratings", "keys.c")}
# Renderers of the result shapes, whose JSON keys may share a spelling with attributes.
RESULT_SHAPE_FILES = {os.path.join("ratings", "result_json.c"),
                      os.path.join("stream", "dead_letters_json.c")}
# Readers of other programs' JSON (the AWS CLI's SSO token cache: "expiresAt"; the old app's
# S3 rating objects: "rating", "submittedAt", and the --layout placeholders named after
# their fields), whose keys may share a spelling with attributes in the same way.
FOREIGN_JSON_FILES = {os.path.join("aws", "credentials_sso.c"),
                      os.path.join("migrate", "payload.c"),
                      os.path.join("migrate", "layout.c")}
DEFINE = re.compile(r'^\s*#\s*define\s+(DR_(?:PK|SK|GSI|INDEX|ATTR)_\w+)\s+"([^"]+)"', re.M)
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def model_names(src):
    with open(os.path.join(src, MODEL_HEADER), encoding="utf-8") as f:
        text = f.read()
    # Only names worth guarding: a lone separator such as "#" is no name.
    return {value: macro for macro, value in DEFINE.findall(text) if re.search(r"\w\w", value)}


def spells(literal, name):
    if name[0].islower():
        # A lower-case name ("aggregation") is also an English word: it counts as the
        # attribute only alone or where an expression would use it.
        return literal == name or re.search(
            r"(^|[(,]\s*|\b(SET|REMOVE|ADD)\s+)" + re.escape(name) + r"\s*([=,)]|$)",
            literal) is not None
    if name.endswith("#"):
        return re.search(r"(?<![A-Za-z0-9_])" + re.escape(name), literal) is not None
    return re.search(r"(?<![A-Za-z0-9_#])" + re.escape(name) + r"(?![A-Za-z0-9_])",
                     literal) is not None


def blank_comments(text):
    # Keep line numbers: replace each comment by as many newlines as it spans.
    return COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def check(src):
    names = model_names(src)
    if not names:
        return [f"src/{MODEL_HEADER}: defines no DR_PK_/DR_SK_/DR_GSI_/DR_INDEX_/DR_ATTR_ "
                "string: the check would prove nothing"]
    findings = []
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            if rel in MODEL_FILES:
                continue
            with open(path, encoding="utf-8") as f:
                text = blank_comments(f.read())
            result_shape = rel in RESULT_SHAPE_FILES or rel in FOREIGN_JSON_FILES
            for lineno, line in enumerate(text.splitlines(), 1):
                for lit in LITERAL.findall(line):
                    for value, macro in sorted(names.items()):
                        if result_shape and macro.startswith("DR_ATTR_"):
                            continue
                        if spells(lit, value):
                            findings.append(f"src/{rel}:{lineno}: \"{lit}\" spells {macro} "
                                            f"(\"{value}\"): use the name from keys.h")
    return findings


def self_test():
    failures = 0
    with tempfile.TemporaryDirectory() as src:
        os.mkdir(os.path.join(src, "ratings"))
        with open(os.path.join(src, MODEL_HEADER), "w") as f:
            f.write('#define DR_ATTR_PK "PK"\n#define DR_PK_STATS "STATS#"\n'
                    '#define DR_SK_DEAD_LETTER_SEPARATOR "#"\n'
                    '#define DR_ATTR_AGGREGATION "aggregation"\n')
        cases = {
            "attribute in an expression": ('x = "attribute_not_exists(PK)";', True),
            "prefix in a format": ('snprintf(b, n, "STATS#%s", id);', True),
            "macro use": ('x = "attribute_not_exists(" DR_ATTR_PK ")";', False),
            "a comment": ('/* "PK" is the partition key */ x = 1;', False),
            "a longer word": ('x = "PKCS";', False),
            "lower-case attribute alone": ('get(item, "aggregation");', True),
            "lower-case attribute in an expression": ('x = "SET aggregation = :a";', True),
            "the same word in a message": ('fail("aggregation mode: bad");', False),
            "a result key in a result-shape renderer": ('put(b, "aggregation");', False,
                                                        "result_json.c"),
            "a key format in a result-shape renderer": ('put(b, "STATS#%s");', True,
                                                        "result_json.c"),
        }
        for what, (code, should_find, *file) in cases.items():
            case_file = os.path.join(src, "ratings", file[0] if file else "op.c")
            with open(case_file, "w") as f:
                f.write(code + "\n")
            found = check(src)
            os.remove(case_file)
            if bool(found) != should_find:
                print(f"self-test FAILED: {what}: {found or 'no finding'}")
                failures += 1
            else:
                print(f"self-test ok: {what}: {found[0] if found else 'no finding'}")
    return 1 if failures else 0


if __name__ == "__main__":
    archcheck.main(check, self_test,
                   failed=lambda f: f"{len(f)} data-model name(s) spelled outside src/{MODEL_HEADER}",
                   passed=lambda src: f"data model: {len(model_names(src))} names, spelled only in src/ratings/keys.[ch]")
