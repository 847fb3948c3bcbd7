"""Transformer encoders built from a `transformers` BertConfig (no pretrained weights).

`transformer` attends both ways; `transformer_causal` is the same stack with a causal
mask, which separates "attention" from "seeing the future" in the fill-in tasks.

- Attention: SDPA (`attn_implementation="sdpa"` in the config), so CUDA uses fused kernels.
- Positions: fixed sinusoidal position embeddings added to the input (no parameters),
  so the parameter budget does not depend on the maximum sequence length.
- Padding: a boolean attention mask hides padded keys; real positions never see pads.
- Dropout: `hidden_dropout_prob` = the shared dropout; attention-probability dropout is 0
  for every run (it triples a CPU training step and no recurrent model has a counterpart).

Pooling for sequence classification: the mean over real positions (bidirectional), the
state at the last real position (causal: the only position that has read everything).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from bench.models.spec import ModelSpec, register_model


def sinusoidal(length: int, dim: int, device: torch.device) -> torch.Tensor:
    """(T, D) fixed position embeddings from 'Attention is all you need'."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32)
                     * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return table


class TransformerEncoder(nn.Module):
    def __init__(self, d_in: int, width: int, layers: int, heads: int, ffn: int,
                 dropout: float, causal: bool):
        super().__init__()
        # imported here: `transformers` takes seconds to import, and most processes
        # (pool workers, CLI errors, recurrent-only runs) never build a Transformer
        from transformers import BertConfig
        from transformers.models.bert.modeling_bert import BertEncoder

        config = BertConfig(hidden_size=width, num_hidden_layers=layers, num_attention_heads=heads,
                            intermediate_size=ffn, hidden_dropout_prob=dropout,
                            attention_probs_dropout_prob=0.0, is_decoder=causal,
                            attn_implementation="sdpa")
        self.proj_in = nn.Linear(d_in, width) if d_in != width else nn.Identity()
        self.encoder = BertEncoder(config)
        self.norm = nn.LayerNorm(width)  # BERT is post-norm; its input gets one LayerNorm too
        self.causal, self.width, self.state_dim = causal, width, width
        self.lengths_on_device = True  # masks are built on the device; no packing needs CPU lengths

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """x (B, T, D), lengths (B,) or None when every sequence is full -> (B, T, W)."""
        B, T, _ = x.shape
        h = self.proj_in(x) + sinusoidal(T, self.width, x.device).to(x.dtype)
        h = self.norm(h)
        mask = None
        if lengths is not None:
            keys = torch.arange(T, device=x.device)[None, :] < lengths.to(x.device)[:, None]  # (B, T)
            mask = keys[:, None, None, :].expand(B, 1, T, T)  # (B, 1, Tq, Tk) True = attend
            if self.causal:
                mask = mask & torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        # mask None: SDPA runs with is_causal=self.causal (flash/efficient kernels on CUDA)
        return self.encoder(h, attention_mask=mask).last_hidden_state

    def pool(self, states: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """states (B, T, W), last (B,) index of the last real position -> (B, W)."""
        rows = torch.arange(states.shape[0], device=states.device)
        if self.causal:
            return states[rows, last]
        real = (torch.arange(states.shape[1], device=states.device)[None, :] <= last[:, None])
        real = real.to(states.dtype)[..., None]  # (B, T, 1)
        return (states * real).sum(1) / real.sum(1)


def _transformer(causal: bool):
    def build(d_in, width, layers, dropout, heads, ffn):
        return TransformerEncoder(d_in, width, layers, heads, ffn, dropout, causal)
    return build


register_model(ModelSpec("transformer", "attention", "mean over real positions",
                         _transformer(causal=False), lambda heads: heads, True, reads_future=True))
register_model(ModelSpec("transformer_causal", "attention", "state at the last real position",
                         _transformer(causal=True), lambda heads: heads, True))
