#!/usr/bin/env python3
"""Binding drift gate (ctest -L abi): the hand-written declarations of the Python and Node
bindings against include/dadratings.h. Python 3 standard library only.

  binding-drift.py [--root DIR]              compare the bindings with the header
  binding-drift.py [--root DIR] --docs       every DR_API declaration is documented
  binding-drift.py [--root DIR] --self-test  mutate copies of the binding files (and of
                                             the header for --docs), one declaration at a
                                             time, and check that each mutation is caught

What is compared (see docs/bindings.md, "The drift test"):
  functions  bindings/python/dadratings/_lib.py  _PROTOTYPES (ctypes restype/argtypes)
             bindings/node/lib/native.js         DECLARATIONS (ffi-napi table) + FFI_TYPE
             A bound name must be a DR_API function; argument count, each argument's
             kind (pointer, pointer to pointer, string, int32/uint32/int64/uint64/size_t,
             double, enum, callback and its signature) and the return kind must match.
             A header function a binding does not bind must be in NOT_BOUND with a reason.
  enums      dr_status        errors.py Status, errors.js STATUS_NAMES
             dr_counter       client.py COUNTERS, index.js COUNTERS (position = value)
             dr_aggregation_mode  client.py _AGGREGATION_MODES, index.js AGGREGATION
             dr_log_level     client.py _LOG_LEVELS
             DR_CREATE_TABLES_WAIT  client.py _CREATE_TABLES_WAIT
             names and numbers, in order, none missing, none extra.
  sizes      DR_IMPORT_IDENTITY_LEN  client.py _IMPORT_IDENTITY_LEN, index.js IMPORT_IDENTITY_LEN
             (the out buffer each binding hands dr_import_identity)
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

# Files, relative to the source root.
HEADER = "include/dadratings.h"
PY_LIB = "bindings/python/dadratings/_lib.py"
PY_ERRORS = "bindings/python/dadratings/errors.py"
PY_CLIENT = "bindings/python/dadratings/client.py"
NODE_NATIVE = "bindings/node/lib/native.js"
NODE_ERRORS = "bindings/node/lib/errors.js"
NODE_INDEX = "bindings/node/index.js"
FILES = (HEADER, PY_LIB, PY_ERRORS, PY_CLIENT, NODE_NATIVE, NODE_ERRORS, NODE_INDEX)

# Header functions a binding deliberately does not bind, each with its reason. A function
# missing from a binding and from this list fails the test; so does a stale entry.
_RESULT_JSON = "results are read with dr_X_to_json() (docs/bindings.md)"
_NOT_IN_API = "not offered by this binding yet"
_FOLLOWER = "the follower is run by the dr_follow tool, not offered by the bindings"
_DEAD = "dead letters are handled with dr_follow --dead-letters, not offered by the bindings"
# The follower and its dead letters: bound by neither binding.
_NEITHER = {
    **{name: _FOLLOWER for name in ("dr_follower_new", "dr_follower_free", "dr_follower_poll",
                                    "dr_follower_dead_lettered")},
    **{name: _DEAD for name in ("dr_follower_list_dead_letters",
                                "dr_follower_requeue_dead_letters", "dr_dead_letters_free",
                                "dr_dead_letters_count", "dr_dead_letters_shard_id",
                                "dr_dead_letters_sequence_number", "dr_dead_letters_reason",
                                "dr_dead_letters_record_json", "dr_dead_letters_attempts",
                                "dr_dead_letters_parked_at", "dr_dead_letters_to_json")},
}
_IMPORT = "the import is run with the dadratings tool or the C API, once per deployment"
# The dashboard's age: the bindings return the original module's result shape, and a cached
# one is at most the configured maximum age old.
_NEITHER["dr_dashboard_age_ms"] = ("results keep the original module's shape; a cached "
                                   "dashboard is at most dashboardMaxAgeMs old")
# The import and verification: bound by neither binding (dr_import_identity is: the dual write).
_NEITHER.update({name: _IMPORT for name in (
    "dr_import_options_new", "dr_import_options_free", "dr_import_options_set_layout",
    "dr_import_options_set_copy_of", "dr_import_options_set_dry_run",
    "dr_import_options_set_resume", "dr_import_options_set_concurrency",
    "dr_import_options_set_page_size", "dr_import_options_set_callbacks", "dr_client_import",
    "dr_client_verify", "dr_import_report_free", "dr_import_report_get")})
NOT_BOUND: Dict[str, Dict[str, str]] = {
    "python": {
        "dr_set_allocator": "Python memory is Python's; the library keeps its own allocator",
        "dr_dashboard_inconsistent": _NOT_IN_API,
        "dr_client_upgrade_tables": "the upgrade is run with the C tool or API, once per deployment",
        "dr_batch_result_to_json": "StreamBatchResult reads the failed sequence numbers directly",
        **_NEITHER,
    },
    "node": {
        "dr_set_allocator": "JavaScript memory is V8's; the library keeps its own allocator",
        "dr_config_set_log": "a C callback into JavaScript from the library's threads is not "
                             "offered (libffi callbacks would have to hop to the JS thread)",
        "dr_client_upgrade_tables": "the upgrade is run with the C tool or API, once per deployment",
        "dr_stats_joke_id": _RESULT_JSON,
        "dr_stats_total_ratings": _RESULT_JSON,
        "dr_stats_count": _RESULT_JSON,
        "dr_stats_total_score": _RESULT_JSON,
        "dr_stats_average": _RESULT_JSON,
        "dr_stats_last_rated_at": _RESULT_JSON,
        "dr_stats_pending": _RESULT_JSON,
        "dr_dashboard_overall_ratings": _RESULT_JSON,
        "dr_dashboard_overall_average": _RESULT_JSON,
        "dr_dashboard_unique_jokes": _RESULT_JSON,
        "dr_dashboard_rating_count": _RESULT_JSON,
        "dr_dashboard_inconsistent": _NOT_IN_API,
        "dr_dashboard_author_count": _RESULT_JSON,
        "dr_dashboard_author_name": _RESULT_JSON,
        "dr_dashboard_author_total_ratings": _RESULT_JSON,
        "dr_dashboard_author_average": _RESULT_JSON,
        "dr_dashboard_author_rating_count": _RESULT_JSON,
        "dr_dashboard_top_count": _RESULT_JSON,
        "dr_dashboard_top_joke_id": _RESULT_JSON,
        "dr_dashboard_top_joke_text": _RESULT_JSON,
        "dr_dashboard_top_author": _RESULT_JSON,
        "dr_dashboard_top_total_ratings": _RESULT_JSON,
        "dr_dashboard_top_average": _RESULT_JSON,
        "dr_dashboard_top_last_rated_at": _RESULT_JSON,
        "dr_dashboard_recent_count": _RESULT_JSON,
        "dr_dashboard_recent_joke_id": _RESULT_JSON,
        "dr_dashboard_recent_rating": _RESULT_JSON,
        "dr_dashboard_recent_joke_text": _RESULT_JSON,
        "dr_dashboard_recent_author": _RESULT_JSON,
        "dr_dashboard_recent_mode": _RESULT_JSON,
        "dr_dashboard_recent_date": _RESULT_JSON,
        "dr_dashboard_recent_submitted_at": _RESULT_JSON,
        "dr_batch_result_failed_count": _RESULT_JSON,
        "dr_batch_result_failed_sequence_number": _RESULT_JSON,
        **_NEITHER,
    },
}


class DriftError(Exception):
    """A file could not be parsed as expected: the checker itself must be adapted."""


def read(root: str, rel: str) -> str:
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


# ---- the header ---------------------------------------------------------------------

SCALARS = {
    "int32_t": "int32", "uint32_t": "uint32", "int64_t": "int64", "uint64_t": "uint64",
    "size_t": "size", "double": "double", "int": "int32", "unsigned": "uint32",
    "unsigned int": "uint32", "void": "void",
}


class Function:
    def __init__(self, name: str, ret: str, params: List[Tuple[str, str]], doc: Optional[str],
                 line: int) -> None:
        self.name = name
        self.ret = ret                # kind
        self.params = params          # [(name, kind)]
        self.doc = doc
        self.line = line


class Header:
    def __init__(self) -> None:
        self.functions: Dict[str, Function] = {}
        self.enums: Dict[str, List[Tuple[str, int]]] = {}
        self.callbacks: Dict[str, Tuple[str, List[str]]] = {}
        self.macros: Dict[str, int] = {}


def blank_comments_and_directives(text: str) -> str:
    """The text with comments and preprocessor lines replaced by spaces (offsets kept)."""
    out = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    return re.sub(r"(?m)^[ \t]*#.*$", lambda m: " " * len(m.group(0)), out)


def classify_c(ctype: str, h: Header) -> str:
    t = " ".join(ctype.replace("const", " ").replace("*", " * ").split())
    stars = t.count("*")
    base = t.replace("*", "").strip()
    if stars == 0:
        if base in SCALARS:
            return SCALARS[base]
        if base in h.enums:
            return "enum:" + base
        if base in h.callbacks:
            return "callback:" + base
        raise DriftError(f"{HEADER}: unknown type {ctype!r}: teach binding-drift.py about it")
    if stars == 1:
        if base == "char":
            return "str"
        if base in SCALARS and base != "void":
            return "ptr:" + SCALARS[base]
        return "ptr"
    return "ptrptr"


def split_params(params: str) -> List[str]:
    params = " ".join(params.split())
    if params in ("", "void"):
        return []
    return [p.strip() for p in params.split(",")]


def param_name_type(p: str) -> Tuple[str, str]:
    m = re.match(r"^(?P<type>.*?[\s\*])(?P<name>\w+)$", p)
    if not m:
        raise DriftError(f"{HEADER}: cannot read parameter {p!r}")
    return m.group("name"), m.group("type").strip()


def parse_header(text: str) -> Header:
    h = Header()
    code = blank_comments_and_directives(text)
    for m in re.finditer(r"(?m)^#define\s+(DR_\w+)\s+(0x[0-9A-Fa-f]+|[0-9]+)[uUlL]*\s*(?:/\*.*)?$",
                         text):
        h.macros[m.group(1)] = int(m.group(2), 0)
    for m in re.finditer(r"typedef\s+enum\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", code, re.S):
        values = []
        for entry in m.group(2).split(","):
            entry = entry.strip()
            if not entry:
                continue
            em = re.match(r"^(\w+)\s*=\s*(-?(?:0x[0-9A-Fa-f]+|[0-9]+))$", entry)
            if not em:
                raise DriftError(f"{HEADER}: enum {m.group(3)}: every enumerator needs an "
                                 f"explicit value (docs/ABI.md); got {entry!r}")
            values.append((em.group(1), int(em.group(2), 0)))
        h.enums[m.group(3)] = values
    for m in re.finditer(r"typedef\s+([\w\s\*]+?)\s*\(\s*\*\s*(\w+)\s*\)\s*\(([^)]*)\)\s*;", code):
        h.callbacks[m.group(2)] = ("", [])
    for m in re.finditer(r"typedef\s+([\w\s\*]+?)\s*\(\s*\*\s*(\w+)\s*\)\s*\(([^)]*)\)\s*;", code):
        ret = classify_c(m.group(1), h)
        args = [classify_c(param_name_type(p)[1], h) for p in split_params(m.group(3))]
        h.callbacks[m.group(2)] = (ret, args)
    for m in re.finditer(r"\bDR_API\b", code):
        end = code.index(";", m.start())
        decl = code[m.start():end]
        dm = re.match(r"DR_API\s+(?P<ret>[\w\s\*]+?)\s*\b(?P<name>dr_\w+)\s*\((?P<params>.*)\)\s*$",
                      decl, re.S)
        if not dm:
            raise DriftError(f"{HEADER}: cannot read declaration {' '.join(decl.split())!r}")
        params = []
        for p in split_params(dm.group("params")):
            if "(" in p:
                raise DriftError(f"{HEADER}: {dm.group('name')}: use a typedef for the "
                                 f"function pointer parameter {p!r}")
            name, ctype = param_name_type(p)
            params.append((name, classify_c(ctype, h)))
        before = text[:m.start()].rstrip()
        doc = None
        if before.endswith("*/"):
            start = before.rfind("/*")
            if before.startswith("/**", start):
                doc = before[start:]
        h.functions[dm.group("name")] = Function(
            dm.group("name"), classify_c(dm.group("ret"), h), params, doc,
            text.count("\n", 0, m.start()) + 1)
    if not h.functions:
        raise DriftError(f"{HEADER}: no DR_API declarations found")
    return h


# ---- kinds --------------------------------------------------------------------------

def compatible(header_kind: str, binding_kind: str) -> bool:
    if header_kind == binding_kind:
        return True
    if header_kind.startswith("enum:"):
        return binding_kind == "int32"          # a C enum is an int in the ABI
    if header_kind.startswith("callback:"):
        return binding_kind.startswith("callback")
    if header_kind == "str":
        return binding_kind == "ptr"            # a char * read or passed as an address
    if binding_kind == "out":                   # Node: an 8-byte out cell
        return header_kind in ("ptrptr", "ptr:uint64", "ptr:int64", "ptr:size")
    if binding_kind == "array":                 # Node: a T *[n] area (lib.array)
        return header_kind == "ptrptr"
    return False


def describe(kind: str) -> str:
    return {
        "ptr": "pointer", "ptrptr": "pointer to pointer", "str": "char * string",
        "size": "size_t", "out": "'out' (8-byte out cell)", "array": "'array' (T *[n])",
        "void": "void",
    }.get(kind, kind)


def compare_function(binding: str, name: str, fn: Function, ret: str, args: List[str],
                     errors: List[str], callbacks: Optional[Dict[str, Tuple[str, List[str]]]] = None,
                     header: Optional[Header] = None) -> None:
    where = f"{binding}: {name}"
    if len(args) != len(fn.params):
        errors.append(f"{where}: {len(args)} argument(s) declared, the header has "
                      f"{len(fn.params)} ({', '.join(p for p, _ in fn.params) or 'none'})")
    for i, ((pname, hk), bk) in enumerate(zip(fn.params, args)):
        if not compatible(hk, bk):
            errors.append(f"{where}: argument {i + 1} ({pname}) is declared as {describe(bk)}, "
                          f"the header has {describe(hk)}")
        elif hk.startswith("callback:") and callbacks is not None and header is not None:
            want = header.callbacks[hk.split(":", 1)[1]]
            got = callbacks.get(bk)
            if got is None:
                errors.append(f"{where}: argument {i + 1} ({pname}): unknown callback type")
                continue
            compare_signature(f"{where}: argument {i + 1} ({pname}, {hk.split(':', 1)[1]})",
                              want, got, errors)
    if not compatible(fn.ret, ret):
        errors.append(f"{where}: returns {describe(ret)}, the header returns {describe(fn.ret)}")


def compare_signature(where: str, want: Tuple[str, List[str]], got: Tuple[str, List[str]],
                      errors: List[str]) -> None:
    if len(want[1]) != len(got[1]):
        errors.append(f"{where}: the callback takes {len(got[1])} argument(s), the header's "
                      f"takes {len(want[1])}")
    for i, (hk, bk) in enumerate(zip(want[1], got[1])):
        if not compatible(hk, bk):
            errors.append(f"{where}: callback argument {i + 1} is {describe(bk)}, the header "
                          f"has {describe(hk)}")
    if not compatible(want[0], got[0]):
        errors.append(f"{where}: the callback returns {describe(got[0])}, the header's "
                      f"returns {describe(want[0])}")


def check_coverage(binding: str, header: Header, bound: List[str], errors: List[str]) -> None:
    allowed = NOT_BOUND[binding]
    for name in bound:
        if name not in header.functions:
            errors.append(f"{binding}: {name} is declared by the binding but is not a DR_API "
                          f"function of {HEADER}")
    for name in header.functions:
        if name not in bound and name not in allowed:
            errors.append(f"{binding}: {name} (header line {header.functions[name].line}) is "
                          f"not bound: bind it, or add it to NOT_BOUND['{binding}'] in "
                          f"tests/abi/binding-drift.py with the reason")
    for name, reason in allowed.items():
        if not reason.strip():
            errors.append(f"{binding}: NOT_BOUND entry {name} has no reason")
        if name in bound:
            errors.append(f"{binding}: {name} is bound but still listed in NOT_BOUND['{binding}']")
        elif name not in header.functions:
            errors.append(f"{binding}: NOT_BOUND entry {name} is not in the header")


def check_enum(where: str, enum: str, header: Header, got: List[Tuple[str, int]],
               errors: List[str], complete: bool = True) -> None:
    """`got`: (header enumerator name, number) in the binding's order."""
    want = header.enums.get(enum)
    if want is None:
        errors.append(f"{where}: the header has no enum {enum}")
        return
    values = dict(want)
    for name, num in got:
        if name not in values:
            errors.append(f"{where}: {name} = {num} is not an enumerator of {enum}")
        elif values[name] != num:
            errors.append(f"{where}: {name} is {num}, the header's {enum} says {values[name]}")
    names = [n for n, _ in got]
    for name, num in want:
        if complete and name not in names:
            errors.append(f"{where}: {enum} {name} = {num} is missing")
    order = [n for n, _ in want if n in names]
    if [n for n in names if n in values] != order:
        errors.append(f"{where}: {enum} is not in header order: {', '.join(names)}")
    dupes = {n for n in names if names.count(n) > 1}
    for name in sorted(dupes):
        errors.append(f"{where}: {name} appears more than once")


