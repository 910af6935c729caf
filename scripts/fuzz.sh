#!/usr/bin/env bash
# Fuzzes the engine's input parsers with cargo fuzz (libFuzzer + AddressSanitizer), each target for
# a bounded time: the config loader, the JSONL reader and the API error-body parser.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]      (default 60 s per target, all targets)
#
# cargo-fuzz is installed from crates.io if missing. It needs nightly compiler flags; the stable
# toolchain accepts them with RUSTC_BOOTSTRAP=1 (no other toolchain is needed). The working corpus
# grows under target/fuzz/corpus/ (never committed); fuzz/seeds/ holds the few committed seeds.
# A crash leaves its input in target/fuzz/artifacts/TARGET/ and fails the script; replay it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz --target-dir target/fuzz TARGET FILE
# Prints the executions of each target.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then TARGETS=(config jsonl api_errors); fi
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz from crates.io..."
  cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi
ROOT=$PWD
TARGET_DIR="$ROOT/target/fuzz"
(cd fuzz && for t in "${TARGETS[@]}"; do cargo fuzz build --target-dir "$TARGET_DIR" "$t"; done)
total=0
for t in "${TARGETS[@]}"; do
  corpus="$TARGET_DIR/corpus/$t"
  artifacts="$TARGET_DIR/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$TARGET_DIR/$t.log"
  status=0
  (cd fuzz && cargo fuzz run --target-dir "$TARGET_DIR" "$t" "$corpus" "$ROOT/fuzz/seeds/$t" -- \
      -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$artifacts/" -print_final_stats=1) >"$log" 2>&1 || status=$?
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -n1)
  cov=$(grep -E '#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -n1 | grep -oE 'cov: [0-9]+' || true)
  printf 'fuzz %-11s %6ss  %12s executions  %s  corpus %s files\n' "$t" "$SECONDS_PER_TARGET" \
    "${execs:-?}" "${cov:-}" "$(ls "$corpus" | wc -l)"
  total=$((total + ${execs:-0}))
  if [ "$status" -ne 0 ]; then
    echo "fuzz target $t FAILED (exit $status); the input is in $artifacts/:" >&2
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -n 20 >&2 || true
    exit 1
  fi
done
echo "fuzz total: $total executions"
