// terraform/ against the C code: the tables terraform creates must be the tables the
// library creates, the Lambda must be given the names the library reads, and the role
// must allow exactly the DynamoDB actions the aggregator's code sends. No terraform, no
// provider, no AWS: the .tf files are parsed with @cdktf/hcl2json (HCL to JSON, the
// hcl2json Go program compiled to WASM) and the expected values come from the C source.
//
// Usage: node check.cjs <tf_tables_dump> <repository root>
//
// Where each expected value comes from:
//  - tables: tf_tables_dump (tests/terraform/tf_tables_dump.c) runs the library's own
//    dr_client_create_tables() with the DynamoDB call replaced by a recorder, and prints
//    every request: CreateTable x2, DescribeTable, UpdateTimeToLive. Names, key schema,
//    attribute types, indexes, projections, billing mode, stream and TTL are compared.
//  - table names: run once without DYNAMODB_* (the library's defaults must equal the
//    .tf defaults) and once with the Lambda's environment variables set to marker values
//    (the library must pick each table's name up from the variable terraform gives it).
//  - IAM: the DynamoDB operations the aggregator sends are read from the C source: every
//    function reachable from its entry points (the Lambda bootstrap, a C file that uses
//    AWS_LAMBDA_RUNTIME_API, or else dr_client_apply_stream_batch) through calls of
//    functions defined in src/, collecting the operation names passed to dr__ddb_call()
//    and dr__ddb_call_service(). TransactWriteItems has no IAM action of its own: each
//    item is authorised as its underlying operation (Put -> dynamodb:PutItem, Update ->
//    dynamodb:UpdateItem, Delete -> dynamodb:DeleteItem, ConditionCheck ->
//    dynamodb:ConditionCheckItem; "Using IAM with DynamoDB transactions" in the DynamoDB
//    developer guide), so the item kinds the reachable code builds are collected too.
//    Calls through function pointers are not followed: the aggregator has none today.
//  - formatting: every .tf file must be unchanged by hclwrite.Format (@cdktf/hcl-tools),
//    the formatter `terraform fmt` is built on.
// Node tools: $DR_NODE_TOOLS_DIR, else $DR_CACHE_DIR/node-tools, else
// ~/.cache/dadratings/node-tools (scripts/setup.sh installs them there).
"use strict";
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const failures = [];
let passed = 0;
function check(ok, what, detail) {
  if (ok) {
    passed++;
    console.log(`ok      ${what}`);
  } else {
    failures.push(what);
    console.log(`FAIL    ${what}${detail ? `\n        ${detail}` : ""}`);
  }
  return ok;
}
// expectedFrom: where the expected value comes from, for the message.
function same(actual, expected, what, expectedFrom = "the C code has") {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  return check(a === e, what, `terraform has ${a}, ${expectedFrom} ${e}`);
}
const REQUIRED = "it must be";
function fatal(message) {
  console.log(`FAIL    ${message}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}

// --- node tools -------------------------------------------------------------------------
function loadTools() {
  const dir =
    process.env.DR_NODE_TOOLS_DIR ||
    path.join(
      process.env.DR_CACHE_DIR || path.join(os.homedir(), ".cache", "dadratings"),
      "node-tools",
    );
  const modules = path.join(dir, "node_modules");
  try {
    return {
      hcl2json: require(path.join(modules, "@cdktf", "hcl2json")),
      hclTools: require(path.join(modules, "@cdktf", "hcl-tools")),
    };
  } catch (e) {
    fatal(
      `@cdktf/hcl2json and @cdktf/hcl-tools not found in ${modules} (${e.code || e.message})` +
        ". Run scripts/setup.sh (it installs them into $DR_CACHE_DIR/node-tools).",
    );
  }
}

// --- terraform: parse, merge, evaluate the few expressions used -------------------------
async function loadTerraform(dir, tools) {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".tf"))
    .sort();
  if (files.length === 0) fatal(`no .tf files in ${dir}`);
  const tf = { resource: {}, data: {}, variable: {}, locals: {}, output: {} };
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), "utf8");
    let json;
    try {
      json = await tools.hcl2json.parse(f, text);
    } catch (e) {
      fatal(`terraform/${f} does not parse as HCL: ${e.message || e}`);
    }
    const formatted = await tools.hclTools.format(text);
    let line = 0;
    if (formatted !== text) {
      const a = text.split("\n");
      const b = formatted.split("\n");
      while (line < a.length && a[line] === b[line]) line++;
    }
    check(
      formatted === text,
      `terraform/${f} is in terraform fmt style`,
      `line ${line + 1} is ${JSON.stringify(text.split("\n")[line])}, ` +
        `the formatter makes it ${JSON.stringify(formatted.split("\n")[line])}`,
    );
    for (const kind of ["resource", "data"]) {
      for (const [type, byName] of Object.entries(json[kind] || {})) {
        tf[kind][type] = tf[kind][type] || {};
        for (const [name, blocks] of Object.entries(byName)) {
          if (tf[kind][type][name]) fatal(`${kind} ${type}.${name} is defined twice`);
          tf[kind][type][name] = blocks[0];
        }
      }
    }
    for (const [name, blocks] of Object.entries(json.variable || {})) tf.variable[name] = blocks[0];
    for (const [name, blocks] of Object.entries(json.output || {})) tf.output[name] = blocks[0];
    for (const block of json.locals || []) Object.assign(tf.locals, block);
  }
  return tf;
}

// Index of the '}' closing the '${' at s[start], skipping nested braces and strings.
function closeInterpolation(s, start) {
  let depth = 0;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === "\\") i++;
    } else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i;
  }
  throw new Error(`unbalanced interpolation in ${s}`);
}

function splitArgs(s) {
  const out = [];
  let depth = 0,
    cur = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) if (s[j] === "\\") j++;
      cur += s.slice(i, j + 1);
      i = j;
      continue;
    }
    if ("([{".includes(c)) depth++;
    if (")]}".includes(c)) depth--;
    if (c === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

// Values as `terraform plan` would see them with every variable at its default. A
// reference to another resource's computed attribute (an ARN) stays symbolic: "${ref}".
function makeEvaluator(tf) {
  function evalTemplate(s) {
    if (typeof s !== "string") return s;
    const whole = s.startsWith("${") && closeInterpolation(s, 1) === s.length - 1;
    if (whole) return evalExpr(s.slice(2, -1));
    let out = "";
    for (let i = 0; i < s.length; i++) {
      if (s[i] === "$" && s[i + 1] === "{") {
        const end = closeInterpolation(s, i + 1);
        const v = evalExpr(s.slice(i + 2, end));
        out += typeof v === "string" ? v : JSON.stringify(v);
        i = end;
      } else out += s[i];
    }
    return out;
  }
  function evalExpr(e) {
    e = e.trim();
    let m;
    if ((m = /^var\.(\w+)$/.exec(e))) {
      const v = tf.variable[m[1]];
      if (!v) throw new Error(`undeclared variable var.${m[1]}`);
      return v.default === undefined ? null : v.default;
    }
    if ((m = /^local\.(\w+)$/.exec(e))) {
      if (!(m[1] in tf.locals)) throw new Error(`undefined local.${m[1]}`);
      return evalTemplate(tf.locals[m[1]]);
    }
    if (e === "path.module") return ".";
    if (e === "null") return null;
    if (e === "true" || e === "false") return e === "true";
    if (/^-?\d+(\.\d+)?$/.test(e)) return Number(e);
    if ((m = /^"(.*)"$/s.exec(e))) return evalTemplate(m[1].replace(/\\"/g, '"'));
    if ((m = /^(\w+)\((.*)\)$/s.exec(e))) {
      const args = splitArgs(m[2]).map(evalExpr);
      if (m[1] === "coalesce") return args.find((a) => a !== null && a !== "") ?? null;
      if (m[1] === "tostring") return String(args[0]);
      return `\${${e}}`; // any other function: kept symbolic
    }
    if ((m = /^(aws_\w+)\.(\w+)\.(\w+)$/.exec(e))) {
      const res = (tf.resource[m[1]] || {})[m[2]];
      if (!res) throw new Error(`reference to undefined resource ${m[1]}.${m[2]}`);
      if (m[3] in res) return evalTemplate(res[m[3]]);
      return `\${${e}}`;
    }
    if ((m = /^data\.(\w+)\.(\w+)\.(\w+)$/.exec(e))) {
      if (!(tf.data[m[1]] || {})[m[2]])
        throw new Error(`reference to undefined data.${m[1]}.${m[2]}`);
      return `\${${e}}`;
    }
    return `\${${e}}`;
  }
  return evalTemplate;
}

// Whether `value` (an attribute: a literal or "${var.NAME}") can be given `n`: a literal
// only if it is n; a variable if every validation condition holds for n. Conditions are
// evaluated only when they are plain arithmetic and comparisons of var.NAME (and
// floor()); anything else gives null (the check then fails: it cannot tell).
function admits(tf, value, n) {
  const ref = /^\$\{var\.(\w+)\}$/.exec(typeof value === "string" ? value : "");
  if (!ref) return value === n;
  const v = tf.variable[ref[1]];
  if (!v) return null;
  for (const { condition } of v.validation || []) {
    const body = /^\$\{([\s\S]*)\}$/.exec(condition || "");
    if (!body) return null;
    const expr = body[1]
      .split(`var.${ref[1]}`)
      .join(`(${n})`)
      .replace(/\bfloor\(/g, "Math.floor(");
    if (!/^[\s\d().<>=!&|+\-*/]*$/.test(expr.replace(/Math\.floor/g, ""))) return null;
    if (!Function(`"use strict"; return (${expr});`)()) return false;
  }
  return true;
}

// --- the C side: what create_tables sends ---------------------------------------------
function runDump(dumpBin, extraEnv) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(DYNAMODB_|AWS_)/.test(k)) delete env[k];
  env.AWS_EC2_METADATA_DISABLED = "true";
  Object.assign(env, extraEnv);
  let out;
  try {
    out = execFileSync(dumpBin, [], {
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
  } catch (e) {
    fatal(`${dumpBin} failed (${e.status ?? e.message}) with ${JSON.stringify(extraEnv)}`);
  }
  return JSON.parse(out);
}

function checkTable(label, tfTable, resAddr, request, ttlCalls, evalT) {
  const where = `${resAddr} vs create_tables' ${label} table`;
  const keyOf = (schema, type) => (schema.find((k) => k.KeyType === type) || {}).AttributeName;

  same(tfTable.billing_mode, request.BillingMode, `${where}: billing mode`);
  same(
    [tfTable.hash_key, tfTable.range_key ?? null],
    [keyOf(request.KeySchema, "HASH"), keyOf(request.KeySchema, "RANGE") ?? null],
    `${where}: key schema (hash_key, range_key)`,
  );

  const tfAttrs = Object.fromEntries((tfTable.attribute || []).map((a) => [a.name, a.type]));
  const cAttrs = Object.fromEntries(
    request.AttributeDefinitions.map((a) => [a.AttributeName, a.AttributeType]),
  );
  const sortObj = (o) => Object.fromEntries(Object.entries(o).sort());
  same(sortObj(tfAttrs), sortObj(cAttrs), `${where}: attribute names and types`);

  const tfIdx = {};
  for (const g of tfTable.global_secondary_index || []) {
    tfIdx[g.name] = {
      hash: g.hash_key,
      range: g.range_key ?? null,
      projection: g.projection_type,
      non_key: (g.non_key_attributes || []).slice().sort(),
    };
  }
  const cIdx = {};
  for (const g of request.GlobalSecondaryIndexes || []) {
    cIdx[g.IndexName] = {
      hash: keyOf(g.KeySchema, "HASH"),
      range: keyOf(g.KeySchema, "RANGE") ?? null,
      projection: g.Projection.ProjectionType,
      non_key: (g.Projection.NonKeyAttributes || []).slice().sort(),
    };
  }
  same(
    Object.keys(tfIdx).sort(),
    Object.keys(cIdx).sort(),
    `${where}: global secondary index names`,
  );
  for (const name of Object.keys(cIdx).filter((n) => n in tfIdx)) {
    same(tfIdx[name], cIdx[name], `${where}: index ${name} keys and projection`);
    for (const key of [cIdx[name].hash, cIdx[name].range].filter(Boolean)) {
      check(key in tfAttrs, `${where}: index ${name} key ${key} has an attribute block`);
    }
  }
  same(
    (tfTable.local_secondary_index || []).length,
    (request.LocalSecondaryIndexes || []).length,
    `${where}: local secondary indexes`,
  );

  const cStream = request.StreamSpecification || { StreamEnabled: false };
  same(
    {
      enabled: evalT(tfTable.stream_enabled) === true,
      view: evalT(tfTable.stream_view_type) ?? null,
    },
    { enabled: cStream.StreamEnabled === true, view: cStream.StreamViewType ?? null },
    `${where}: stream`,
  );

  const tfTtl = (tfTable.ttl || [])[0];
  const cTtl = ttlCalls.find((t) => t.TableName === request.TableName);
  same(
    tfTtl && evalT(tfTtl.enabled) ? tfTtl.attribute_name : null,
    cTtl && cTtl.TimeToLiveSpecification.Enabled
      ? cTtl.TimeToLiveSpecification.AttributeName
      : null,
    `${where}: TTL attribute`,
  );

  // Not part of CreateTable, required of the terraform: recovery and encryption.
  check(
    evalT(((tfTable.point_in_time_recovery || [])[0] || {}).enabled) === true,
    `${resAddr}: point-in-time recovery enabled`,
  );
  check(
    evalT(((tfTable.server_side_encryption || [])[0] || {}).enabled) === true,
    `${resAddr}: server-side encryption with a KMS key enabled`,
  );
}

// --- the C side: which DynamoDB operations the aggregator sends -------------------------

// Top-level function definitions of a C file: [{file, name, isStatic, body}].
function stripComments(text) {
  // comments to spaces; string and char literals kept
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      for (; j < text.length && text[j] !== c && text[j] !== "\n"; j++) if (text[j] === "\\") j++;
      out += text.slice(i, j + 1);
      i = j;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop - 1;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i + 1 < text.length && text[i + 1] !== "\n") i++;
    } else out += c;
  }
  return out;
}

