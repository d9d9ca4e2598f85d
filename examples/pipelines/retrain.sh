#!/usr/bin/env bash
# Retrains the served model when the pass rate drops: run by `drift-alert --exec`, with the alert's
# event (drift-alert's JSON event) on standard input. Acts on "detected" events; any other event
# exits 0 at once. examples/pipelines/README.md shows the pipeline around it.
#
#   ... | drift-alert --field metrics.restrict_to_banking.pass_rate --below 0.8 \
#           --exec examples/pipelines/retrain.sh
#
# 1. pairs   the judged records of the alert's window (window_start <= ts < window_end, and the
#            window's group) are read from $RETRAIN_JUDGED; orpo-pairs turns their failures into
#            preference pairs by the bank's policy: an off-topic answer that did not refuse gets the
#            refusal as its chosen reply, a failed banking answer the training split's reference
#            answer when it has the question (none otherwise: the loop's scripts/retrain also samples
#            and judges answers for those). The topic is the request's `metadata.topic` (send it with
#            each request, as scripts/send-traffic does). Pairs of the training split top the set up
#            to $RETRAIN_PAIRS.
# 2. train   orpo-train: a LoRA adapter on the base model, with the settings of the full recipe of
#            examples/banking/retrain.json.
# 3. merge   lora-merge: the base model with the adapter merged, GGUF Q8_0.
# 4. reload  when the server is named ($SERVE_PID and $SERVE_URL): scripts/deploy renames a link to
#            the merged model over deployed.gguf in $RETRAIN_SERVE_DIR (the link the server was
#            started on), sends the server SIGHUP and waits on /health until it has reloaded;
#            requests in flight finish on the old model. Without them the merged model is only written.
#
# There is no promotion gate here: the loop's scripts/retrain first compares the current and the
# new model on held-out questions (loop-eval gate) and deploys only a better one.
#
# Environment:
#   RETRAIN_JUDGED      judged traffic the pipeline tees (default judged.jsonl)
#   RETRAIN_DIR         where the run's files go (default retrain/<the window's start>)
#   RETRAIN_PAIRS       pairs to train on, the traffic's topped up from the training split (default 160)
#   RETRAIN_MAX_STEPS   stop training after this many steps (default: the recipe's epochs)
#   RETRAIN_BASE_MODEL  the model trained and merged (default: the installed default model)
#   RETRAIN_SERVE_DIR   the folder of the served link deployed.gguf (default .)
#   SERVE_PID, SERVE_URL  the server to reload (`gemma-infer serve`'s process and http://host:port)
#   FEEDBACKLOOP_BIN    the tools (default .build/release of this checkout, else PATH)
# Writes into RETRAIN_DIR: event.json, window.jsonl, pairs.jsonl, pairs-summary.json,
# train-log.jsonl, adapter.tar.gz, merged.gguf; scripts/deploy appends to RETRAIN_SERVE_DIR/deploys.jsonl.
# Exit status: 0 done (or nothing to train), 2 a step failed.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${FEEDBACKLOOP_BIN:-$here/.build/release}
[ -x "$bin/orpo-train" ] || bin=$(dirname "$(command -v orpo-train || echo .build/release/orpo-train)")
recipes=$here/examples/banking/retrain.json
recipe() { jq -er ".recipes.full.$1 // .train.$1" "$recipes"; }
say() { printf 'retrain: %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 2; }

event=$(cat)
kind=$(jq -r '.event // ""' <<< "$event") || fail "the event on standard input is not JSON"
[ "$kind" = detected ] || { say "${kind:-unknown} event, nothing to do"; exit 0; }
start=$(jq -r .window_start <<< "$event")
dir=${RETRAIN_DIR:-retrain/$(tr -d ':' <<< "$start")}
mkdir -p "$dir"
printf '%s\n' "$event" > "$dir/event.json"
base=${RETRAIN_BASE_MODEL:-$("$here/scripts/default-model-path")}

# 1. The alert's window of judged traffic, then preference pairs from its failures.
python3 - "$dir/event.json" "${RETRAIN_JUDGED:-judged.jsonl}" > "$dir/window.jsonl" <<'PY' || fail "reading the judged traffic failed"
import json, sys
from datetime import datetime
def instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
event = json.load(open(sys.argv[1]))
start, end = instant(event["window_start"]), instant(event["window_end"])
group = event.get("group") or {}
def field(record, path):
    for key in path.split("."):
        record = record.get(key) if isinstance(record, dict) else None
    return record
for line in open(sys.argv[2], encoding="utf-8"):
    record = json.loads(line) if line.strip() else None
    if record and "ts" in record and start <= instant(record["ts"]) < end \
            and all(field(record, path) == value for path, value in group.items()):
        sys.stdout.write(line)
PY
say "1/4 preference pairs from the $(wc -l < "$dir/window.jsonl") judged records of the window from $start"
pairs_args=(--policy "$here/examples/banking/policy.json" --format messages --topic-field metadata.topic
            --reference "$here/examples/banking/train.jsonl" --held-out "$here/examples/banking/eval.jsonl")
traffic_pairs=$("$bin/orpo-pairs" "$dir/window.jsonl" "${pairs_args[@]}" 2> "$dir/pairs.log" | wc -l) || true
if [ "$traffic_pairs" -eq 0 ]; then
  say "no preference pairs come from this window (no failure with a better answer to learn); nothing to train"
  exit 0
fi
target=${RETRAIN_PAIRS:-$(recipe pairs)}
ratio=$(python3 -c 'import sys; n, t = map(int, sys.argv[1:]); print(max(0, (t - n) / n))' "$traffic_pairs" "$target")
"$bin/orpo-pairs" "$dir/window.jsonl" "${pairs_args[@]}" --mix "$here/examples/banking/train.jsonl" --mix-ratio "$ratio" \
  --summary "$dir/pairs-summary.json" -o "$dir/pairs.jsonl" 2>> "$dir/pairs.log" || [ $? -eq 1 ] \
  || fail "orpo-pairs failed (see $dir/pairs.log)"

# 2. A LoRA adapter on the base model.
# A run cut shorter than the recipe's warm-up (RETRAIN_MAX_STEPS) skips the warm-up: its steps
# would otherwise all run below the learning rate, the first at 0.
steps=() warmup=$(recipe warmup_steps)
if [ -n "${RETRAIN_MAX_STEPS:-}" ]; then
  steps=(--max-steps "$RETRAIN_MAX_STEPS")
  [ "$RETRAIN_MAX_STEPS" -gt "$warmup" ] || warmup=0
fi
say "2/4 orpo-train on $(wc -l < "$dir/pairs.jsonl") pairs ($traffic_pairs from the traffic)"
"$bin/orpo-train" "$dir/pairs.jsonl" --model "$base" -o "$dir/adapter.tar.gz" --r "$(recipe r)" --alpha "$(recipe alpha)" \
  --dropout "$(recipe dropout)" --batch-size "$(recipe batch_size)" --max-length "$(recipe max_length)" \
  --seed "$(recipe seed)" --beta "$(recipe beta)" --lr "$(recipe lr)" --warmup-steps "$warmup" \
  --epochs "$(recipe epochs)" "${steps[@]}" > "$dir/train-log.jsonl" 2> "$dir/train.log" \
  || fail "orpo-train failed (see $dir/train.log)"

# 3. The merged model.
say "3/4 lora-merge"
"$bin/lora-merge" --model "$base" --adapter "$dir/adapter.tar.gz" -o "$dir/merged.gguf" --type q8_0 2> "$dir/merge.log" \
  || fail "lora-merge failed (see $dir/merge.log)"

# 4. The server reloads onto it.
if [ -z "${SERVE_PID:-}" ] || [ -z "${SERVE_URL:-}" ]; then
  say "4/4 merged model in $dir/merged.gguf; no server named (SERVE_PID, SERVE_URL), so none reloaded"
  exit 0
fi
say "4/4 deploy: the server $SERVE_URL reloads onto $dir/merged.gguf"
FEEDBACKLOOP_RUN=${RETRAIN_SERVE_DIR:-.} FEEDBACKLOOP_SERVE_PID=$SERVE_PID FEEDBACKLOOP_SERVE_URL=$SERVE_URL \
  "$here/scripts/deploy" "$(cd "$dir" && pwd)/merged.gguf" promoted \
  "$(jq -r '"\(.rule): \(.value) \(.comparison) \(.threshold) in the window from \(.window_start)"' <<< "$event")" \
  || fail "the reload failed"
say "done: the server runs $dir/merged.gguf"
