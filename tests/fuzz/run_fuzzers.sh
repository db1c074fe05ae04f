#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 45) from seeds our own serializer writes,
# after replaying each target's saved crashes (tests/fuzz/regressions/<target>/) as
# regression tests. Any crash, leak, sanitizer report or timeout fails the run, and the
# input that did it is kept under BUILD/fuzz-artifacts/ to be added to the regressions.
set -euo pipefail
build=${1:?usage: run_fuzzers.sh BUILD_DIR}
seconds=${FUZZ_SECONDS:-45}
here=$(cd "$(dirname "$0")" && pwd)
work=$build/fuzz-work
rm -rf "$work"
mkdir -p "$work" "$build/fuzz-artifacts"
"$build/tests/fuzz/fuzz_seeds" "$work/seeds"
status=0
for target in chat_host screen_host wire tile_decode client_stream; do
  bin=$build/tests/fuzz/fuzz_$target
  regressions=$here/regressions/$target
  if [ -d "$regressions" ] && [ -n "$(ls "$regressions")" ]; then  # .gitkeep is not an input
    echo "== fuzz_$target: replaying $(ls "$regressions" | wc -l) saved inputs"
    "$bin" -runs=0 "$regressions"/* || status=1
  fi
  mkdir -p "$work/corpus/$target"
  echo "== fuzz_$target: ${seconds} s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$build/fuzz-artifacts/$target-" "$work/corpus/$target" "$work/seeds/$target" \
       > "$work/$target.log" 2>&1; then
    echo "fuzz_$target FAILED:"; tail -40 "$work/$target.log"; status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$work/$target.log" | tail -2
  fi
done
exit $status
