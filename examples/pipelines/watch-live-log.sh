#!/usr/bin/env bash
# Watch a live traffic log: judge each new answer with the tuned local judge, window the verdicts
# every two minutes, and alert (stderr and an optional webhook) when the pass rate drops.
#
#   examples/pipelines/watch-live-log.sh traffic.jsonl [WEBHOOK_URL]
#
# The log is what `gemma-infer serve --log traffic.jsonl` appends; tail -F follows it across
# rotations. Windows go to windows.jsonl, alert events to stdout. Stop with Ctrl-C.
set -euo pipefail
bin=${FEEDBACKLOOP_BIN:-$(dirname "$0")/../../.build/release}
log=${1:?usage: watch-live-log.sh traffic.jsonl [webhook-url]}
webhook=()
[ -n "${2:-}" ] && webhook=(--webhook "$2" --secret-env WEBHOOK_SECRET)
tail -n +1 -F "$log" \
  | "$bin/judge" --config "$(dirname "$0")/../judges/restrict-to-banking-tuned.json" --local \
  | "$bin/score-window" --period 2m \
  | tee -a windows.jsonl \
  | "$bin/drift-alert" --field metrics.restrict_to_banking.pass_rate --below 0.8 --clear 0.85 \
      --state alert-state.json "${webhook[@]}"
