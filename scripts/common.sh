# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file
# Shared by the scripts in this folder: pinned versions, cache paths, messages.
# Sourced, never run. Every script that sources it runs with `set -euo pipefail`.

# Pinned tool versions. Change them here only; setup.sh reinstalls when they change.
# DynamoDB Local ships inside this npm package (folder package/emulator/).
readonly DR_DDB_SIMULATOR_PKG=amplify-dynamodb-simulator
readonly DR_DDB_SIMULATOR_VERSION=2.9.30
# The signer team's differential SigV4 test runs the AWS SDK's own signer from here.
readonly DR_NODE_SIGV4_VERSION=5.7.5       # @smithy/signature-v4
readonly DR_NODE_SHA256_VERSION=5.2.0      # @aws-crypto/sha256-js
# The terraform consistency test parses terraform/*.tf (HCL) and checks its formatting.
readonly DR_NODE_HCL2JSON_VERSION=0.21.0   # @cdktf/hcl2json
readonly DR_NODE_HCL_TOOLS_VERSION=0.21.0  # @cdktf/hcl-tools
# The S3-compatible test server (scripts/s3-local.sh): s3rver, with every dependency pinned,
# integrity hashes and all, by scripts/s3rver/package-lock.json. Change both together.
readonly DR_S3RVER_VERSION=3.7.1

# The cache lives outside the repository so a fresh clone reuses it and `git clean` keeps it.
DR_CACHE_DIR=${DR_CACHE_DIR:-"$HOME/.cache/dadratings"}
DR_DDB_LOCAL_DIR="$DR_CACHE_DIR/dynamodb-local-$DR_DDB_SIMULATOR_VERSION/package/emulator"
DR_NODE_TOOLS_DIR="$DR_CACHE_DIR/node-tools"
DR_S3RVER_DIR="$DR_CACHE_DIR/s3rver-$DR_S3RVER_VERSION"

DR_REPO_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

dr_log() { printf '%s: %s\n' "${DR_LOG_TAG:-dr}" "$*" >&2; }
dr_die() { printf '%s: error: %s\n' "${DR_LOG_TAG:-dr}" "$*" >&2; exit 1; }

# Configure and build the default (RelWithDebInfo, warnings are errors) tree that the test and
# demo commands share, so that neither reconfigures the other's build.
dr_build_main() {
    local dir=${1:-"$DR_REPO_ROOT/build"}
    dr_log "configuring $dir (RelWithDebInfo, -DDR_WERROR=ON)"
    cmake -S "$DR_REPO_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDR_WERROR=ON >/dev/null
    dr_log "building $dir"
    cmake --build "$dir" --parallel "$(nproc)"
}
