#!/usr/bin/env python3
"""TRL + PEFT side of scripts/bench-train: ORPO with a LoRA adapter on PyTorch (CPU) with the
settings orpo-train runs with, printing one JSON object: tokens_per_second, peak_mb, final_loss,
or {"missing": reason} when trl, peft, torch or transformers cannot be imported or the model not
loaded. Tokens count the non-padding tokens of both sequences of every pair trained on."""
import argparse
import contextlib
import dataclasses
import json
import os
import resource
import shutil
import sys
import tempfile
import time


def convert(gguf, out):
    """Writes the GGUF model, dequantized to float32, as a plain checkpoint directory (with
    scripts/ref-orpo.py's loader, which copies the weights out of the GGUF-quantized model)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("ref_orpo", os.path.join(os.path.dirname(__file__), "ref-orpo.py"))
    ref_orpo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref_orpo)
    model, tok = ref_orpo.load_model(gguf)
    tok.save_pretrained(out)
    model.save_pretrained(out)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--convert":
        return convert(sys.argv[2], sys.argv[3])
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
    p.add_argument("--gradient-checkpointing", type=int, choices=(0, 1), default=1,
                   help="TRL's default 1 recomputes activations in the backward (less memory, more time)")
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
    scratch = tempfile.mkdtemp(prefix="bench-train-trl-")
    try:
        if os.path.isdir(a.model):
            model = transformers.AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
            tok = transformers.AutoTokenizer.from_pretrained(a.model)
        else:
            # transformers dequantizes the GGUF to float32 but the model keeps its GGUF quantizer,
            # and the Trainer refuses to train such a model: the float32 weights are written as a
            # plain checkpoint and loaded from there.
            # The conversion runs in a child process so that its memory peak is not counted as
            # training's.
            import subprocess
            done = subprocess.run([sys.executable, os.path.abspath(__file__), "--convert", a.model, scratch],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError((done.stderr.strip().splitlines() or ["conversion failed"])[-1])
            model = transformers.AutoModelForCausalLM.from_pretrained(scratch, dtype=torch.float32)
            tok = transformers.AutoTokenizer.from_pretrained(scratch)
    except Exception as e:  # a missing `gguf` package, an unsupported architecture ...
        shutil.rmtree(scratch, ignore_errors=True)
        print(json.dumps({"missing": f"cannot load the model: {e}".splitlines()[0][:200]}))
        return
    shutil.rmtree(scratch, ignore_errors=True)
    rows = [json.loads(l) for l in open(a.pairs) if l.strip()]
    data = Dataset.from_list([{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in rows])
    # Older TRL bounds the prompt (max_prompt_length), TRL 1.x the completion
    # (max_completion_length); both give the half-and-half split orpo-train runs with.
    fields = {f.name for f in dataclasses.fields(ORPOConfig)}
    half = a.max_length // 2
    split = {"max_prompt_length": half} if "max_prompt_length" in fields else {"max_completion_length": half}
    config = ORPOConfig(
        output_dir=os.path.join(tempfile.gettempdir(), "bench-train-trl-out"),
        max_steps=a.steps, per_device_train_batch_size=a.batch_size, gradient_accumulation_steps=a.grad_accum,
        learning_rate=5e-5, beta=0.1, max_length=a.max_length, **split,
        warmup_steps=0, max_grad_norm=1.0, seed=42, logging_steps=1, save_strategy="no", report_to=[],
        use_cpu=True, dataloader_num_workers=0,
        # TRL turns on bf16 autocast by default; on this CPU PyTorch then runs the matrix products
        # through its single-threaded fallback GEMM (over 10 minutes for one step of 4 pairs).
        # float32, as orpo-train trains, is also PyTorch's fast path here.
        bf16=False, fp16=False, gradient_checkpointing=bool(a.gradient_checkpointing))
    lora = peft.LoraConfig(r=a.r, lora_alpha=2 * a.r, lora_dropout=a.dropout, task_type="CAUSAL_LM",
                           target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    try:
        trainer = ORPOTrainer(model=model, args=config, train_dataset=data, processing_class=tok, peft_config=lora)
    except TypeError:
        trainer = ORPOTrainer(model=model, args=config, train_dataset=data, tokenizer=tok, peft_config=lora)
    ds = trainer.train_dataset
    per_pair = sum(len(x) + len(y) for x, y in zip(ds["chosen_input_ids"], ds["rejected_input_ids"])) / len(ds)
    start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # the Trainer prints its summary on stdout
        trainer.train()
    seconds = time.perf_counter() - start
    tokens = per_pair * a.steps * a.batch_size * a.grad_accum
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    print(json.dumps({"tokens_per_second": tokens / seconds,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "final_loss": losses[-1] if losses else float("nan")}))


if __name__ == "__main__":
    sys.exit(main())
