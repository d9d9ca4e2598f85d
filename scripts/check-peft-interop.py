#!/usr/bin/env python3
"""Checks that an adapter trained by orpo-train loads in PEFT and gives, in transformers, the
logits this project computes with it.

1. Tiny model (Tests/Fixtures/tiny-gemma3, float32 safetensors): orpo-train
   trains an adapter (r 4, alpha 8 on q, v, gate, the default dropout 0.05, a learning rate high
   enough to move every factor) on a few token-id pairs; transformers + PEFT compute the logits of
   every position of a few sequences with it. With --write-fixture the adapter, the pairs and those
   logits go to Tests/TrainingCLITests/Fixtures/peft-interop/, which PEFTInteropTests compares
   against the project's own forward, so CI checks the interop without Python.
2. Default model (the Gemma 3 270M Q4_K_M GGUF, which transformers dequantizes): orpo-train
   trains an adapter the same way on the first pairs of examples/banking/train.jsonl; gemma-infer
   --exact --score-completion --top-logprobs 20 scores a few texts with it, after a bare BOS, and
   the log-probabilities it reports at every position (the target's and the 20 best) are compared
   with transformers + PEFT's log-softmax. The same comparison without the adapter shows how much
   of the difference is the dequantized weights' (computed in float32 by both) and how far the
   adapter moved the log-probabilities.

Prints the max |difference| of each comparison. Usage:
  python3 scripts/check-peft-interop.py [--write-fixture] [--skip-tiny-model] [--skip-default-model]
                                        [--threads N]
Needs torch, transformers, peft, gguf and the release builds of orpo-train and gemma-infer (built
here). Not run by CI.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TINY = os.path.join(ROOT, "Tests", "Fixtures", "tiny-gemma3")
FIXTURE = os.path.join(ROOT, "Tests", "TrainingCLITests", "Fixtures", "peft-interop")
DEFAULT_MODEL = subprocess.run([os.path.join(ROOT, "scripts", "default-model-path")],
                               check=True, capture_output=True, text=True).stdout.strip()
TRAIN_FLAGS = ["--r", "4", "--alpha", "8", "--targets", "q,v,gate", "--seed", "3", "--warmup-steps", "0"]


def run(args, stdin=None):
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, cwd=ROOT)
    if done.returncode not in (0, 1):
        sys.exit(f"check-peft-interop: {' '.join(args[:2])} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def train(model, pairs_path, out, extra, threads):
    log = run([os.path.join(ROOT, ".build/release/orpo-train"), pairs_path, "--model", model,
               "-o", out, "--threads", str(threads)] + TRAIN_FLAGS + extra)
    records = [json.loads(l) for l in log.splitlines() if l.strip()]
    print(f"  trained {len(records)} steps, loss {records[0]['loss']:.4f} -> {records[-1]['loss']:.4f}",
          file=sys.stderr)


def peft_model(base, adapter):
    import peft
    model = peft.PeftModel.from_pretrained(base, adapter)
    model.eval()  # no dropout at inference
    return model


def tiny(args):
    import torch
    import transformers
    gen = torch.Generator().manual_seed(5)
    pairs = []
    for _ in range(6):
        prompt = [2] + torch.randint(3, 128, (4,), generator=gen).tolist()
        chosen = torch.randint(3, 128, (5,), generator=gen).tolist()
        rejected = torch.randint(3, 128, (4,), generator=gen).tolist()
        pairs.append({"prompt_input_ids": prompt, "chosen_input_ids": prompt + chosen + [1],
                      "rejected_input_ids": prompt + rejected + [1]})
    work = tempfile.mkdtemp(prefix="peft-interop-")
    pairs_path = os.path.join(work, "pairs.jsonl")
    with open(pairs_path, "w") as f:
        f.writelines(json.dumps(p) + "\n" for p in pairs)
    adapter = os.path.join(FIXTURE if args.write_fixture else work, "adapter")
    print("tiny model: training", file=sys.stderr)
    train(os.path.relpath(TINY, ROOT), pairs_path, adapter, ["--tokenized", "--lr", "5e-2", "--batch-size", "2", "--max-steps", "6"],
          args.threads)
    base = transformers.AutoModelForCausalLM.from_pretrained(TINY, dtype=torch.float32,
                                                             attn_implementation="eager")
    base.eval()
    sequences = [p["chosen_input_ids"] for p in pairs[:2]] + [[2] + torch.randint(3, 128, (13,), generator=gen).tolist()]
    with torch.no_grad():
        plain = [base(torch.tensor([s])).logits[0] for s in sequences]
        model = peft_model(base, adapter)
        adapted = [model(torch.tensor([s])).logits[0] for s in sequences]
    moved = max((a - p).abs().max().item() for a, p in zip(adapted, plain))
    print(f"tiny model: the adapter moves the logits by up to {moved:.4f} (PEFT loads it: "
          f"{len(model.peft_config['default'].target_modules)} target modules, "
          f"lora_dropout {model.peft_config['default'].lora_dropout})")
    if args.write_fixture:
        with open(os.path.join(FIXTURE, "expected.json"), "w") as f:
            json.dump({"transformers": transformers.__version__, "torch": torch.__version__,
                       "peft": __import__("peft").__version__,
                       "sequences": sequences,
                       "logits": [[[round(v, 6) for v in row] for row in l.tolist()] for l in adapted]}, f)
        with open(os.path.join(FIXTURE, "pairs.jsonl"), "w") as f:
            f.writelines(json.dumps(p) + "\n" for p in pairs)
        print(f"tiny model: wrote {FIXTURE}", file=sys.stderr)


def default_model(args):
    import torch
    import transformers
    if not os.path.exists(DEFAULT_MODEL):
        print(f"default model: skipped (no {DEFAULT_MODEL})")
        return
    work = tempfile.mkdtemp(prefix="peft-interop-")
    pairs_path = os.path.join(work, "pairs.jsonl")
    with open(os.path.join(ROOT, "examples/banking/train.jsonl")) as f:
        rows = [json.loads(l) for l in f if l.strip()][:8]
    with open(pairs_path, "w") as f:
        f.writelines(json.dumps({k: r[k] for k in ("prompt", "chosen", "rejected")}) + "\n" for r in rows)
    adapter = os.path.join(work, "adapter")
    print("default model: training", file=sys.stderr)
    train(DEFAULT_MODEL, pairs_path, adapter, ["--lr", "2e-3", "--batch-size", "4", "--max-steps", "3",
                                               "--max-length", "128"], args.threads)
    texts = [r["prompt"] + "\n" + r["chosen"] for r in rows[:2]] + [
        "How do I reset the PIN of my debit card?", "The weather in Lisbon is mild in winter."]
    records = "".join(json.dumps({"prompt": "", "text": t}) + "\n" for t in texts)

    def infer(extra):
        out = run([os.path.join(ROOT, ".build/release/gemma-infer"), "--model", DEFAULT_MODEL, "--exact",
                   "--threads", str(args.threads), "--score-completion", "text", "--top-logprobs", "20"] + extra,
                  stdin=records)
        return [json.loads(l) for l in out.splitlines() if l.strip()]

    d, f = os.path.split(DEFAULT_MODEL)
    base = transformers.AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32,
                                                             attn_implementation="eager")
    base.eval()

    def hf_logprobs(model, scored):
        out = []
        with torch.no_grad():
            for r in scored:
                ids = [base.config.bos_token_id] + [t["id"] for t in r["logprobs"]]
                out.append(torch.log_softmax(model(torch.tensor([ids[:-1]])).logits[0].double(), dim=-1))
        return out

    def compare(name, scored, reference):
        worst_target = worst_top = 0.0
        agree = total = 0
        for r, lp in zip(scored, reference):
            for i, t in enumerate(r["logprobs"]):
                worst_target = max(worst_target, abs(t["logprob"] - lp[i, t["id"]].item()))
                for alt in t["top_logprobs"]:
                    worst_top = max(worst_top, abs(alt["logprob"] - lp[i, alt["id"]].item()))
                agree += int(t["top_logprobs"][0]["id"] == lp[i].argmax().item())
                total += 1
        print(f"default model, {name}: {total} positions; max |Δ log p(target)| {worst_target:.2e}, "
              f"max |Δ log p| over the 20 best {worst_top:.2e}, same top-1 at {agree}/{total}")

    plain_scored = infer([])
    plain = hf_logprobs(base, plain_scored)
    compare("no adapter", plain_scored, plain)
    adapted_scored = infer(["--adapter", adapter])
    model = peft_model(base, adapter)
    adapted = hf_logprobs(model, adapted_scored)
    compare("with the adapter", adapted_scored, adapted)
    moved = max((a - p).abs().max().item() for a, p in zip(adapted, plain))
    print(f"default model: the adapter moves transformers' log-probabilities by up to {moved:.4f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--write-fixture", action="store_true")
    p.add_argument("--skip-default-model", action="store_true")
    p.add_argument("--skip-tiny-model", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--product", "orpo-train"], cwd=ROOT, check=True)
    subprocess.run(["swift", "build", "-c", "release", "--product", "gemma-infer"], cwd=ROOT, check=True)
    import torch
    torch.set_num_threads(args.threads)
    if not args.skip_tiny_model:
        tiny(args)
    if not args.skip_default_model:
        default_model(args)


if __name__ == "__main__":
    main()
