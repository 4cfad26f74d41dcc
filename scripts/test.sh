#!/usr/bin/env bash
# THE test command: scripts/test.sh, from a fresh clone on Debian 12.
#
#   1. scripts/setup.sh (packages, DynamoDB Local, node tools; quick when present)
#   2. builds: build/ (RelWithDebInfo, -DDR_WERROR=ON), build-asan/ (ASan+UBSan),
#      build-tsan/ (TSan), build-fuzz/ (clang, libFuzzer + ASan + UBSan)
#   3. one DynamoDB Local on a free loopback port for the whole run, always stopped on exit
#   4. tests, each stage run even if an earlier one failed, in this order:
#        asan      build-asan/  every test under AddressSanitizer + UBSan
#        tsan      build-tsan/  tests labelled `threads` under ThreadSanitizer
#        valgrind  build/       tests labelled `unit` under valgrind memcheck
#        python    build/       the Python binding's unittest suite, then tests/interop
#        node      build/       the Node binding's node --test suite
#        fuzz      build-fuzz/  each fuzz target over its committed corpus (ctest -L fuzz),
#                               then DR_FUZZ_SECONDS (20) of fuzzing each, on a copy
#        (a summary of the stages so far)
#        release   build/       every test (unit, integration, install, abi, terraform...)
#      The sanitizer stages run the concurrency tests with fewer iterations, the release
#      stage with more; it comes last, so the output ends with ctest's own summary. The
#      Python and Node stages run with the release stage.
# Exit status: 0 only if every build and every test passed.
#
# Environment: DR_TEST_STAGES (default "release asan tsan valgrind fuzz") picks stages;
# DR_JOBS (default: nproc) is the build and ctest parallelism; DR_FUZZ_SECONDS (default
# 20) is each fuzz target's time; DR_TEST_FULL_SIZE=1 runs the release stage's concurrency
# tests at the tests' own (soak) sizes, see bench/README.md.
set -euo pipefail
DR_LOG_TAG="test"
# shellcheck source=common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
cd "$DR_REPO_ROOT"

stages=${DR_TEST_STAGES:-"release asan tsan valgrind fuzz"}
jobs=${DR_JOBS:-$(nproc)}
has_stage() { [[ " $stages " == *" $1 "* ]]; }
banner() { printf '\n======== %s ========\n' "$*"; }

banner "setup"
"$DR_REPO_ROOT/scripts/setup.sh"

# --- builds (a failed build ends the run here: there is nothing to test) ----------------
build() {   # build DIR BUILD_TYPE CMAKE_ARGS...
    local dir=$1 type=$2
    shift 2
    banner "build $dir ($type $*)"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DDR_REQUIRE_TESTS=ON "$@" >/dev/null
    cmake --build "$dir" --parallel "$jobs"
}
if has_stage release || has_stage valgrind; then
    build build RelWithDebInfo -DDR_WERROR=ON
fi
has_stage asan && build build-asan Debug -DDR_SANITIZE=ON
has_stage tsan && build build-tsan Debug -DDR_TSAN=ON
has_stage fuzz && build build-fuzz RelWithDebInfo -DDR_FUZZ=ON -DDR_WERROR=ON \
    -DCMAKE_C_COMPILER=clang

