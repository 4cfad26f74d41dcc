// SigV4 differential test, JS side. Runs the C generator (our signer), signs the same
// requests with AWS's own JavaScript signer (@smithy/signature-v4, the signer of the
// AWS SDK for JavaScript v3) and requires identical signatures.
//
// Usage: node sigv4_diff.cjs <sigv4_diff_gen> <seed> <count>
// Node tools: $DR_NODE_TOOLS_DIR, else $DR_CACHE_DIR/node-tools, else
// ~/.cache/dadratings/node-tools (scripts/setup.sh installs them there).
//
// How each request is handed to smithy, and why (smithy 5.x, dist-cjs/index.js):
//  - Headers: smithy takes a map, so a caller must merge repeated names itself. We merge
//    case-insensitively and join the values, each stripped of leading/trailing white
//    space, with ','; this is the SigV4 rule (trim each value, then join, in order) and
//    what aws-c-auth does. Smithy trims the joined string only at its ends.
//  - Query: smithy takes decoded values ({key: value | [values]}) and encodes them;
//    our signer takes the wire query and decodes it first. The generator gives both.
//    A valueless key ("?flag") is the empty string: SigV4 signs it "flag=" (smithy
//    drops a null value from the canonical query altogether).
//  - Paths: uriEscapePath=true normalises (drop "" and "." segments, ".." pops, keep a
//    trailing '/') and escapes the wire path again, exactly like ours; S3 mode is
//    uriEscapePath=false, path as sent. Our DR_SIGV4_NO_PATH_NORMALIZE alone (normalise
//    off, encoding on) has no smithy switch; the AWS suite covers it.
//  - Unsigned headers: smithy never signs authorization, cache-control, connection,
//    expect, from, keep-alive, max-forwards, pragma, referer, te, trailer,
//    transfer-encoding, upgrade, user-agent, x-amzn-trace-id, proxy-*, sec-*. Ours
//    skips the same list (by design: those are rewritten in transit), so the generator
//    sends them and both must agree.
//  - Presign: smithy moves every x-amz-* header into the query ("hoisting"); ours signs
//    headers where the caller puts them. We pass those names as unhoistableHeaders.
//  - omit_session_token: smithy always signs a token; for those cases it gets the
//    credentials without one (the token is then sent unsigned, as ours does).
//  - UNSIGNED-PAYLOAD: smithy uses it when the body is not bytes/string, so the body is
//    passed as an opaque object in that case.
"use strict";
const { spawn } = require("node:child_process");
const path = require("node:path");
const os = require("node:os");
const readline = require("node:readline");
const fs = require("node:fs");

function nodeToolsDir() {
  if (process.env.DR_NODE_TOOLS_DIR) return process.env.DR_NODE_TOOLS_DIR;
  const cache = process.env.DR_CACHE_DIR || path.join(os.homedir(), ".cache", "dadratings");
  return path.join(cache, "node-tools");
}

function loadTools() {
  const dir = nodeToolsDir();
  const modules = path.join(dir, "node_modules");
  try {
    const sv4 = require(path.join(modules, "@smithy", "signature-v4"));
    const { Sha256 } = require(path.join(modules, "@aws-crypto", "sha256-js"));
    const version = JSON.parse(fs.readFileSync(
      path.join(modules, "@smithy", "signature-v4", "package.json"), "utf8")).version;
    return { sv4, Sha256, version };
  } catch (e) {
    console.error(`FAIL: @smithy/signature-v4 and @aws-crypto/sha256-js not found in ${modules}` +
      ` (${e.code || e.message}). Run scripts/setup.sh (it installs them into` +
      ` $DR_CACHE_DIR/node-tools).`);
    process.exit(1);
  }
}

const WS = /^[ \t\r\n]+|[ \t\r\n]+$/g;

function mergeHeaders(pairs) {
  const merged = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    const v = value.replace(WS, "");
    merged[key] = key in merged ? `${merged[key]},${v}` : v;
  }
  return merged;
}

function queryObject(pairs) {
  const q = {};
  for (const [k, v] of pairs) {
    if (!(k in q)) q[k] = v;
    else if (Array.isArray(q[k])) q[k].push(v);
    else q[k] = [q[k], v];
  }
  return q;
}

function smithyRequest(r) {
  const headers = mergeHeaders(r.headers);
  const bytes = Buffer.from(r.body_base64, "base64");
  return {
    method: r.method,
    protocol: "https:",
    hostname: headers.host,
    path: r.path,
    query: queryObject(r.query),
    headers,
    body: r.unsigned_payload ? { opaque: true } : (bytes.length ? new Uint8Array(bytes) : undefined),
  };
}

