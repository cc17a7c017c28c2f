#!/usr/bin/env bash
# Stage timings for tests/run.sh. Sourced, never run.
#   step NAME    ends the running stage and starts the next; step_done ends the last.
#   background NAME COMMAND…   runs COMMAND alongside the stages that follow, its output kept
#                in a log; await_background (within a stage) waits for it, prints the log and
#                fails if it failed. The table gives it a row of its own wall time.
# When the shell exits, passed or not, a table of each stage's wall time is printed (the stage
# that failed marked) and, with STYLE_TRANSFER_TIMINGS=FILE, written to FILE.
# With STYLE_TRANSFER_DEADLINE=MINUTES, a run still going after that many minutes is stopped,
# loudly, naming the stage it was in (.ci/run sets 80, under CI's 90).

timing_names=()
timing_seconds=()
timing_stage=
timing_started=$SECONDS
timing_stage_started=$SECONDS
timing_current=$(mktemp)
timing_watchdog=
timing_bg_pid=
timing_bg_name=
timing_bg_log=
timing_bg_started=

# A process and its descendants, from the leaves up.
timing_kill_tree() {
  local child
  for child in $(pgrep -P "$1"); do
    if [ "$child" != "$BASHPID" ]; then timing_kill_tree "$child"; fi
  done
  kill -TERM "$1" 2>/dev/null || true
}

timing_close() {
  if [ -n "$timing_stage" ]; then
    local took=$((SECONDS - timing_stage_started))
    timing_names+=("$timing_stage")
    timing_seconds+=("$took")
    printf -- '-- %s: %dm %02ds\n' "$timing_stage" $((took / 60)) $((took % 60))
    timing_stage=
  fi
}

step() {
  timing_close
  timing_stage="$*"
  timing_stage_started=$SECONDS
  printf '%s\n' "$*" >"$timing_current"
  printf '\n== %s\n' "$*"
}

step_done() { timing_close; }

background() {
  timing_bg_name=$1
  shift
  timing_bg_log=$(mktemp)
  timing_bg_started=$(date +%s)
  printf '\n== %s: runs alongside the next stages; its output comes when it is awaited\n' "$timing_bg_name"
  (
    trap - EXIT
    status=0
    "$@" || status=$?
    date +%s >"$timing_bg_log.end"
    exit "$status"
  ) >"$timing_bg_log" 2>&1 &
  timing_bg_pid=$!
}

await_background() {
  local status=0
  wait "$timing_bg_pid" || status=$?
  timing_bg_pid=
  cat "$timing_bg_log"
  local took=$(($(cat "$timing_bg_log.end" 2>/dev/null || date +%s) - timing_bg_started))
  timing_names+=("$timing_bg_name (alongside)")
  timing_seconds+=("$took")
  rm -f "$timing_bg_log" "$timing_bg_log.end"
  if [ "$status" -ne 0 ]; then
    printf '%s failed (exit %d)\n' "$timing_bg_name" "$status" >&2
    return "$status"
  fi
}

timing_report() {
  local status=$? over=
  local failed=$timing_stage
  if [ -e "$timing_current.over" ]; then over=1 && status=124; fi
  if [ -n "$timing_watchdog" ]; then kill "$timing_watchdog" 2>/dev/null || true; fi
  # A stage failed while the background job ran: stop it, and show how far it got.
  if [ -n "$timing_bg_pid" ]; then
    timing_kill_tree "$timing_bg_pid"
    printf '\n%s, stopped; its output so far:\n' "$timing_bg_name"
    tail -n 40 "$timing_bg_log"
  fi
  timing_close
  local total=$((SECONDS - timing_started)) i table
  table=$(
    printf '%-64s %10s\n' "stage" "wall time"
    for i in "${!timing_names[@]}"; do
      local s=${timing_seconds[$i]} mark=
      if [ "$status" -ne 0 ] && [ "${timing_names[$i]}" = "$failed" ]; then
        mark='  (failed)'
        if [ -n "$over" ]; then mark='  (stopped: over budget)'; fi
      fi
      printf '%-64s %6dm %02ds%s\n' "${timing_names[$i]}" $((s / 60)) $((s % 60)) "$mark"
    done
    printf '%-64s %6dm %02ds\n' "total" $((total / 60)) $((total % 60))
  )
  printf '\n%s\n' "$table"
  if [ -n "${STYLE_TRANSFER_TIMINGS:-}" ]; then printf '%s\n' "$table" >"$STYLE_TRANSFER_TIMINGS"; fi
  if [ -n "$over" ]; then
    printf '\n!! FAILED: tests/run.sh passed its budget of %s minutes in the stage "%s" and was stopped\n' \
      "$STYLE_TRANSFER_DEADLINE" "$failed" >&2
  fi
  rm -f "$timing_current" "$timing_current.over"
  return "$status"
}
trap timing_report EXIT

if [ -n "${STYLE_TRANSFER_DEADLINE:-}" ]; then
  timing_main=$$
  (
    trap - EXIT
    sleep $((STYLE_TRANSFER_DEADLINE * 60))
    touch "$timing_current.over"
    # The stages' processes (cargo, node, Chromium, …) from the leaves up, then the run.
    timing_kill_tree "$timing_main"
  ) &
  timing_watchdog=$!
fi
