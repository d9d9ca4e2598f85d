#!/usr/bin/env python3
"""The TRL hand-off, made by hand on a machine with the reference stack: pairs written by
orpo-pairs train a PEFT LoRA adapter with TRL's ORPOTrainer (as a GPU host would), and the adapter
comes back for lora-merge and gemma-infer. Writes the fixture the CI test loads
(Tests/MergingTests/Fixtures/trl-adapter):

    python3 scripts/make-trl-adapter.py [--pairs PAIRS.jsonl] [--out DIR] [--steps N]

  pairs.jsonl     the pairs trained on (default: the first 8 rows of examples/banking/train.jsonl,
                  the form `orpo-pairs` writes: prompt, chosen, rejected strings)
  adapter/        what TRL + PEFT saved (adapter_config.json, adapter_model.safetensors): LoRA r 4,
                  alpha 8 on q_proj and v_proj, float32, --steps steps at learning rate 5e-3
  expected.json   for each probe prompt: its token ids (Gemma's chat format, BOS first), and the
                  logits of its last position from transformers + PEFT (the adapter applied) and
                  from the base model alone, at `vocab` (the 100 highest of each and 100 ids spread
                  over the vocabulary), so a test sees both that the adapter is applied as PEFT
                  applies it and that it changes the model

The model is the default GGUF (transformers dequantizes it to float32; see scripts/ref-orpo.py).
Needs torch, transformers, peft, trl, datasets, gguf. Run on a developer machine, never in CI.
"""
import argparse
import contextlib
import dataclasses
import importlib.util
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROBES = ["How do I activate my new card?", "What is the capital of France?"]


def ref_orpo():
    spec = importlib.util.spec_from_file_location("ref_orpo", os.path.join(HERE, "ref-orpo.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reduce(probe, top=100, spread=100):
    """The logits at a sample of the 262,144 vocabulary ids (the whole rows would be 20 MB of JSON):
    the `top` highest of each row, where the decision lies, and `spread` ids evenly over the rest."""
    adapted, base = probe["adapted"], probe["base"]
    order = lambda row: sorted(range(len(row)), key=lambda i: -row[i])
    keep = set(order(adapted)[:top]) | set(order(base)[:top]) | set(range(0, len(adapted), len(adapted) // spread))
    vocab = sorted(keep)
    return {"question": probe["question"], "ids": probe["ids"], "vocab": vocab,
            "adapted": [adapted[i] for i in vocab], "base": [base[i] for i in vocab]}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", default=os.path.join(ROOT, "examples/banking/train.jsonl"))
    p.add_argument("--count", type=int, default=8, help="pairs taken from the start of --pairs")
    p.add_argument("--out", default=os.path.join(ROOT, "Tests/MergingTests/Fixtures/trl-adapter"))
    p.add_argument("--steps", type=int, default=4)
    a = p.parse_args()

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import peft
    import torch
    import transformers
    import trl
    from datasets import Dataset
    try:
        from trl import ORPOConfig, ORPOTrainer
    except ImportError:
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer

    torch.manual_seed(0)
    ref = ref_orpo()
    model, tok = ref.load_model(ref.DEFAULT_MODEL)
    if not tok.chat_template:
        tok.chat_template = ref.GEMMA_CHAT_TEMPLATE
    rows = []
    with open(a.pairs) as f:
        for line in f:
            if line.strip() and len(rows) < a.count:
                r = json.loads(line)
                rows.append({k: r[k] for k in ("prompt", "chosen", "rejected")})
    # Questions as the chat format puts them, as orpo-train trains text pairs from orpo-pairs.
    data = Dataset.from_list([{"prompt": tok.apply_chat_template([{"role": "user", "content": r["prompt"]}],
                                                                  tokenize=False, add_generation_prompt=True),
                               "chosen": r["chosen"] + "<end_of_turn>", "rejected": r["rejected"] + "<end_of_turn>"}
                              for r in rows])
    fields = {f.name for f in dataclasses.fields(ORPOConfig)}
    split = {"max_prompt_length": 128} if "max_prompt_length" in fields else {"max_completion_length": 128}
    scratch = tempfile.mkdtemp(prefix="trl-adapter-")
    config = ORPOConfig(output_dir=scratch, max_steps=a.steps, per_device_train_batch_size=2, learning_rate=5e-3,
                        beta=0.1, max_length=256, **split, warmup_steps=0, seed=0, logging_steps=1,
                        save_strategy="no", report_to=[], use_cpu=True, dataloader_num_workers=0,
                        bf16=False, fp16=False)
    lora = peft.LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, task_type="CAUSAL_LM", target_modules=["q_proj", "v_proj"])
    try:
        trainer = ORPOTrainer(model=model, args=config, train_dataset=data, processing_class=tok, peft_config=lora)
    except TypeError:
        trainer = ORPOTrainer(model=model, args=config, train_dataset=data, tokenizer=tok, peft_config=lora)
    with contextlib.redirect_stdout(sys.stderr):
        trainer.train()

    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(a.out)
    trainer.model.save_pretrained(os.path.join(a.out, "adapter"))
    # PEFT also writes a model-card template; the fixture is the adapter's two files.
    card = os.path.join(a.out, "adapter", "README.md")
    if os.path.exists(card):
        os.remove(card)
    with open(os.path.join(a.out, "pairs.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")

    peft_model = trainer.model.eval()
    probes = []
    for question in PROBES:
        text = tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False, add_generation_prompt=True)
        ids = tok(text, add_special_tokens=False)["input_ids"]
        if ids[0] != tok.bos_token_id:
            ids = [tok.bos_token_id] + ids
        x = torch.tensor([ids])
        with torch.no_grad():
            adapted = peft_model(x).logits[0, -1].tolist()
            with peft_model.disable_adapter():
                base = peft_model(x).logits[0, -1].tolist()
        probes.append(reduce({"question": question, "ids": ids, "adapted": adapted, "base": base}))
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    with open(os.path.join(a.out, "expected.json"), "w") as f:
        json.dump({"versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                                "peft": peft.__version__, "trl": trl.__version__},
                   "steps": a.steps, "losses": losses, "probes": probes}, f)
    shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps({"out": a.out, "losses": losses}))


if __name__ == "__main__":
    sys.exit(main())
