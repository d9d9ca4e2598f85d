#!/usr/bin/env python3
"""Reference ORPO batch: one forward and backward of TRL + PEFT on a Gemma model, written in the
layout of Tests/TrainingTests/Fixtures/orpo (what orpo-train's first step must reproduce).

    python3 scripts/ref-orpo.py --pairs PAIRS.jsonl --out DIR [--model M] [--beta B]
        [--max-length N] [--r R] [--alpha A] [--targets q_proj,v_proj,...] [--seed S]
        [--b-scale X] [--float64]

PAIRS.jsonl holds `prompt`, `chosen`, `rejected` as strings or in TRL's conversational form
(`prompt` a list of messages, `chosen`/`rejected` a list holding the assistant message); TRL
applies the model's chat template to the latter. All pairs go through as one batch.

DIR receives:
  pairs.jsonl          the pairs as given
  adapter/             a PEFT LoRA adapter, dropout 0: lora_A with PEFT's default initialisation
                       (torch seeded with --seed), lora_B random of scale --b-scale (PEFT's zero
                       start would make every gradient of A vanish)
  expected.json        beta, max_length, TRL's loss and metrics for the batch, and `tokenized`:
                       per pair exactly the ids and labels TRL fed the model
  grads.safetensors    the gradient of the loss for every LoRA weight, under PEFT's tensor names

--float64 runs the model and the adapter in double precision (the adapter and the gradients are
still written as float32): a reference free of float32 rounding, to tell an implementation's
rounding from TRL's.

--model is the default GGUF (dequantized to float32 by transformers; the weights are copied into
a plain model first, since TRL will not train a model it sees as quantized) or a
Hugging Face checkpoint directory. Needs torch, transformers, peft, trl, datasets, safetensors,
gguf. Run on a developer machine, never in CI.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

DEFAULT_MODEL = subprocess.run([os.path.join(os.path.dirname(os.path.abspath(__file__)), "default-model-path")],
                               check=True, capture_output=True, text=True).stdout.strip()
ALL_TARGETS = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"
# Gemma's chat format (docs/gemma.md, "Chat template"), for a tokenizer that carries no template (a GGUF without
# tokenizer.chat_template): turns opened by <start_of_turn>ROLE, closed by <end_of_turn>, the
# assistant's role spelled `model`, a system message folded into the first user turn.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- set ns = namespace(prefix='') -%}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set ns.prefix = messages[0]['content'] + '\n\n' -%}{%- set messages = messages[1:] -%}"
    "{%- endif -%}"
    "{%- for m in messages -%}"
    "{{ '<start_of_turn>' + ('model' if m['role'] == 'assistant' else m['role']) + '\n'"
    " + (ns.prefix if loop.first else '') + m['content'] + '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)


def load_model(path):
    import torch
    import transformers
    if os.path.isdir(path):
        model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        tok = transformers.AutoTokenizer.from_pretrained(path)
        return model, tok
    directory, name = os.path.split(os.path.abspath(path))
    model = transformers.AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)
    tok = transformers.AutoTokenizer.from_pretrained(directory, gguf_file=name)
    # The weights are float32 now, but the model still carries the GGUF quantizer, and the trainer
    # will not train such a model: copy them into a plain model built from the same config.
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(model.state_dict())
    return plain, tok


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--beta", type=float, default=0.1)
    p.add_argument("--max-length", type=int, default=1024)
    p.add_argument("--r", type=int, default=4)
    p.add_argument("--alpha", type=float, default=8)
    p.add_argument("--targets", default=ALL_TARGETS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--b-scale", type=float, default=0.01)
    p.add_argument("--float64", action="store_true")
    a = p.parse_args()

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import torch
    import peft
    import trl
    import transformers
    from datasets import Dataset
    from safetensors.torch import save_file
    try:
        from trl import ORPOConfig, ORPOTrainer
    except ImportError:
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer

    rows = []
    with open(a.pairs) as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                rows.append({k: row[k] for k in ("prompt", "chosen", "rejected")})
            except (ValueError, KeyError, TypeError) as e:
                sys.exit(f"ref-orpo: {a.pairs}:{number}: not a pair ({e})")
    if not rows:
        sys.exit(f"ref-orpo: {a.pairs}: no pairs")

    torch.manual_seed(a.seed)
    scratch = tempfile.mkdtemp(prefix="ref-orpo-")
    try:
        base, tok = load_model(a.model)
        if not getattr(tok, "chat_template", None):
            tok.chat_template = GEMMA_CHAT_TEMPLATE
        lora = peft.LoraConfig(r=a.r, lora_alpha=a.alpha, lora_dropout=0.0, task_type="CAUSAL_LM",
                               target_modules=a.targets.split(","))
        model = peft.get_peft_model(base, lora)
        if a.float64:
            model = model.to(torch.float64)
        generator = torch.Generator().manual_seed(a.seed + 1)
        with torch.no_grad():
            for name, param in model.named_parameters():
                if "lora_B" in name:
                    param.copy_(torch.randn(param.shape, generator=generator) * a.b_scale)
        config = ORPOConfig(output_dir=os.path.join(scratch, "trl"), beta=a.beta, max_length=a.max_length,
                            per_device_train_batch_size=len(rows), report_to=[], use_cpu=True,
                            dataloader_num_workers=0, seed=a.seed)
        trainer = ORPOTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows),
                              processing_class=tok)
        features = [trainer.train_dataset[i] for i in range(len(rows))]
        batch = trainer.data_collator(features)
        model.train()
        loss, metrics = trainer.get_batch_loss_metrics(model, batch, train_eval="train")
        loss.backward()

        os.makedirs(a.out, exist_ok=True)
        shutil.copyfile(a.pairs, os.path.join(a.out, "pairs.jsonl"))
        if a.float64:
            model = model.to(torch.float32)
        model.save_pretrained(os.path.join(a.out, "adapter"))
        grads = {}
        for name, param in model.named_parameters():
            if param.requires_grad:
                grads[name.replace(".default", "")] = param.grad.detach().to(torch.float32).contiguous().clone()
        save_file(grads, os.path.join(a.out, "grads.safetensors"))
        keys = ("prompt_input_ids", "chosen_input_ids", "chosen_labels", "rejected_input_ids", "rejected_labels")
        tokenized = [{k: list(map(int, feature[k])) for k in keys} for feature in features]
        expected = {
            "beta": a.beta, "max_length": a.max_length, "loss": loss.item(), "metrics": metrics,
            "tokenized": tokenized,
            "note": (f"one batch of all {len(rows)} pairs, dropout 0, r {a.r}, alpha {a.alpha:g}, targets "
                     f"{a.targets}, {'float64' if a.float64 else 'float32'}; trl {trl.__version__}, peft "
                     f"{peft.__version__}, transformers {transformers.__version__}, torch {torch.__version__}"),
        }
        with open(os.path.join(a.out, "expected.json"), "w") as f:
            json.dump(expected, f)
        print(f"ref-orpo: loss {loss.item():.6f}, {len(grads)} gradients, written to {a.out}", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