function cFunctions(file) {
  const src = stripComments(fs.readFileSync(file, "utf8"));
  const fns = [];
  let depth = 0,
    start = -1,
    header = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'") {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === "\\") i++;
      continue;
    }
    if (c === "#" && depth === 0) {
      // preprocessor line (with continuations)
      while (i < src.length && !(src[i] === "\n" && src[i - 1] !== "\\")) i++;
      header = i + 1;
      continue;
    }
    if (c === "{" && depth++ === 0) start = i;
    else if (c === "}" && --depth === 0) {
      const head = src.slice(header, start);
      const m = /(\w+)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*$/.exec(head);
      if (m && !/=\s*$/.test(head.slice(0, m.index))) {
        fns.push({
          file,
          name: m[1],
          isStatic: /\bstatic\b/.test(head.slice(0, m.index)),
          body: src.slice(start, i + 1),
        });
      }
      header = i + 1;
    } else if (c === ";" && depth === 0) header = i + 1;
  }
  return fns;
}

function callArgs(body, at) {
  // the argument list of the call whose '(' is at body[at]
  let depth = 0;
  for (let i = at; i < body.length; i++) {
    const c = body[i];
    if (c === '"') {
      for (i++; i < body.length && body[i] !== '"'; i++) if (body[i] === "\\") i++;
    } else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return splitArgs(body.slice(at + 1, i));
  }
  return [];
}

