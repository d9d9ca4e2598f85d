#!/usr/bin/env python3
"""TRL + PEFT side of scripts/bench-train: ORPO with a LoRA adapter on PyTorch (CPU) with the
settings orpo-train runs with, printing one JSON object: tokens_per_second, peak_mb, final_loss,
or {"missing": reason} when trl, peft, torch or transformers cannot be imported or the model not
loaded. Tokens count the non-padding tokens of both sequences of every pair trained on."""
import argparse
import dataclasses
import json
import os
import resource
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pairs", required=True)
    p.add_argument("--model", required=True, help="GGUF file (transformers dequantizes it) or HF directory")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--grad-accum", type=int, default=1)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--r", type=int, default=16)
    p.add_argument("--dropout", type=float, default=0.05)
    a = p.parse_args()
    try:
        import torch
        import transformers
        import peft
        import trl
        from datasets import Dataset
    except ImportError as e:
        print(json.dumps({"missing": f"cannot import {e.name}"}))
        return
    try:
        from trl import ORPOConfig, ORPOTrainer
    except ImportError:
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer
    torch.set_num_threads(a.threads)
    try:
        if os.path.isdir(a.model):
            model = transformers.AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32)
            tok = transformers.AutoTokenizer.from_pretrained(a.model)
        else:
            d, f = os.path.split(os.path.abspath(a.model))
            model = transformers.AutoModelForCausalLM.from_pretrained(d, gguf_file=f, torch_dtype=torch.float32)
            tok = transformers.AutoTokenizer.from_pretrained(d, gguf_file=f)
    except Exception as e:  # a missing `gguf` package, an unsupported architecture ...
        print(json.dumps({"missing": f"cannot load the model: {e}".splitlines()[0][:200]}))
        return
    rows = [json.loads(l) for l in open(a.pairs) if l.strip()]
    data = Dataset.from_list([{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in rows])
    # Older TRL bounds the prompt (max_prompt_length), TRL 1.x the completion
    # (max_completion_length); both give the half-and-half split orpo-train runs with.
    fields = {f.name for f in dataclasses.fields(ORPOConfig)}
    half = a.max_length // 2
    split = {"max_prompt_length": half} if "max_prompt_length" in fields else {"max_completion_length": half}
    config = ORPOConfig(
        output_dir=os.path.join(os.path.dirname(os.path.abspath(a.pairs)), "trl-out"),
        max_steps=a.steps, per_device_train_batch_size=a.batch_size, gradient_accumulation_steps=a.grad_accum,
        learning_rate=5e-5, beta=0.1, max_length=a.max_length, **split,
        warmup_steps=0, max_grad_norm=1.0, seed=42, logging_steps=1, save_strategy="no", report_to=[],
        use_cpu=True, dataloader_num_workers=0)
    lora = peft.LoraConfig(r=a.r, lora_alpha=2 * a.r, lora_dropout=a.dropout, task_type="CAUSAL_LM",
                           target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    try:
        trainer = ORPOTrainer(model=model, args=config, train_dataset=data, processing_class=tok, peft_config=lora)
    except TypeError:
        trainer = ORPOTrainer(model=model, args=config, train_dataset=data, tokenizer=tok, peft_config=lora)
    ds = trainer.train_dataset
    per_pair = sum(len(x) + len(y) for x, y in zip(ds["chosen_input_ids"], ds["rejected_input_ids"])) / len(ds)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    tokens = per_pair * a.steps * a.batch_size * a.grad_accum
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    print(json.dumps({"tokens_per_second": tokens / seconds,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "final_loss": losses[-1] if losses else float("nan")}))


if __name__ == "__main__":
    sys.exit(main())
