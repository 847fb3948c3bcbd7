"""How a model's memory starts: the `init` factor of the experiment (RunConfig.init).

How long a recurrent model can remember at the start of training is set by the bias of the
gate that keeps its state, and a model that cannot carry a fact across the distance at
step 0 gets no gradient telling it to. So the init is measured, reported and tuned on
validation together with the lr, never a hidden default:

- ``standard``: every gated model's carry gate starts at sigmoid(1) = 0.73 (the LSTM's
  forget-gate bias 1 of Jozefowicz et al. 2015 and Keras's `unit_forget_bias`; the GRU's
  update gate z, which keeps z*h in PyTorch, bias 1; minGRU z bias -1 and minLSTM f/i +1/-1,
  both a = 0.73): a memory of a few steps (0.73^8 = 0.08). The plain RNN: PyTorch's default.
  Applied by each encoder's constructor.
- ``chrono`` (Tallec & Ollivier, "Can recurrent neural networks warp time?", ICLR 2018),
  gated models only: the carry-gate bias of every unit is log(u), u ~ U[1, T_max - 1], with
  T_max the task's sequence length (never the answer's distance: the model is not told
  where the fact is), so the units' initial memory times 1 + u spread over [2, T_max]. The
  LSTM's input-gate bias is the negative, -log(u) (their eq. 16). GRU: the update gate z is
  the carry (h' = (1 - z) n + z h), bias log(u). minGRU: a = 1 - z, so z's bias is -log(u);
  minLSTM: f bias log(u), i bias -log(u) (a = f / (f + i), about sigmoid(log u) for large u).
  PyTorch keeps two bias vectors per gate (b_ih + b_hh): b_ih gets the value, b_hh 0.
- ``orthogonal``, the plain RNN only: its recurrent matrices orthogonal (every singular
  value 1: neither vanishing nor exploding at the start; the idea of Le et al. 2015's
  identity init, for tanh) and its biases 0.

Randomness comes from torch's global generator, which the training loop seeds with the run's
seed before the model is built: the same run draws the same biases.
"""
from __future__ import annotations

import torch

INITS = ("standard", "chrono", "orthogonal")


def chrono_bias(width: int, t_max: int) -> torch.Tensor:
    """(width,) log(u), u ~ U[1, t_max - 1] (t_max >= 3; shorter sequences fall back to
    t_max 3, so u stays in [1, 2])."""
    high = max(float(t_max) - 1.0, 2.0)
    return torch.empty(width).uniform_(1.0, high).log()


def set_gate_bias(rnn: torch.nn.Module, gate: int, width: int, values) -> None:
    """PyTorch recurrent kernels: in every layer and direction, the gate's rows of bias_ih_*
    get `values` (a number, or a callable returning a (width,) tensor per bias) and the same
    rows of bias_hh_* get 0."""
    rows = slice(gate * width, (gate + 1) * width)
    with torch.no_grad():
        for name, bias in rnn.named_parameters():
            if name.startswith("bias_ih"):
                bias[rows] = values() if callable(values) else values
            elif name.startswith("bias_hh"):
                bias[rows] = 0.0


def orthogonal_recurrence(rnn: torch.nn.Module) -> None:
    """Every weight_hh_* orthogonal (gain 1), every bias 0."""
    with torch.no_grad():
        for name, parameter in rnn.named_parameters():
            if name.startswith("weight_hh"):
                torch.nn.init.orthogonal_(parameter)
            elif name.startswith("bias_"):
                parameter.zero_()


def check(model: str, init: str, supported: tuple[str, ...]) -> None:
    """ValueError naming the inits a model supports when `init` is not one of them."""
    if init not in supported:
        raise ValueError(f"init {init!r} does not apply to {model}; {model} supports: {', '.join(supported)}")

