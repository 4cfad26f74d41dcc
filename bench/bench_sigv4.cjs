// The JS half of bench_sigv4: signatures per second of @smithy/signature-v4 for the same
// typical DynamoDB request, one thread (the event loop), after a warm-up. Prints one
// line: "<signatures_per_second> <smithy version>".
// Node tools: $DR_NODE_TOOLS_DIR, else $DR_CACHE_DIR/node-tools, else
// ~/.cache/dadratings/node-tools (scripts/setup.sh).
"use strict";
const path = require("node:path");
const os = require("node:os");

const dir = process.env.DR_NODE_TOOLS_DIR ||
  path.join(process.env.DR_CACHE_DIR || path.join(os.homedir(), ".cache", "dadratings"), "node-tools");
const modules = path.join(dir, "node_modules");
let sv4, Sha256, version;
try {
  sv4 = require(path.join(modules, "@smithy", "signature-v4"));
  ({ Sha256 } = require(path.join(modules, "@aws-crypto", "sha256-js")));
  version = require(path.join(modules, "@smithy", "signature-v4", "package.json")).version;
} catch (e) {
  console.error(`node tools missing in ${modules}: run scripts/setup.sh`);
  process.exit(1);
}

const body = process.argv[2] || "";
const seconds = Number(process.argv[3] || 2);
const signer = new sv4.SignatureV4({
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    sessionToken: "IQoJb3JpZ2luX2VjEXAMPLETOKEN" },
  region: "us-east-1", service: "dynamodb", sha256: Sha256, applyChecksum: false,
});
const signingDate = new Date(1440938160 * 1000);
function request() {
  return { method: "POST", protocol: "https:", hostname: "dynamodb.us-east-1.amazonaws.com", path: "/",
    query: {}, body, headers: { host: "dynamodb.us-east-1.amazonaws.com",
      "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.GetItem" } };
}
async function run(ms) {
  let n = 0;
  const end = process.hrtime.bigint() + BigInt(ms) * 1000000n;
  const start = process.hrtime.bigint();
  while (process.hrtime.bigint() < end) {
    for (let i = 0; i < 100; i++) await signer.sign(request(), { signingDate });
    n += 100;
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}
(async () => {
  await run(300); // warm-up: JIT and the signing key cache
  console.log(`${Math.round(await run(seconds * 1000))} ${version}`);
})();
