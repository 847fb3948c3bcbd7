"""The model registry and the one wrapper every model shares.

Every model is: input embedding -> dropout -> encoder -> projection -> head.
- embedding: `nn.Embedding(vocab, d_embed)` for token inputs, `nn.Linear(F, d_embed)` for
  float features; the same size for every model in a comparison (not in params_core);
- encoder + projection to d_embed: the model's core (`params_core`), sized to the budget;
- head: `nn.Linear(d_embed, n_classes)`, the same for every model (not in params_core).
Token tasks read per-token states at the scored positions; sequence and regression tasks
read the encoder's pooled state (pooling documented per encoder).
"""
from __future__ import annotations

import torch
from torch import nn


class SequenceModel(nn.Module):
    """Embedding -> encoder -> projection -> head; see the module docstring."""

    def __init__(self, encoder: nn.Module, d_embed: int, n_classes: int, dropout: float,
                 vocab_size: int | None = None, n_features: int | None = None):
        super().__init__()
        if (vocab_size is None) == (n_features is None):
            raise ValueError("give exactly one of vocab_size (token inputs) or n_features")
        self.embed = (nn.Embedding(vocab_size, d_embed) if vocab_size is not None
                      else nn.Linear(n_features, d_embed))
        self.dropout = nn.Dropout(dropout)
        self.encoder = encoder
        self.proj = nn.Linear(encoder.state_dim, d_embed)
        self.head = nn.Linear(d_embed, n_classes)

    def core_parameters(self):
        yield from self.encoder.parameters()
        yield from self.proj.parameters()

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor | None,
                positions: torch.Tensor | None = None,
                last: torch.Tensor | None = None) -> torch.Tensor:
        """inputs (B, T) ids or (B, T, F); lengths (B,) or None if all full;
        positions (B, K) for token outputs -> (B, K, C), else pooled -> (B, C)."""
        x = self.dropout(self.embed(inputs))  # (B, T, D)
        if lengths is not None and getattr(self.encoder, "lengths_on_device", False) and last is not None:
            lengths = last + 1  # already on the device: no host-to-device copy per step
        states = self.encoder(x, lengths)  # (B, T, S)
        if positions is not None:
            picked = states.gather(1, positions[..., None].expand(-1, -1, states.shape[-1]))
            return self.head(self.proj(picked))  # (B, K, C)
        if last is None:
            last = torch.full((x.shape[0],), x.shape[1] - 1, device=x.device)
        return self.head(self.proj(self.encoder.pool(states, last)))  # (B, C)


def count(params) -> int:
    return sum(p.numel() for p in params)