# ---- Python -------------------------------------------------------------------------

PY_SCALARS = {
    "c_int32": "int32", "c_int": "int32", "c_uint32": "uint32", "c_uint": "uint32",
    "c_int64": "int64", "c_longlong": "int64", "c_long": "int64", "c_uint64": "uint64",
    "c_ulonglong": "uint64", "c_ulong": "uint64", "c_size_t": "size", "c_ssize_t": "int64",
    "c_double": "double", "c_float": "float", "c_char_p": "str", "c_void_p": "ptr",
    "c_bool": "bool", "c_int8": "int8", "c_uint8": "uint8", "c_int16": "int16",
    "c_uint16": "uint16", "c_char": "int8", "c_wchar_p": "wstr",
}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr  # ctypes.c_int32 -> c_int32
    raise DriftError(f"{PY_LIB}: cannot read {ast.dump(node)}")


class PyTypes:
    """Module-level aliases (_c_status = c_int32) and CFUNCTYPE callbacks of _lib.py."""

    def __init__(self, tree: ast.Module) -> None:
        self.aliases: Dict[str, ast.AST] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], ast.Name):
                self.aliases[stmt.targets[0].id] = stmt.value
        self.callbacks: Dict[str, Tuple[str, List[str]]] = {}

    def kind(self, node: ast.AST, depth: int = 0) -> str:
        if depth > 10:
            raise DriftError(f"{PY_LIB}: alias loop")
        if isinstance(node, ast.Constant) and node.value is None:
            return "void"
        if isinstance(node, ast.Call):
            fn = _dotted(node.func)
            if fn == "POINTER" and len(node.args) == 1:
                inner = self.kind(node.args[0], depth + 1)
                if inner in ("ptr", "str", "ptrptr"):
                    return "ptrptr"
                return "ptr:" + inner
            if fn == "CFUNCTYPE":
                kinds = [self.kind(a, depth + 1) for a in node.args]
                key = f"callback@{id(node)}"
                self.callbacks[key] = (kinds[0], kinds[1:])
                return key
            raise DriftError(f"{PY_LIB}: cannot read the type {ast.unparse(node)}")
        name = _dotted(node)
        if name in PY_SCALARS:
            return PY_SCALARS[name]
        if isinstance(node, ast.Name) and name in self.aliases:
            return self.kind(self.aliases[name], depth + 1)
        raise DriftError(f"{PY_LIB}: unknown ctypes type {name!r}: teach binding-drift.py")


