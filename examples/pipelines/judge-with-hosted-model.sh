#!/usr/bin/env bash
# Judge a traffic log with a hosted model (any OpenAI-compatible API), then window the verdicts.
#
#   OPENAI_API_KEY=... examples/pipelines/judge-with-hosted-model.sh traffic.jsonl > windows.jsonl
#
# OPENAI_BASE_URL (default https://api.openai.com/v1) and JUDGE_MODEL (default gpt-4o-mini) pick
# the server and model: vLLM, llama.cpp's server, Ollama and `gemma-infer serve` work the same way.
# Replies are cached, so a rerun costs nothing; judged records go to judged.jsonl beside the windows.
set -euo pipefail
bin=${FEEDBACKLOOP_BIN:-$(dirname "$0")/../../.build/release}
: "${OPENAI_API_KEY:?set OPENAI_API_KEY (or use a server that needs none and set it to anything)}"
"$bin/judge" --config "$(dirname "$0")/../judges/restrict-to-banking.json" \
    --base-url "${OPENAI_BASE_URL:-https://api.openai.com/v1}" --model "${JUDGE_MODEL:-gpt-4o-mini}" \
    -j 8 --cache "${FEEDBACKLOOP_HOME:-$HOME/.cache/feedbackloop}/judge-cache" "$@" \
  | "$bin/judge" --check no_pii \
  | tee judged.jsonl \
  | "$bin/score-window" --period 5m