# --- the local stack -----------------------------------------------------------------------
state=$(mktemp -d "${TMPDIR:-/tmp}/dr-test.XXXXXX")
stop_stack() {
    if [ -f "$state/pid" ]; then
        DR_STATE_DIR=$state "$DR_REPO_ROOT/scripts/dynamodb-local.sh" stop
    fi
}
cleanup() {   # on every exit: success, failure, Ctrl-C, kill
    local rc=$?
    trap - EXIT INT TERM
    stop_stack || rc=1
    rm -rf -- "$state"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

banner "DynamoDB Local"
ddb_env=$(DR_STATE_DIR=$state "$DR_REPO_ROOT/scripts/dynamodb-local.sh" start)
DR_TEST_ENDPOINT=$(printf '%s\n' "$ddb_env" | sed -n 's/^DR_TEST_ENDPOINT=//p')
[ -n "$DR_TEST_ENDPOINT" ] || dr_die "dynamodb-local.sh start printed no endpoint"
echo "DR_TEST_ENDPOINT=$DR_TEST_ENDPOINT"

# Integration tests: DynamoDB Local ignores signatures, so dummy credentials do. Nothing may
# reach a real AWS endpoint or a metadata service: drop every variable that could point
# elsewhere and disable IMDS.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_DYNAMODB \
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS AWS_USE_FIPS_ENDPOINT AWS_USE_DUALSTACK_ENDPOINT \
      AWS_ACCOUNT_ID AWS_ACCOUNT_ID_ENDPOINT_MODE \
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
      AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
export DR_TEST_ENDPOINT
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=AKIDDADRATINGSLOCAL
export AWS_SECRET_ACCESS_KEY=dadratings-local-dummy-secret
export AWS_EC2_METADATA_DISABLED=true
export NODE_PATH="$DR_NODE_TOOLS_DIR/node_modules"
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

# --- test stages ---------------------------------------------------------------------------
summary=()
total_run=0 total_failed=0 stages_failed=0

# add_failure_reasons LOG: the lines of a failed stage's log that say which test failed and
# why (ctest's verdicts, cmocka's assertion and line, a sanitizer's or a runner's report), so
# that the summary near the end of the output carries them, however long the stage ran.
add_failure_reasons() {
    local reason
    while IFS= read -r reason; do
        summary+=("          $reason")
    done < <(grep -E '\*\*\*(Failed|Timeout|Exception)|^\[  (ERROR   |FAILED  )\]|^\[   LINE   \]|^(==[0-9]+==)?(ERROR|SUMMARY): (Address|Thread|Undefined|Leak)|^not ok |^(FAIL|ERROR): ' \
                 "$1" | head -n 20 || true)
}

# run_stage NAME DIR CTEST_ARGS... : runs ctest, keeps its output, adds its counts.
run_stage() {
    local name=$1 dir=$2 log rc line passed failed total
    shift 2
    banner "$name ($dir): $*"
    log="$state/ctest-$name.log"
    set +e
    (cd "$dir" && "$@") 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
    if [ -n "$line" ]; then
        failed=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$line")
        total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    elif [ "$rc" -eq 0 ]; then
        failed=0 total=0 line="no tests matched (none carry this label yet)"
    else
        failed=0 total=0 line="ctest produced no summary"
    fi
    passed=$((total - failed))
    total_run=$((total_run + total))
    total_failed=$((total_failed + failed))
    if [ "$rc" -ne 0 ]; then
        stages_failed=$((stages_failed + 1))
        summary+=("FAILED  $name: $line (ctest exit $rc)")
        add_failure_reasons "$log"
    else
        summary+=("ok      $name: $line")
    fi
    : "$passed"
}

ctest_cmd=(ctest --output-on-failure --timeout 900 -j "$jobs")

# The heavy integration tests take their sizes from the environment. Their own defaults
# are soak sizes (16 threads x 500 writes on 10 jokes, a 10,000-rating dashboard, 150
# ratings a chaos run): on a loaded 2-core machine test_operations alone then needs close
# to 10 minutes, so the release stage runs a third of that (16 x 150 writes, 3,000
# ratings, 60 a chaos run), still thousands of contended transactions; DR_TEST_FULL_SIZE=1
# keeps the soak sizes. The sanitizer stages run fewer still (16 x 60 writes, 10 instead of
# 50 when sharded, 1,000 ratings, 24 a chaos run). The 16 x 625 requests of test_ddb_client
# run at full size everywhere.
sanitizer_scale=(env DR_TEST_WRITES_PER_THREAD=60 DR_TEST_SHARDED_WRITES_PER_THREAD=10
                 DR_TEST_SCALE_RATINGS=1000 DR_TEST_CHAOS_RATINGS=24)
if [ "${DR_TEST_FULL_SIZE:-0}" = 1 ]; then
    release_scale=(env)
else
    release_scale=(env DR_TEST_WRITES_PER_THREAD=150 DR_TEST_SCALE_RATINGS=3000
                   DR_TEST_CHAOS_RATINGS=60)
fi

# The release stage runs last, so that the output ends with ctest's own summary.
has_stage asan && run_stage asan build-asan "${sanitizer_scale[@]}" "${ctest_cmd[@]}"
if has_stage tsan; then
    # --no-tests=ignore: no test is labelled `threads` yet; failures still fail. setarch -R
    # turns off address randomisation for the run: GCC 12's TSan cannot map its shadow
    # memory on kernels with high mmap entropy (vm.mmap_rnd_bits = 32).
    tsan_prefix=()
    setarch "$(uname -m)" -R true 2>/dev/null && tsan_prefix=(setarch "$(uname -m)" -R)
    run_stage tsan build-tsan "${tsan_prefix[@]}" "${sanitizer_scale[@]}" "${ctest_cmd[@]}" \
        -L threads --no-tests=ignore
fi
if has_stage valgrind; then
    # ctest -T memcheck runs each test under valgrind; --error-exitcode turns any error or
    # definite/indirect leak into a failed test. Logs: build/Testing/Temporary/MemoryChecker.*
    vg_opts="--error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite,indirect"
    vg_opts+=" --show-leak-kinds=definite,indirect --track-fds=no --num-callers=30"
    # Valgrind runs one thread at a time; its default lock lets a spinning thread starve the
    # rest (the refresh test's eight callers against its metadata server). Fair scheduling
    # hands the CPU round: measured here, the unit stage took no longer with it.
    vg_opts+=" --fair-sched=yes"
    [ -f "$DR_REPO_ROOT/scripts/valgrind.supp" ] &&
        vg_opts+=" --suppressions=$DR_REPO_ROOT/scripts/valgrind.supp"
    rm -f build/Testing/Temporary/MemoryChecker.*.log
    # Valgrind runs threads one at a time: the clock-driven refresh test gets 3x its time.
    run_stage valgrind build env DR_TEST_TIME_SCALE=3 "${ctest_cmd[@]}" -L unit -T memcheck \
        --overwrite "MemoryCheckCommand=$(command -v valgrind)" \
        --overwrite "MemoryCheckCommandOptions=$vg_opts"
    for f in build/Testing/Temporary/MemoryChecker.*.log; do
        [ -f "$f" ] || continue
        if grep -qE 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]' "$f"; then
            printf '\n--- %s\n' "$f"
            cat "$f"
        fi
    done