def check_python_functions(text: str, header: Header, errors: List[str]) -> None:
    tree = ast.parse(text, PY_LIB)
    types = PyTypes(tree)
    table = types.aliases.get("_PROTOTYPES")
    if not isinstance(table, ast.Dict):
        raise DriftError(f"{PY_LIB}: no _PROTOTYPES = {{...}} dict found")
    bound = []
    for key, value in zip(table.keys, table.values):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise DriftError(f"{PY_LIB}: _PROTOTYPES keys must be string literals")
        name = key.value
        if name in bound:
            errors.append(f"python: {name} is declared twice in _PROTOTYPES")
        bound.append(name)
        if not (isinstance(value, ast.Tuple) and len(value.elts) == 2 and
                isinstance(value.elts[1], ast.List)):
            raise DriftError(f"{PY_LIB}: {name}: expected (restype, [argtypes])")
        ret = types.kind(value.elts[0])
        args = [types.kind(a) for a in value.elts[1].elts]
        if name in header.functions:
            compare_function("python", name, header.functions[name], ret, args, errors,
                             types.callbacks, header)
    check_coverage("python", header, bound, errors)


def _py_assign(tree: ast.Module, name: str, path: str) -> ast.AST:
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else \
            [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
        for t in targets:
            if isinstance(t, ast.Name) and t.id == name and stmt.value is not None:
                return stmt.value
    raise DriftError(f"{path}: no module-level {name} = ... found")


def check_python_enums(errors_text: str, client_text: str, header: Header,
                       errors: List[str]) -> None:
    tree = ast.parse(errors_text, PY_ERRORS)
    status = None
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Status":
            status = stmt
    if status is None:
        raise DriftError(f"{PY_ERRORS}: no class Status found")
    got = []
    for stmt in status.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name) and \
                isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, int):
            member = stmt.targets[0].id
            got.append(("DR_OK" if member == "OK" else "DR_E_" + member, stmt.value.value))
    check_enum("python errors.py Status", "dr_status", header, got, errors)

    tree = ast.parse(client_text, PY_CLIENT)
    counters = _py_assign(tree, "COUNTERS", PY_CLIENT)
    got = [("DR_COUNTER_" + e.value.upper(), i) for i, e in enumerate(counters.elts)]
    check_enum("python client.py COUNTERS", "dr_counter", header, got, errors)

    modes = _py_assign(tree, "_AGGREGATION_MODES", PY_CLIENT)
    got = [("DR_AGGREGATION_" + k.value.upper(), v.value) for k, v in zip(modes.keys, modes.values)]
    check_enum("python client.py _AGGREGATION_MODES", "dr_aggregation_mode", header, got, errors)

    levels = _py_assign(tree, "_LOG_LEVELS", PY_CLIENT)
    names = {"ERROR": "DR_LOG_ERROR", "WARNING": "DR_LOG_WARN", "INFO": "DR_LOG_INFO",
             "DEBUG": "DR_LOG_DEBUG"}
    got = [(names.get(_dotted(v), "logging." + _dotted(v)), k.value)
           for k, v in zip(levels.keys, levels.values)]
    check_enum("python client.py _LOG_LEVELS", "dr_log_level", header, got, errors)

    for name, macro in (("_CREATE_TABLES_WAIT", "DR_CREATE_TABLES_WAIT"),
                        ("_IMPORT_IDENTITY_LEN", "DR_IMPORT_IDENTITY_LEN")):
        value = _py_assign(tree, name, PY_CLIENT)
        want = header.macros.get(macro)
        if not isinstance(value, ast.Constant) or value.value != want:
            errors.append(f"python client.py {name} is {ast.unparse(value)}, the header's "
                          f"{macro} is {want}")


