#!/usr/bin/env bash
# Coverage-guided fuzzing of capsim's readers on stable Rust (cargo fuzz,
# libFuzzer, sanitizer off: Rust's own checks, overflow included, find the
# bugs).
#
#   fuzz/run.sh SECONDS [TARGET...]     (targets: scenario trace task_definition shards)
#
# Each target starts from its checked-in seeds (fuzz/corpus/TARGET, read
# only) and grows a working corpus in fuzz/work/TARGET (not committed). A
# crash stops the run, leaves the input in fuzz/artifacts/TARGET/ and exits
# non-zero: copy it to fuzz/regressions/TARGET/ with the fix, and
# tests/fuzz_corpus.rs replays it in every `cargo test`. The last line per
# target (stats) says executions, coverage and corpus size. FUZZ_SEED=N
# makes libFuzzer's choices repeatable (CI sets it).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario trace task_definition shards)

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --version 0.13.2
cargo fuzz build --sanitizer none --release

status=0
for t in "${targets[@]}"; do
  mkdir -p "work/$t" "artifacts/$t"
  log="work/$t.log"
  echo "== $t: ${secs}s"
  if cargo fuzz run --sanitizer none --release "$t" "work/$t" "corpus/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=3072 -max_len=65536 \
      -artifact_prefix="artifacts/$t/" -print_final_stats=1 ${FUZZ_SEED:+-seed=$FUZZ_SEED} >"$log" 2>&1; then
    grep -E '^(#[0-9]+ +(INITED|DONE))|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
  else
    grep -E "panicked|memory allocation|ERROR|SUMMARY|Failing input|artifacts/" "$log" | cut -c1-300 | head -n 20
    echo "fuzz target $t failed: the input is in fuzz/artifacts/$t/" >&2
    status=1
  fi
done
exit $status
