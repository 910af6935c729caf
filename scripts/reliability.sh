#!/usr/bin/env bash
# The whole reliability and security suite at full size, in release mode, with figures printed:
#   - fault soak: ~100,000 generated records, 10% injected 429/500/503, 1% dropped connections,
#     latency jitter, 5-second tokens; every record lands exactly once, results and state agree;
#   - crash and resume: kill -9 at seeded random points of a large send, LB_CRASH_TRIALS times;
#   - bad input corpus (data files, tests/corpus/config/*.yaml, credentials, APIs down or HTML);
#   - secrets: no client secret nor token in logs, results, state, cache, fetched files;
#   - two sends on one state_dir at once, and the send journeys with faults and kill -9 (tests/send.rs);
#   - fuzzing of the config loader, the JSONL reader and the API error parser (scripts/fuzz.sh).
# CI runs the same tests at small sizes (cargo test) and a short fuzz smoke (scripts/test.sh).
#
#   bash scripts/reliability.sh            (about 20 minutes on 2 cores)
#
# Sizes: LB_SOAK_STUDENTS (2100 ≈ 100,000 records), LB_SOAK_POOL (64), LB_CRASH_TRIALS (10),
# LB_CRASH_STUDENTS (1000 ≈ 48,000 records), LB_CRASH_SEED (7), FUZZ_SECONDS per target (120; 0 skips).
set -euo pipefail
cd "$(dirname "$0")/.."
export LB_SOAK_STUDENTS=${LB_SOAK_STUDENTS:-2100}
export LB_SOAK_POOL=${LB_SOAK_POOL:-64}
export LB_CRASH_TRIALS=${LB_CRASH_TRIALS:-10}
export LB_CRASH_STUDENTS=${LB_CRASH_STUDENTS:-1000}
export LB_CRASH_SEED=${LB_CRASH_SEED:-7}
FUZZ_SECONDS=${FUZZ_SECONDS:-120}
LOG=$(mktemp -t lightbeam-reliability.XXXXXX)
started=$(date +%s)
echo "== building (release)"
cargo build --release -p lightbeam-cli -p edfi-sandbox
echo "== reliability suite (tests/reliability.rs at full size; output in $LOG)"
cargo test --release -p lightbeam-e2e --test reliability -- --nocapture --test-threads 1 2>&1 | tee "$LOG" |
  grep -E 'SOAK|CRASH|BAD|SECRETS|^test |panicked|^test result' || true
grep -q '^test result: ok' "$LOG" || { echo "the reliability suite FAILED (see $LOG)" >&2; exit 1; }
echo "== send journeys: faults, kill -9, two sends on one state_dir (tests/send.rs)"
cargo test --release -p lightbeam-e2e --test send -- --nocapture --test-threads 1 \
  faults_drops two_sends kill_9 2>&1 | tee -a "$LOG" | grep -E '^test |landed|panicked|^test result' || true
grep -c '^test result: ok' "$LOG" | grep -q '^2$' || { echo "the send journeys FAILED (see $LOG)" >&2; exit 1; }
fuzz_total=""
if [ "$FUZZ_SECONDS" != "0" ]; then
  echo "== fuzzing, $FUZZ_SECONDS s per target"
  bash scripts/fuzz.sh "$FUZZ_SECONDS" | tee -a "$LOG"
fi
echo
echo "== figures"
# (--nocapture prints a test's first line after its "test NAME ... ")
grep -oE '(SOAK|CRASH: |SECRETS).*' "$LOG" || true
echo "BAD INPUT: $(grep -oE 'BAD CONFIG' "$LOG" | wc -l) config/credential/API cases, $(grep -oE 'BAD DATA line' "$LOG" | wc -l) bad data lines (plus BOM, CRLF, CR, blank, empty and unknown files, a 10 MB line), $(grep -oE 'BAD STATE' "$LOG" | wc -l) broken state databases: one-line reasons, documented exit codes, no panic"
grep -E '^fuzz ' "$LOG" || true
echo "all passed in $(( $(date +%s) - started ))s"