# ---- Node ---------------------------------------------------------------------------

NODE_KINDS = {"int": "int32", "uint32": "uint32", "size": "size", "pointer": "ptr",
              "string": "str", "out": "out", "array": "array", "void": "void"}
# What each binding type must be handed to libffi as (64-bit little-endian only).
NODE_FFI = {"int": "int32", "uint32": "uint32", "size": "uint64", "pointer": "pointer",
            "string": "pointer", "out": "pointer", "array": "pointer", "void": "void"}


def js_block(text: str, start_re: str, path: str, close: str = "}") -> str:
    m = re.search(start_re, text)
    if not m:
        raise DriftError(f"{path}: {start_re!r} not found")
    end = text.find("\n" + close, m.end())
    end2 = text.find(close + ";", m.end())
    stop = min(e for e in (end, end2) if e >= 0)
    return re.sub(r"//[^\n]*", "", text[m.end():stop])


def check_node_functions(text: str, header: Header, errors: List[str]) -> None:
    ffi_block = js_block(text, r"const FFI_TYPE\s*=\s*\{", NODE_NATIVE)
    ffi = dict(re.findall(r"(\w+)\s*:\s*'(\w+)'", ffi_block))
    for kind, want in NODE_FFI.items():
        if ffi.get(kind) != want:
            errors.append(f"node: native.js FFI_TYPE.{kind} is {ffi.get(kind)!r}, must be "
                          f"{want!r} (64-bit ABI of the header's type)")
    for kind in ffi:
        if kind not in NODE_FFI:
            errors.append(f"node: native.js FFI_TYPE.{kind} is not known to binding-drift.py")

    block = js_block(text, r"const DECLARATIONS\s*=\s*\{", NODE_NATIVE)
    entries = re.findall(r"(\w+)\s*:\s*\[\s*'(\w+)'\s*,\s*\[([^\]]*)\]\s*\]", block)
    if not entries:
        raise DriftError(f"{NODE_NATIVE}: DECLARATIONS has no entries")
    rest = re.sub(r"(\w+)\s*:\s*\[\s*'(\w+)'\s*,\s*\[([^\]]*)\]\s*\]", "", block)
    if rest.strip(" \n\t,"):
        raise DriftError(f"{NODE_NATIVE}: cannot read DECLARATIONS near {rest.strip()[:60]!r}")
    bound = []
    for name, ret, arglist in entries:
        if name in bound:
            errors.append(f"node: {name} is declared twice in DECLARATIONS")
        bound.append(name)
        raw = re.findall(r"'(\w+)'", arglist)
        kinds = []
        for a in [ret] + raw:
            if a not in NODE_KINDS:
                errors.append(f"node: {name}: unknown type '{a}'")
        if any(a not in NODE_KINDS for a in [ret] + raw):
            continue
        kinds = [NODE_KINDS[a] for a in raw]
        if raw.count("out") > 1:
            errors.append(f"node: {name}: more than one 'out' argument (native.js has one out cell)")
        if name in header.functions:
            compare_function("node", name, header.functions[name], NODE_KINDS[ret], kinds,
                             errors)
    check_coverage("node", header, bound, errors)