function smithySigner(tools, r) {
  const credentials = { accessKeyId: r.credentials.accessKeyId,
    secretAccessKey: r.credentials.secretAccessKey };
  if (r.credentials.sessionToken && !r.omit_session_token)
    credentials.sessionToken = r.credentials.sessionToken;
  return new tools.sv4.SignatureV4({
    credentials, region: r.region, service: r.service, sha256: tools.Sha256,
    uriEscapePath: !r.s3, applyChecksum: !!r.content_sha256_header,
  });
}

async function smithySignature(tools, r) {
  const signer = smithySigner(tools, r);
  const request = smithyRequest(r);
  const signingDate = new Date(r.unix_time * 1000);
  if (r.presign) {
    const unhoistableHeaders = new Set(Object.keys(request.headers).filter((h) => h.startsWith("x-amz-")));
    const out = await signer.presign(request, { signingDate, expiresIn: r.expires_in, unhoistableHeaders });
    return out.query["X-Amz-Signature"];
  }
  const out = await signer.sign(request, { signingDate });
  return /Signature=([0-9a-f]{64})/.exec(out.headers.authorization)[1];
}

// Smithy's canonical request for a header-signed request, rebuilt from its exported
// pieces in signRequest's order, to show next to ours when the signatures differ.
async function smithyCanonical(tools, r) {
  const { sv4 } = tools;
  const signer = smithySigner(tools, r);
  if (r.presign) return "(presigned: see our canonical request; smithy builds its own query)";
  const request = sv4.prepareRequest(smithyRequest(r));
  const longDate = new Date(r.unix_time * 1000).toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
  request.headers[sv4.AMZ_DATE_HEADER] = longDate;
  if (r.credentials.sessionToken && !r.omit_session_token)
    request.headers[sv4.TOKEN_HEADER] = r.credentials.sessionToken;
  const payloadHash = await sv4.getPayloadHash(request, tools.Sha256);
  if (r.content_sha256_header) request.headers[sv4.SHA256_HEADER] = payloadHash;
  const canonicalHeaders = sv4.getCanonicalHeaders(request);
  return signer.createCanonicalRequest(request, canonicalHeaders, payloadHash);
}

async function main() {
  const [gen, seed = "20150830", count = "1200"] = process.argv.slice(2);
  if (!gen) {
    console.error("usage: node sigv4_diff.cjs <sigv4_diff_gen> [seed] [count]");
    process.exit(2);
  }
  const tools = loadTools();
  const child = spawn(gen, [seed, count], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.on("close", resolve));
  const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
  let total = 0, identical = 0, firstMismatch = null;
  const kinds = { presign: 0, s3: 0, token: 0, omitted: 0, unsigned: 0, sha256hdr: 0, large: 0 };
  for await (const line of lines) {
    const r = JSON.parse(line);
    total++;
    kinds.presign += r.presign; kinds.s3 += r.s3; kinds.unsigned += r.unsigned_payload;
    kinds.sha256hdr += r.content_sha256_header; kinds.omitted += r.omit_session_token;
    kinds.token += !!r.credentials.sessionToken;
    kinds.large += r.body_base64.length > 4 * 1024 * 1024 / 3;
    const theirs = await smithySignature(tools, r);
    if (theirs === r.our_signature) identical++;
    else if (!firstMismatch) firstMismatch = { r, theirs, canonical: await smithyCanonical(tools, r) };
  }
  const code = await exited;
  if (code !== 0) {
    console.error(`FAIL: generator exited with ${code}`);
    process.exit(1);
  }
  console.log(`smithy @smithy/signature-v4 ${tools.version}; seed ${seed}; mix: ${JSON.stringify(kinds)}`);
  if (firstMismatch) {
    const { r, theirs, canonical } = firstMismatch;
    const shown = { ...r, body_base64: `(${Buffer.from(r.body_base64, "base64").length} bytes)` };
    delete shown.our_canonical_request;
    console.log(`first mismatch, request ${r.id}:\n${JSON.stringify(shown, null, 1)}`);
    console.log(`--- ours (${r.our_signature})\n${r.our_canonical_request}`);
    console.log(`--- smithy (${theirs})\n${canonical}`);
  }
  console.log(`${total} requests, ${identical} identical`);
  process.exit(total >= 1000 && identical === total ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });
