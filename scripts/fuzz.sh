#!/usr/bin/env bash
# Fuzzes the request parser, the snapshot reader and the log reader (with
# the manifest, change records, and the stored values both carry), and
# FUNCTION RESTORE's payload reader, RESTORE's payload reader and the RDB
# file reader of --import: builds
# fuzz/ with cargo-fuzz and runs each target for a bounded time
# (FUZZ_SECONDS, default 60). Installs cargo-fuzz when missing. Stable
# Rust only: `--sanitizer none` keeps cargo-fuzz from asking rustc for the
# nightly-only `-Zsanitizer`, and safe Rust needs no address sanitizer to
# turn a bad index into a crash.
# Debug assertions stay on, so an arithmetic overflow is a crash too.
#
# New inputs go to fuzz/target/corpus/<target> (kept between local runs,
# never committed); the seeds in fuzz/corpus/<target> are only read. A
# crash fails the script and leaves its input in fuzz/artifacts/<target>:
# fix the bug, add a unit test, and commit the input as a seed.
#
# Usage: scripts/fuzz.sh [target...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(multibulk inline snapshot wal function_payload dump_payload rdb_file acl_file)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    start=$SECONDS
    cargo install cargo-fuzz --version 0.13.2 --locked
    echo "fuzz: cargo-fuzz installed in $((SECONDS - start)) s"
fi
# libFuzzer itself is C++, built by libfuzzer-sys.
if ! command -v c++ >/dev/null 2>&1; then
    echo "fuzz: installing g++"
    apt-get update -qq && apt-get install -y -qq g++
fi

# Outside the workspace, so `cargo fmt --all` in .ci/run skips it.
cargo fmt --manifest-path fuzz/Cargo.toml --check

flags=(--sanitizer none --release --debug-assertions)
cd fuzz
start=$SECONDS
cargo fuzz build "${flags[@]}"
echo "fuzz: built in $((SECONDS - start)) s"

for target in "${targets[@]}"; do
    mkdir -p "target/corpus/$target"
    echo "fuzz: $target for $seconds s"
    # -timeout: one input taking a second is a hang worth reporting.
    cargo fuzz run "${flags[@]}" "$target" "target/corpus/$target" "corpus/$target" -- \
        -dict=resp.dict -max_total_time="$seconds" -timeout=1 -print_final_stats=1 \
        2>&1 | grep -v -e '^#[0-9]' -e '# Uses: ' -e '^WARNING: Failed to find function' || { echo "fuzz: $target FAILED"; exit 1; }
done
echo "fuzz: no crash in ${targets[*]}"