def check_node_enums(errors_text: str, index_text: str, header: Header,
                     errors: List[str]) -> None:
    block = js_block(errors_text, r"const STATUS_NAMES\s*=\s*\[", NODE_ERRORS, "]")
    names = re.findall(r"'(\w+)'", block)
    check_enum("node errors.js STATUS_NAMES", "dr_status", header,
               [(n, i) for i, n in enumerate(names)], errors)

    block = js_block(index_text, r"const COUNTERS\s*=\s*\[", NODE_INDEX, "]")
    names = re.findall(r"'(\w+)'", block)
    snake = [re.sub(r"([A-Z])", r"_\1", n).upper() for n in names]
    check_enum("node index.js COUNTERS", "dr_counter", header,
               [("DR_COUNTER_" + s, i) for i, s in enumerate(snake)], errors)

    m = re.search(r"const AGGREGATION\s*=\s*\{([^}]*)\}", index_text)
    if not m:
        raise DriftError(f"{NODE_INDEX}: const AGGREGATION = {{...}} not found")
    pairs = re.findall(r"(\w+)\s*:\s*(\d+)", m.group(1))
    check_enum("node index.js AGGREGATION", "dr_aggregation_mode", header,
               [("DR_AGGREGATION_" + k.upper(), int(v)) for k, v in pairs], errors)

    m = re.search(r"(?m)^const IMPORT_IDENTITY_LEN\s*=\s*(\d+)\s*;", index_text)
    if not m:
        raise DriftError(f"{NODE_INDEX}: const IMPORT_IDENTITY_LEN = <number>; not found")
    want = header.macros.get("DR_IMPORT_IDENTITY_LEN")
    if int(m.group(1)) != want:
        errors.append(f"node index.js IMPORT_IDENTITY_LEN is {m.group(1)}, the header's "
                      f"DR_IMPORT_IDENTITY_LEN is {want}")


