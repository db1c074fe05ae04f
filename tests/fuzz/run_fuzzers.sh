#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 30) from seeds our own serializer writes and
# the corpus earlier runs on this machine grew (FUZZ_CORPUS, default ~/.cache/huddle-fuzz: each
# run goes on from where the last left off instead of starting again from the seeds), after
# replaying each target's saved crashes (tests/fuzz/regressions/<target>/) as regression tests.
# Any crash, leak, sanitizer report or timeout fails the run, and the input that did it is
# kept under BUILD/fuzz-artifacts/ to be added to the regressions.
set -euo pipefail
build=${1:?usage: run_fuzzers.sh BUILD_DIR}
seconds=${FUZZ_SECONDS:-30}
corpus=${FUZZ_CORPUS:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/huddle-fuzz}
max_corpus=2000  # files a target's corpus may grow to before it is merged down
here=$(cd "$(dirname "$0")" && pwd)
work=$build/fuzz-work
rm -rf "$work"
mkdir -p "$work" "$build/fuzz-artifacts"
"$build/tests/fuzz/fuzz_seeds" "$work/seeds"
# One target: replay its regressions, then fuzz; prints what happened, fails on any finding.
fuzz_one() {
  local target=$1 status=0
  local bin=$build/tests/fuzz/fuzz_$target
  local regressions=$here/regressions/$target
  if [ -d "$regressions" ] && [ -n "$(ls "$regressions")" ]; then  # .gitkeep is not an input
    echo "== fuzz_$target: replaying $(ls "$regressions" | wc -l) saved inputs"
    "$bin" -runs=0 "$regressions"/* > "$work/$target-replay.log" 2>&1 || { tail -40 "$work/$target-replay.log"; status=1; }
  fi
  mkdir -p "$corpus/$target"
  # libFuzzer replays the whole corpus inside the run's time: past max_corpus files, merge it
  # down to the inputs that add coverage first (a failed merge keeps the corpus as it was).
  if [ "$(ls "$corpus/$target" | wc -l)" -gt "$max_corpus" ]; then
    local merged=$corpus/$target.merging
    rm -rf "$merged" && mkdir -p "$merged"
    if "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$merged" "$corpus/$target" > "$work/$target-merge.log" 2>&1; then
      echo "== fuzz_$target: corpus merged from $(ls "$corpus/$target" | wc -l) to $(ls "$merged" | wc -l) inputs"
      rm -rf "$corpus/$target" && mv "$merged" "$corpus/$target"
    else
      rm -rf "$merged"
    fi
  fi
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$build/fuzz-artifacts/$target-" "$corpus/$target" "$work/seeds/$target" \
       > "$work/$target.log" 2>&1; then
    echo "fuzz_$target FAILED:"; tail -40 "$work/$target.log"; status=1
  else
    echo "== fuzz_$target: ${seconds} s, corpus $(ls "$corpus/$target" | wc -l) inputs:" \
         "$(grep -E "stat::number_of_executed_units" "$work/$target.log" | tail -1)"
  fi
  return $status
}
# Targets run as many at a time as there are cores (two here), a batch at a time: the same
# time each, in less wall time. Each one's lines are printed together when all have ended.
targets=(chat_host screen_host wire tile_decode client_stream voice_seal discovery voice_frame voice_hub file_hub)
per=$(nproc 2>/dev/null || echo 2)
status=0
for ((i = 0; i < ${#targets[@]}; i += per)); do
  pids=()
  for target in "${targets[@]:i:per}"; do
    fuzz_one "$target" > "$work/$target.summary" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
done
for target in "${targets[@]}"; do cat "$work/$target.summary"; done
exit $status
