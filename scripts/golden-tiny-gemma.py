#!/usr/bin/env python3
"""Golden files for tiny Gemma 1, 2 and 3 models, computed by HF transformers (float32, eager).

Writes Tests/Fixtures/tiny-<arch>/ (shared by the test targets, TestSupport.SharedFixtures): config.json, the weights as safetensors (Gemma 1 in
BF16 and sharded with an index, like google/gemma-2b; Gemma 2 in F16; Gemma 3 in F32), and
expected.json with the input ids, the logits of every position, and 8 greedy tokens.

The sizes are chosen so every feature matters: grouped KV heads (4 query heads, 2 KV heads), a
sliding window (4) shorter than the prompt (12 tokens), Gemma 2's soft-capping at values the tiny
random logits reach, and Gemma 3's query/key norms and two RoPE bases.

Usage: python3 scripts/golden-tiny-gemma.py   (needs torch, transformers, safetensors; not run by CI)
"""
import json
import os
import sys

import torch
import transformers

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures")
COMMON = dict(vocab_size=128, hidden_size=32, intermediate_size=64, num_attention_heads=4,
              num_key_value_heads=2, head_dim=8, rms_norm_eps=1e-6, max_position_embeddings=256,
              bos_token_id=2, eos_token_id=1, pad_token_id=0, tie_word_embeddings=True)


def build(arch):
    if arch == "gemma":
        cfg = transformers.GemmaConfig(num_hidden_layers=3, rope_theta=10000.0,
                                       hidden_activation="gelu_pytorch_tanh", **COMMON)
        model = transformers.GemmaForCausalLM(cfg)
        dtype = torch.bfloat16
    elif arch == "gemma2":
        cfg = transformers.Gemma2Config(num_hidden_layers=4, rope_theta=10000.0, sliding_window=4,
                                        query_pre_attn_scalar=16, attn_logit_softcapping=1.0,
                                        final_logit_softcapping=2.0,
                                        hidden_activation="gelu_pytorch_tanh", **COMMON)
        model = transformers.Gemma2ForCausalLM(cfg)
        dtype = torch.float16
    else:
        cfg = transformers.Gemma3TextConfig(num_hidden_layers=6, sliding_window=4,
                                            query_pre_attn_scalar=10,
                                            rope_parameters={
                                                "full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
                                                "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}},
                                            hidden_activation="gelu_pytorch_tanh", **COMMON)
        model = transformers.Gemma3ForCausalLM(cfg)
        dtype = torch.float32
    cfg._attn_implementation = "eager"
    return cfg, model, dtype


def main():
    torch.manual_seed(1234)
    for arch in ["gemma", "gemma2", "gemma3"]:
        cfg, model, dtype = build(arch)
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "norm" in name:
                    p.copy_(torch.randn_like(p) * 0.3)       # HF stores w; the model uses 1 + w
                else:
                    p.copy_(torch.randn_like(p) * 0.25)
            # Round the weights (not buffers such as RoPE's inv_freq) to the stored dtype, then
            # compute in float32.
            for p in model.parameters():
                p.copy_(p.to(dtype).to(torch.float32))
        model.eval()
        ids = [2] + [int(x) for x in torch.randint(3, 128, (11,))]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0]
            gen = model.generate(torch.tensor([ids]), max_new_tokens=8, do_sample=False,
                                 eos_token_id=None, pad_token_id=0)[0][len(ids):].tolist()
        d = os.path.join(OUT, "tiny-" + arch)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
        model.to(dtype)
        shard = "60KB" if arch == "gemma" else "100MB"
        model.save_pretrained(d, max_shard_size=shard, safe_serialization=True)
        for f in ["generation_config.json"]:
            if os.path.exists(os.path.join(d, f)):
                os.remove(os.path.join(d, f))
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump({"transformers": transformers.__version__, "torch": torch.__version__,
                       "ids": ids, "logits": [[round(v, 6) for v in row] for row in logits.tolist()],
                       "greedy": gen}, f)
        print(arch, "files:", sorted(os.listdir(d)), file=sys.stderr)


if __name__ == "__main__":
    main()