# ---- documentation ------------------------------------------------------------------

def check_docs(header: Header, errors: List[str]) -> None:
    major = header.macros.get("DR_VERSION_MAJOR")
    minor = header.macros.get("DR_VERSION_MINOR")
    codes = {n for n, _ in header.enums.get("dr_status", [])}
    for fn in header.functions.values():
        where = f"{HEADER}:{fn.line}: {fn.name}"
        if not fn.doc:
            errors.append(f"{where}: no /** ... */ comment right before the declaration")
            continue
        since = re.findall(r"@since\s+(\d+)\.(\d+)(?:\.(\d+))?", fn.doc)
        if len(since) != 1:
            errors.append(f"{where}: needs exactly one @since MAJOR.MINOR")
        elif int(since[0][0]) != major or int(since[0][1]) > minor:
            errors.append(f"{where}: @since {'.'.join(x for x in since[0] if x)} is not a "
                          f"release up to {major}.{minor}")
        documented = re.findall(r"@param\s+(\w+)", fn.doc)
        for pname, _ in fn.params:
            if pname not in documented:
                errors.append(f"{where}: parameter {pname} has no @param")
        for pname in documented:
            if pname not in [p for p, _ in fn.params]:
                errors.append(f"{where}: @param {pname} is not a parameter")
        if fn.ret == "enum:dr_status":
            m = re.search(r"@return(.*?)(?=@since|@param|\*/)", fn.doc, re.S)
            if not m or "DR_OK" not in m.group(1):
                errors.append(f"{where}: returns dr_status: needs @return listing DR_OK and "
                              f"its DR_E_* codes")
        for code in re.findall(r"\bDR_E_\w+", fn.doc):
            if code not in codes:
                errors.append(f"{where}: names {code}, which dr_status does not have")


# ---- driver -------------------------------------------------------------------------

def check(root: str, docs: bool = False) -> List[str]:
    """Every mismatch found under `root`, as messages; [] when the bindings agree."""
    errors: List[str] = []
    header = parse_header(read(root, HEADER))
    if docs:
        check_docs(header, errors)
        return errors
    check_python_functions(read(root, PY_LIB), header, errors)
    check_python_enums(read(root, PY_ERRORS), read(root, PY_CLIENT), header, errors)
    check_node_functions(read(root, NODE_NATIVE), header, errors)
    check_node_enums(read(root, NODE_ERRORS), read(root, NODE_INDEX), header, errors)
    return errors