const literals = (s) => [...s.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);

// C files of the repository outside tests/, build trees and hidden folders.
function cFilesUnder(dir, top = true, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (
      e.name.startsWith(".") ||
      e.name === "node_modules" ||
      (top && /^(build|tests$)/.test(e.name))
    )
      continue;
    const p = path.join(dir, e.name);
    const st = e.isSymbolicLink() ? fs.statSync(p, { throwIfNoEntry: false }) : e;
    if (!st) continue;
    if (st.isDirectory()) cFilesUnder(p, false, out);
    else if (st.isFile() && e.name.endsWith(".c")) out.push(p);
  }
  return out;
}

// The TransactWriteItems item kinds and what IAM calls them.
const TX_ITEM_ACTIONS = {
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  ConditionCheck: "ConditionCheckItem",
};
const STREAM_OPS = ["DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"];
// Functions that only hold the table names (resolve, copy, free) and send nothing.
const holdsNamesOnly = (name) =>
  ["dr_client_new", "dr_client_free", "dr__resolve_table"].includes(name) || /^dr_config_/.test(name);
// Only used when the aggregator's source is missing: what it sends (src/stream/aggregate.c): a
// GetItem of a joke's stats, then one TransactWriteItems per record with Update items
// (the counters) and a conditional Put (the exactly-once marker).
const PLANNED_AGGREGATOR_ACTIONS = ["GetItem", "PutItem", "UpdateItem"];

