#!/usr/bin/env bash
# Retrain from a folder of judged traffic: preference pairs from every *.jsonl in it (the failures,
# with the bank's refusal or the reference answers as the chosen reply) mixed with the training
# split, a LoRA adapter trained with ORPO, and the merged model ready to deploy.
#
#   examples/pipelines/retrain-from-folder.sh judged/ out/
#
# Writes out/pairs.jsonl, out/train-log.jsonl, out/adapter.tar.gz and out/merged.gguf. Deploy by
# renaming merged.gguf over the file `gemma-infer serve --model` names, then `kill -HUP` the server.
# RETRAIN_MAX_STEPS=N stops training after N steps (a quick try; the warm-up is then skipped).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${FEEDBACKLOOP_BIN:-$here/.build/release}
model=$("$here/scripts/default-model-path")
folder=${1:?usage: retrain-from-folder.sh judged-folder out-folder}
out=${2:?usage: retrain-from-folder.sh judged-folder out-folder}
mkdir -p "$out"
cat "$folder"/*.jsonl \
  | "$bin/orpo-pairs" --format messages --topic-field metadata.topic \
      --reference "$here/examples/banking/train.jsonl" --held-out "$here/examples/banking/eval.jsonl" \
      --mix "$here/examples/banking/train.jsonl" --mix-ratio 4 --summary "$out/pairs-summary.json" \
      -o "$out/pairs.jsonl" || [ $? -eq 1 ]
schedule=(--warmup-ratio 0.1 --epochs 2)
[ -n "${RETRAIN_MAX_STEPS:-}" ] && schedule=(--warmup-steps 0 --max-steps "$RETRAIN_MAX_STEPS")
"$bin/orpo-train" "$out/pairs.jsonl" --model "$model" --r 16 --alpha 32 --lr 4e-4 "${schedule[@]}" \
    --max-length 192 -o "$out/adapter.tar.gz" > "$out/train-log.jsonl"
"$bin/lora-merge" --model "$model" --adapter "$out/adapter.tar.gz" -o "$out/merged.gguf" --type q8_0
echo "retrain-from-folder: $(wc -l < "$out/pairs.jsonl") pairs; merged model in $out/merged.gguf" >&2