# (file, text to find exactly once, replacement, a word the failure must name)
MUTATIONS = [
    (PY_LIB, '"dr_stats_count": (c_uint64, [c_void_p, c_int32])',
     '"dr_stats_count": (c_uint64, [c_void_p])', "dr_stats_count"),
    (PY_LIB, '"dr_config_set_global_shards": (_c_status, [c_void_p, c_uint32])',
     '"dr_config_set_global_shards": (_c_status, [c_void_p, c_uint64])',
     "dr_config_set_global_shards"),
    (PY_LIB, '"dr_dashboard_author_name": (c_char_p, [c_void_p, c_size_t])',
     '"dr_dashboard_author_name": (c_char_p, [c_void_p, c_int32])', "dr_dashboard_author_name"),
    (PY_LIB, '"dr_stats_average": (c_double, [c_void_p])',
     '"dr_stats_average": (c_uint64, [c_void_p])', "dr_stats_average"),
    (PY_LIB, '"dr_config_new": (_c_status, [POINTER(c_void_p)])',
     '"dr_config_new": (_c_status, [c_void_p])', "dr_config_new"),
    (PY_LIB, '"dr_client_read_stats": (_c_status, [c_void_p, c_char_p, POINTER(c_void_p)])',
     '"dr_client_read_stats": (_c_status, [c_void_p, c_size_t, POINTER(c_void_p)])',
     "dr_client_read_stats"),
    (PY_LIB, 'LOG_FN = ctypes.CFUNCTYPE(None, c_int32, c_char_p, c_void_p)',
     'LOG_FN = ctypes.CFUNCTYPE(None, c_int32, c_char_p)', "dr_config_set_log"),
    (PY_LIB, '    "dr_version": (c_char_p, []),',
     '    "dr_version": (c_char_p, []),\n    "dr_stats_median": (c_double, [c_void_p]),',
     "dr_stats_median"),
    (PY_LIB, '    "dr_rating_set_mode": (_c_status, [c_void_p, c_char_p]),\n', '',
     "dr_rating_set_mode"),
    (PY_LIB, '"dr_import_identity": (_c_status, [c_char_p, c_char_p, c_size_t, c_char_p])',
     '"dr_import_identity": (_c_status, [c_char_p, c_char_p, c_uint32, c_char_p])',
     "dr_import_identity"),
    (PY_LIB, '    "dr_rating_set_submitted_at": (_c_status, [c_void_p, c_char_p]),\n', '',
     "dr_rating_set_submitted_at"),
    (PY_ERRORS, "    THROTTLED = 9\n", "    THROTTLED = 10\n", "DR_E_THROTTLED"),
    (PY_ERRORS, "    INTERNAL = 21\n", "", "DR_E_INTERNAL"),
    (PY_CLIENT, '    "retries",\n    "bytes_sent",\n', '    "bytes_sent",\n    "retries",\n',
     "dr_counter"),
    (PY_CLIENT, "_IMPORT_IDENTITY_LEN = 69\n", "_IMPORT_IDENTITY_LEN = 64\n",
     "DR_IMPORT_IDENTITY_LEN"),
    (PY_CLIENT, '_AGGREGATION_MODES = {"inline": 0, "stream": 1}',
     '_AGGREGATION_MODES = {"inline": 0, "stream": 2}', "DR_AGGREGATION_STREAM"),
    (PY_CLIENT, "_LOG_LEVELS = {1: logging.ERROR, 2: logging.WARNING,",
     "_LOG_LEVELS = {1: logging.ERROR, 3: logging.WARNING,", "DR_LOG_WARN"),
    (NODE_NATIVE, "dr_client_apply_stream_batch: ['int', ['pointer', 'string', 'size', 'out']],",
     "dr_client_apply_stream_batch: ['int', ['pointer', 'string', 'out']],",
     "dr_client_apply_stream_batch"),
    (NODE_NATIVE, "dr_config_set_max_attempts: ['int', ['pointer', 'uint32']],",
     "dr_config_set_max_attempts: ['int', ['pointer', 'size']],", "dr_config_set_max_attempts"),
    (NODE_NATIVE, "dr_client_create_tables: ['int', ['pointer', 'uint32']],",
     "dr_client_create_tables: ['int', ['pointer', 'pointer']],", "dr_client_create_tables"),
    (NODE_NATIVE, "dr_batch_result_applied: ['size', ['pointer']],",
     "dr_batch_result_applied: ['int', ['pointer']],", "dr_batch_result_applied"),
    (NODE_NATIVE, "dr_client_new: ['int', ['out', 'pointer']],",
     "dr_client_new: ['int', ['pointer', 'pointer']],", "dr_client_new"),
    (NODE_NATIVE, "dr_free: ['void', ['pointer']],",
     "dr_free: ['void', ['pointer']],\n  dr_client_close: ['int', ['pointer']],",
     "dr_client_close"),
    (NODE_NATIVE, "dr_import_identity: ['int', ['string', 'string', 'size', 'pointer']],",
     "dr_import_identity: ['int', ['string', 'string', 'uint32', 'pointer']],",
     "dr_import_identity"),
    (NODE_NATIVE, "  dr_rating_set_submitted_at: ['int', ['pointer', 'string']],\n", "",
     "dr_rating_set_submitted_at"),
    (NODE_NATIVE, "size: 'uint64',", "size: 'uint32',", "FFI_TYPE"),
    (NODE_ERRORS, "'DR_E_RETRY_QUOTA', 'DR_E_CLOSED'", "'DR_E_CLOSED', 'DR_E_RETRY_QUOTA'",
     "dr_status"),
    (NODE_ERRORS, "'DR_E_IN_USE', 'DR_E_RETRY_QUOTA', 'DR_E_CLOSED', 'DR_E_INTERNAL',",
     "'DR_E_IN_USE', 'DR_E_RETRY_QUOTA', 'DR_E_CLOSED',", "DR_E_INTERNAL"),
    (NODE_INDEX, "const IMPORT_IDENTITY_LEN = 69;", "const IMPORT_IDENTITY_LEN = 70;",
     "DR_IMPORT_IDENTITY_LEN"),
    (NODE_INDEX, "const AGGREGATION = { inline: 0, stream: 1 };",
     "const AGGREGATION = { inline: 0, stream: 3 };", "DR_AGGREGATION_STREAM"),
    (NODE_INDEX, "'errorsClient', 'transactionConflicts',", "'errorsClient',",
     "DR_COUNTER_TRANSACTION_CONFLICTS"),
]