// The library's C files, and the Lambda bootstrap's: any C file outside tests/ that talks
// to the Lambda Runtime API.
function cSources(root) {
  const src = cFilesUnder(path.join(root, "src"), false);
  const bootstrap = cFilesUnder(root).filter((f) =>
    fs.readFileSync(f, "utf8").includes("AWS_LAMBDA_RUNTIME_API"),
  );
  return { src, bootstrap };
}

function aggregatorActions(root) {
  const { src: srcFiles, bootstrap } = cSources(root);
  const files = [...new Set([...srcFiles, ...bootstrap])];
  const fns = files.flatMap(cFunctions);
  const rel = (f) => path.relative(root, f);

  // The bootstrap's functions, or without one the aggregator's entry point; either way
  // the aggregator itself must be there, or there is nothing to derive from.
  const entry = fns.filter((f) => f.name === "dr_client_apply_stream_batch" && !f.isStatic);
  let roots = fns.filter((f) => bootstrap.includes(f.file));
  let rootsWhat = `the Lambda bootstrap (${bootstrap.map(rel).join(", ")})`;
  if (roots.length === 0) {
    roots = entry;
    rootsWhat = "dr_client_apply_stream_batch (no Lambda bootstrap source yet)";
  }
  if (entry.length === 0) {
    console.log(
      "NOTE    the aggregator is not in the source yet (src/ defines no" +
        " dr_client_apply_stream_batch): the role is checked against the planned actions" +
        ` ${PLANNED_AGGREGATOR_ACTIONS.join(", ")}; derived from the code once it lands.`,
    );
    return { actions: PLANNED_AGGREGATOR_ACTIONS, streamOps: [], errors: [], derived: false };
  }

  const lookup = (name, fromFile) => {
    const local = fns.filter((f) => f.name === name && f.file === fromFile);
    return local.length ? local : fns.filter((f) => f.name === name && !f.isStatic);
  };
  const seen = new Set();
  const queue = [...roots];
  const ops = new Map(); // operation -> first function sending it
  const kinds = new Set();
  const errors = [];
  while (queue.length) {
    const fn = queue.pop();
    const id = `${fn.file}:${fn.name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const m of fn.body.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) {
      const callee = m[1];
      if (callee === "dr__ddb_call" || callee === "dr__ddb_call_service") {
        const args = callArgs(fn.body, m.index + m[0].length - 1);
        const opArg = args[callee === "dr__ddb_call" ? 1 : 2] || "";
        const names = literals(opArg);
        if (names.length === 0) {
          errors.push(
            `${fn.name} (${rel(fn.file)}) calls ${callee} with operation ` +
              `${JSON.stringify(opArg)}: not a string literal, so the check cannot tell which`,
          );
        }
        for (const op of names) if (!ops.has(op)) ops.set(op, fn.name);
      } else {
        queue.push(...lookup(callee, fn.file));
      }
    }
    // A function handed on by name (a transaction builder given to dr__transact) runs as
    // if it were called here.
    for (const m of fn.body.matchAll(/\b([A-Za-z_]\w*)\b(?!\s*\()/g))
      queue.push(...lookup(m[1], fn.file));
    for (const lit of literals(fn.body)) if (lit in TX_ITEM_ACTIONS) kinds.add(lit);
    if (/\bratings_table\b/.test(fn.body) && !holdsNamesOnly(fn.name)) {
      errors.push(
        `${fn.name} (${rel(fn.file)}) uses the ratings table, on which the role ` +
          "grants nothing: give the role exactly what it needs there, or keep the aggregator " +
          "off that table",
      );
    }
  }

  const actions = new Set();
  const streamOps = [];
  for (const [op, fn] of ops) {
    if (STREAM_OPS.includes(op)) streamOps.push(op);
    else if (op === "TransactWriteItems") {
      if (kinds.size === 0)
        errors.push(
          `${fn} sends TransactWriteItems but no Put/Update/Delete/ConditionCheck item was found`,
        );
      for (const k of kinds) actions.add(TX_ITEM_ACTIONS[k]);
    } else if (op === "TransactGetItems") actions.add("GetItem");
    else actions.add(op);
  }
  const sent = [...ops]
    .sort()
    .map(([op, fn]) => `${op} (${fn})`)
    .join(", ");
  console.log(
    `NOTE    aggregator operations derived from ${rootsWhat} through ${seen.size} ` +
      `reachable functions: ${sent || "(none)"}; transaction items: ` +
      `${[...kinds].sort().join(", ") || "(none)"}`,
  );
  return { actions: [...actions].sort(), streamOps: streamOps.sort(), errors, derived: true };
}

// --- IAM ------------------------------------------------------------------------------
// The grants of a policy document as "action on resource" strings.
function grants(doc, evalT, what) {
  const out = [];
  for (const st of doc.statement || []) {
    const sid = st.sid || "(no sid)";
    check(
      (st.effect ?? "Allow") === "Allow",
      `${what} ${sid}: Allow only (no Deny to reason about)`,
    );
    check(
      !st.not_actions && !st.not_resources && !st.condition,
      `${what} ${sid}: no not_actions, not_resources or conditions`,
    );
    const resources = (st.resources || []).map(evalT);
    for (const action of st.actions || []) {
      check(!action.includes("*"), `${what} ${sid}: action ${action} is not a wildcard`);
      for (const r of resources) out.push(`${action} on ${r}`);
    }
    for (const r of resources) check(r !== "*", `${what} ${sid}: resource is not "*"`);
  }
  return out.sort();
}

async function main() {
  const [dumpBin, root] = process.argv.slice(2);
  if (!dumpBin || !root) fatal("usage: node check.cjs <tf_tables_dump> <repository root>");
  const tools = loadTools();
  const tf = await loadTerraform(path.join(root, "terraform"), tools);
  const evalT = makeEvaluator(tf);
  const res = (type) => tf.resource[type] || {};
  const one = (type) => {
    const names = Object.keys(res(type));
    if (names.length !== 1) fatal(`expected exactly one ${type}, found ${names.length}`);
    return [`${type}.${names[0]}`, res(type)[names[0]]];
  };

  // Tables ------------------------------------------------------------------------------
  const dump = runDump(dumpBin, {});
  const creates = dump.calls.filter((c) => c.operation === "CreateTable").map((c) => c.request);
  const ttlCalls = dump.calls
    .filter((c) => c.operation === "UpdateTimeToLive")
    .map((c) => c.request);
  const byName = {};
  for (const [name, t] of Object.entries(res("aws_dynamodb_table")))
    byName[evalT(t.name)] = [name, t];
  same(
    Object.keys(byName).sort(),
    creates.map((r) => r.TableName).sort(),
    "table names with every variable at its default (environment = prod)",
  );
  const tableRes = {};
  for (const [label, cName] of [
    ["ratings", dump.ratings_table],
    ["stats", dump.stats_table],
  ]) {
    const request = creates.find((r) => r.TableName === cName);
    if (!request) fatal(`create_tables sent no CreateTable for ${cName}`);
    if (!byName[cName]) {
      check(false, `terraform defines the ${label} table ${cName}`);
      continue;
    }
    const [resName, t] = byName[cName];
    tableRes[label] = resName;
    checkTable(label, t, `aws_dynamodb_table.${resName}`, request, ttlCalls, evalT);
  }
  if (!tableRes.ratings || !tableRes.stats) fatal("cannot go on without both tables");
  const tableRef = (label, attr) => `\${aws_dynamodb_table.${tableRes[label]}.${attr}}`;

  // The Lambda ---------------------------------------------------------------------------
  const [fnAddr, fn] = one("aws_lambda_function");
  same(
    [fn.runtime, fn.handler],
    ["provided.al2023", "bootstrap"],
    `${fnAddr}: custom runtime`,
    REQUIRED,
  );
  // The architecture is the zip's, which terraform cannot know: a variable that admits
  // exactly the two Lambda offers.
  const archVar = /^\$\{var\.(\w+)\}$/.exec((fn.architectures || [])[0] || "");
  const archRule =
    archVar &&
    tf.variable[archVar[1]] &&
    ((tf.variable[archVar[1]].validation || [])[0] || {}).condition;
  check(
    (fn.architectures || []).length === 1 &&
      /contains\(\["arm64", "x86_64"\], var\.\w+\)/.test(archRule || ""),
    `${fnAddr}: one architecture, from a variable allowing arm64 and x86_64 only`,
    `architectures = ${JSON.stringify(fn.architectures)}, validation ${JSON.stringify(archRule)}`,
  );
  check(
    fn.filename && fn.source_code_hash === `\${filebase64sha256(${fn.filename.slice(2, -1)})}`,
    `${fnAddr}: source_code_hash is the hash of the deployed file`,
    `filename ${fn.filename}, source_code_hash ${fn.source_code_hash}`,
  );
  check(
    /build\/lambda\/bootstrap\.zip$/.test(evalT(fn.filename)),
    `${fnAddr}: default package is build/lambda/bootstrap.zip (the lambda_zip target)`,
    `it is ${evalT(fn.filename)}`,
  );
  const envVars = ((fn.environment || [])[0] || {}).variables || {};
  const envFor = (label) =>
    Object.keys(envVars).filter((k) => envVars[k] === tableRef(label, "name"));
  const markers = Object.fromEntries(Object.keys(envVars).map((k) => [k, `tfcheck-${k}`]));
  const withEnv = runDump(dumpBin, markers);
  for (const label of ["ratings", "stats"]) {
    const vars = envFor(label);
    check(
      vars.length === 1,
      `${fnAddr}: one environment variable holds the ${label} table's name`,
      `found ${JSON.stringify(vars)}`,
    );
    same(
      vars.length === 1 ? markers[vars[0]] : null,
      withEnv[`${label}_table`],
      `${fnAddr}: the library reads the ${label} table name from ${vars[0]}`,
    );
  }
  // Every variable given to the Lambda must be one the library or the bootstrap reads: a
  // misspelt name would be silently ignored.
  const cText = [...cSources(root).src, ...cSources(root).bootstrap]
    .map((f) => fs.readFileSync(f, "utf8"))
    .join("\n");
  for (const k of Object.keys(envVars)) {
    check(
      cText.includes(`"${k}"`),
      `${fnAddr}: environment variable ${k} is read by the C code`,
      `no C source in src/ or the Lambda bootstrap mentions "${k}"`,
    );
  }
  const [lgAddr, lg] = one("aws_cloudwatch_log_group");
  same(
    evalT(lg.name),
    `/aws/lambda/${evalT(fn.function_name)}`,
    `${lgAddr}: the function's log group`,
    REQUIRED,
  );
  check(
    Number.isInteger(evalT(lg.retention_in_days)) && evalT(lg.retention_in_days) > 0,
    `${lgAddr}: logs expire`,
  );

  // The stream mapping ------------------------------------------------------------------
  const [esmAddr, esm] = one("aws_lambda_event_source_mapping");
  const [queueAddr, queue] = one("aws_sqs_queue");
  same(
    esm.event_source_arn,
    tableRef("ratings", "stream_arn"),
    `${esmAddr}: reads the ratings stream`,
    REQUIRED,
  );
  same(esm.function_name, `\${${fnAddr}.arn}`, `${esmAddr}: invokes the aggregator`, REQUIRED);
  same(
    esm.function_response_types,
    ["ReportBatchItemFailures"],
    `${esmAddr}: partial batch failures`,
    REQUIRED,
  );
  same(
    evalT(esm.bisect_batch_on_function_error),
    true,
    `${esmAddr}: bisects a failing batch`,
    REQUIRED,
  );
  const retries = evalT(esm.maximum_retry_attempts);
  const age = evalT(esm.maximum_record_age_in_seconds);
  check(
    Number.isInteger(retries) && retries >= 0 && retries <= 10000,
    `${esmAddr}: retries bounded`,
    `maximum_retry_attempts = ${retries}`,
  );
  check(
    Number.isInteger(age) && age >= 60 && age < 86400,
    `${esmAddr}: record age bounded below the stream's 24 h`,
    `maximum_record_age_in_seconds = ${age}`,
  );
  // No value terraform accepts may block a shard for good: -1 (Lambda's "forever") is
  // refused for both bounds, and a record age of 24 h or more (the stream's retention,
  // after which the record is gone, not sent to the failure queue) too.
  check(
    admits(tf, esm.maximum_retry_attempts, -1) === false,
    `${esmAddr}: maximum_retry_attempts can never be -1 (retry forever)`,
    `${esm.maximum_retry_attempts} admits -1, or its validation cannot be evaluated`,
  );
  for (const n of [-1, 86400]) {
    check(
      admits(tf, esm.maximum_record_age_in_seconds, n) === false,
      `${esmAddr}: maximum_record_age_in_seconds can never be ${n}`,
      `${esm.maximum_record_age_in_seconds} admits ${n}, or its validation cannot be evaluated`,
    );
  }
  check(
    admits(tf, esm.maximum_retry_attempts, retries) === true &&
      admits(tf, esm.maximum_record_age_in_seconds, age) === true,
    `${esmAddr}: the defaults pass their own validations`,
  );
  same(
    [evalT(esm.batch_size), evalT(esm.parallelization_factor)],
    [100, 2],
    `${esmAddr}: batch size and parallelization as the original terraform`,
    REQUIRED,
  );
  check(
    ["TRIM_HORIZON", "LATEST"].includes(esm.starting_position),
    `${esmAddr}: starting position`,
  );
  same(
    ((((esm.destination_config || [])[0] || {}).on_failure || [])[0] || {}).destination_arn,
    `\${${queueAddr}.arn}`,
    `${esmAddr}: failed batches go to ${queueAddr}`,
    REQUIRED,
  );
  same(
    evalT(queue.sqs_managed_sse_enabled) === true || !!queue.kms_master_key_id,
    true,
    `${queueAddr}: encrypted at rest`,
    REQUIRED,
  );

  // IAM ------------------------------------------------------------------------------------
  const [roleAddr, role] = one("aws_iam_role");
  const docs = tf.data.aws_iam_policy_document || {};
  const assumeRef = /^\$\{data\.aws_iam_policy_document\.(\w+)\.json\}$/.exec(
    role.assume_role_policy || "",
  );
  if (!assumeRef || !docs[assumeRef[1]])
    fatal(`${roleAddr}: assume_role_policy is not an aws_iam_policy_document`);
  const trust = docs[assumeRef[1]].statement || [];
  same(
    trust.map((s) => [s.actions, (s.principals || []).map((p) => [p.type, p.identifiers])]),
    [[["sts:AssumeRole"], [["Service", ["lambda.amazonaws.com"]]]]],
    `${roleAddr}: only Lambda may assume it`,
    REQUIRED,
  );
  check(
    Object.keys(res("aws_iam_role_policy_attachment")).length === 0 &&
      !role.managed_policy_arns &&
      !role.inline_policy,
    `${roleAddr}: no managed policies (they grant more than the aggregator uses)`,
  );
  const [polAddr, pol] = one("aws_iam_role_policy");
  same(pol.role, `\${${roleAddr}.id}`, `${polAddr}: attached to ${roleAddr}`, REQUIRED);
  const polRef = /^\$\{data\.aws_iam_policy_document\.(\w+)\.json\}$/.exec(pol.policy || "");
  if (!polRef || !docs[polRef[1]]) fatal(`${polAddr}: policy is not an aws_iam_policy_document`);

  const agg = aggregatorActions(root);
  for (const e of agg.errors) check(false, "aggregator source", e);
  const stats = tableRef("stats", "arn");
  const stream = tableRef("ratings", "stream_arn");
  const expected = [
    ...agg.actions.map((a) => `dynamodb:${a} on ${stats}`),
    // The event source mapping reads the stream with the function's role.
    ...STREAM_OPS.map((a) => `dynamodb:${a} on ${stream}`),
    ...["logs:CreateLogStream", "logs:PutLogEvents"].map((a) => `${a} on \${${lgAddr}.arn}:*`),
    `sqs:SendMessage on \${${queueAddr}.arn}`,
  ].sort();
  const actual = grants(docs[polRef[1]], evalT, `data.aws_iam_policy_document.${polRef[1]}`);
  const missing = expected.filter((g) => !actual.includes(g));
  const extra = actual.filter((g) => !expected.includes(g));
  check(
    missing.length === 0,
    `${polAddr}: grants everything the aggregator needs`,
    `missing: ${missing.join("; ")}`,
  );
  check(
    extra.length === 0,
    `${polAddr}: grants nothing else (least privilege)`,
    `not needed: ${extra.join("; ")}`,
  );
  for (const op of agg.streamOps) {
    check(STREAM_OPS.includes(op), `aggregator stream operation ${op} is covered`);
  }

  console.log(`\n${passed} passed, ${failures.length} failed`);
  process.exit(failures.length ? 1 : 0);
}

main().catch((e) => fatal(e.stack || String(e)));