fi

# --- python: the Python binding and the cross-language test (issue 7) -------------------
# With the release stage, on build/: python3 -m unittest for bindings/python/tests, then
# tests/interop (Python + Node + C on one pair of tables). unittest is not ctest: the counts
# come from its own summary ("Ran N tests", "FAILED (failures=F, errors=E)").
run_unittest() {   # run_unittest NAME START_DIR
    local name=$1 start=$2 log rc ran failed=0 n line verdict
    banner "$name: python3 -m unittest discover -s $start -v"
    log="$state/unittest-$name.log"
    set +e
    DADRATINGS_LIBRARY="$DR_REPO_ROOT/build/src/libdadratings.so.1" \
    DR_INTEROP_C="$DR_REPO_ROOT/build/tests/interop/dr_interop_c" \
        python3 -m unittest discover -s "$start" -v 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    ran=$(sed -nE 's/^Ran ([0-9]+) tests? in .*/\1/p' "$log" | tail -n 1)
    ran=${ran:-0}
    verdict=$(grep -E '^(OK|FAILED)( \(.*\))?$' "$log" | tail -n 1 || true)
    for n in $(grep -oE '(failures|errors|unexpected successes)=[0-9]+' <<<"$verdict" | cut -d= -f2 || true); do
        failed=$((failed + n))
    done
    [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && [ "$ran" -gt 0 ] && failed=1  # crashed mid-run
    line="$ran tests, $failed failed (unittest: ${verdict:-no summary})"
    total_run=$((total_run + ran))
    total_failed=$((total_failed + failed))
    if [ "$rc" -ne 0 ] || [ "$ran" -eq 0 ]; then
        stages_failed=$((stages_failed + 1))
        summary+=("FAILED  $name: $line (exit $rc)")
        add_failure_reasons "$log"
    else
        summary+=("ok      $name: $line")
    fi
}
if has_stage release; then
    run_unittest python bindings/python/tests
    run_unittest interop tests/interop
fi

# --- node: the Node binding's tests (issue 7) -----------------------------------------------
# With the release stage, on build/: node --test bindings/node/test/ against this run's DynamoDB
# Local (its dependencies come from setup.sh). The counts are node's own TAP summary
# ("# tests N", "# fail F", "# cancelled C"); a run that ends without one counts as failed.
run_node_tests() {
    local log rc tests failed cancelled line
    banner "node: node --test bindings/node/test/"
    log="$state/node-test.log"
    set +e
    DADRATINGS_LIBRARY="$DR_REPO_ROOT/build/src/libdadratings.so.1" \
        node --test --test-reporter=tap bindings/node/test/ 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    tests=$(sed -nE 's/^# tests ([0-9]+)$/\1/p' "$log" | tail -n 1)
    failed=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$log" | tail -n 1)
    cancelled=$(sed -nE 's/^# cancelled ([0-9]+)$/\1/p' "$log" | tail -n 1)
    tests=${tests:-0}
    failed=$((${failed:-0} + ${cancelled:-0}))
    [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1   # ended without a summary
    line="$tests tests, $failed failed (node --test)"
    total_run=$((total_run + tests))
    total_failed=$((total_failed + failed))
    if [ "$rc" -ne 0 ] || [ "$tests" -eq 0 ]; then
        stages_failed=$((stages_failed + 1))
        summary+=("FAILED  node: $line (exit $rc)")
        add_failure_reasons "$log"
    else
        summary+=("ok      node: $line")
    fi
}
has_stage release && run_node_tests

# --- fuzz: libFuzzer targets (tests/fuzz, docs/fuzzing.md) -------------------------------
# First every committed corpus input once (seeds and regression inputs: ctest -L fuzz), then
# each target fuzzed for DR_FUZZ_SECONDS over a copy of its corpus (tests/fuzz/run.sh; the
# repository's corpus is never written). Any crash, leak or sanitizer report fails the stage;
# the crashing input is kept in build-fuzz/fuzz-artifacts/, and its report is in the log.
run_fuzz_targets() {
    local seconds=${DR_FUZZ_SECONDS:-20} log rc t n=0 failed=0 verdict
    local targets
    targets=$(cd build-fuzz && ctest -N -L fuzz | sed -nE 's/.*: fuzz_(.*)_corpus$/\1/p')
    banner "fuzz (build-fuzz): each target ${seconds} s"
    for t in $targets; do
        log="$state/fuzz-$t.log"
        set +e
        DR_FUZZ_ARTIFACTS="$DR_REPO_ROOT/build-fuzz/fuzz-artifacts" \
            tests/fuzz/run.sh build-fuzz "$t" "$seconds" >"$log" 2>&1
        rc=$?
        set -e
        n=$((n + 1))
        verdict=$(tail -n 1 "$log")
        echo "$verdict"
        if [ "$rc" -ne 0 ]; then
            failed=$((failed + 1))
            grep -E '^(==[0-9]+==)?(ERROR|SUMMARY):|runtime error:|invariant broken' "$log" |
                head -n 20 || true
            summary+=("FAILED  $verdict")
            add_failure_reasons "$log"
        fi
    done
    total_run=$((total_run + n))
    total_failed=$((total_failed + failed))
    if [ "$n" -eq 0 ] || [ "$failed" -gt 0 ]; then
        stages_failed=$((stages_failed + 1))
        summary+=("FAILED  fuzz: $n targets x ${seconds} s, $failed crashed")
    else
        summary+=("ok      fuzz: $n targets x ${seconds} s, none crashed")
    fi
}
if has_stage fuzz; then
    run_stage fuzz-corpus build-fuzz "${ctest_cmd[@]}" -L fuzz
    run_fuzz_targets
fi

banner "summary of the stages before the release run"
printf '%s\n' "${summary[@]}"
if [ "$stages_failed" -gt 0 ]; then
    echo "$stages_failed stage(s) above failed: $total_failed of their $total_run tests failed"
fi

# --- release: every test, last ------------------------------------------------------------
has_stage release && run_stage release build "${release_scale[@]}" "${ctest_cmd[@]}"
# Quietly, so that ctest's summary stays the last thing printed; the trap would stop it too.
stop_stack >/dev/null 2>&1 || { echo "failed to stop DynamoDB Local" >&2; exit 1; }
[ "$stages_failed" -eq 0 ] && [ "$total_run" -gt 0 ]