# The same for the documentation check (--docs), on a copy of the header.
DOC_MUTATIONS = [
    (HEADER, "/** The run-time version as DR_VERSION_NUM would spell it; never fails.  @since 1.0 */",
     "/** The run-time version as DR_VERSION_NUM would spell it; never fails. */",
     "dr_version_num"),
    (HEADER, " * @param star 1..5; any other value gives 0.  @since 1.0\n */\n"
             "DR_API uint64_t dr_stats_count(",
     " * @since 1.0\n */\nDR_API uint64_t dr_stats_count(", "star"),
    (HEADER, " * @return DR_OK, DR_E_INVALID_ARGUMENT (`config` NULL).  @since 1.0\n */\n"
             "DR_API dr_status dr_config_set_connect_timeout_ms(",
     " * @since 1.0\n */\nDR_API dr_status dr_config_set_connect_timeout_ms(",
     "dr_config_set_connect_timeout_ms"),
]


def self_test(root: str) -> List[str]:
    """Each mutation of a copy of the bindings must make check() fail, naming the change."""
    problems: List[str] = []
    with tempfile.TemporaryDirectory(prefix="binding-drift.") as tmp:
        def fresh() -> None:
            for rel in FILES:
                os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
                shutil.copyfile(os.path.join(root, rel), os.path.join(tmp, rel))
        fresh()
        base = check(tmp)
        if base:
            problems.append("the unmutated copy already fails:\n  " + "\n  ".join(base))
        base = check(tmp, docs=True)
        if base:
            problems.append("the unmutated header already fails --docs:\n  " + "\n  ".join(base))
        for rel, old, new, word, docs in [m + (False,) for m in MUTATIONS] + \
                [m + (True,) for m in DOC_MUTATIONS]:
            fresh()
            path = os.path.join(tmp, rel)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if text.count(old) != 1:
                problems.append(f"mutation of {rel}: {old!r} occurs {text.count(old)} times, "
                                f"not once: update MUTATIONS in binding-drift.py")
                continue
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new))
            try:
                found = check(tmp, docs=docs)
            except DriftError as exc:
                found = [str(exc)]
            if not found:
                problems.append(f"NOT CAUGHT: {rel}: {old.strip()!r} -> {new.strip()!r}")
            elif not any(word in e for e in found):
                problems.append(f"caught, but no message names {word}: {rel}: "
                                f"{old.strip()!r} -> {new.strip()!r}: {found}")
            else:
                print(f"caught: {rel}: {[e for e in found if word in e][0]}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "..", ".."))
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--docs", action="store_true", help="check the header's documentation")
    mode.add_argument("--self-test", action="store_true", help="prove that drift is caught")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    try:
        if args.self_test:
            problems = self_test(root)
            if problems:
                print("binding-drift self-test FAILED:\n" + "\n".join(problems), file=sys.stderr)
                return 1
            print(f"binding-drift self-test: all {len(MUTATIONS)} binding and "
                  f"{len(DOC_MUTATIONS)} documentation mutations caught")
            return 0
        errors = check(root, docs=args.docs)
    except DriftError as exc:
        print(f"binding-drift: {exc}", file=sys.stderr)
        return 2
    what = "header documentation" if args.docs else "bindings against the header"
    if errors:
        print(f"binding-drift: {what}: {len(errors)} problem(s):", file=sys.stderr)
        for e in errors:
            print(f"  {e}", file=sys.stderr)
        return 1
    header = parse_header(read(root, HEADER))
    print(f"binding-drift: {what}: OK ({len(header.functions)} DR_API functions, "
          f"{len(header.enums)} enums)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
