"""Recurrent encoders: rnn (tanh Elman), lstm, gru, and bilstm (the LSTM, bidirectional).

On CUDA these are cuDNN kernels. Padding (always on the right) never changes a real
position: a unidirectional recurrence is causal, so the pads after a sequence's end cannot
reach its real states and it runs unpacked (packing costs 3-4x on CPU); the bidirectional
model's backward direction would read the pads first, so on variable-length batches it runs
each sequence reversed within its own length (bench/models/bilstm.py: exact, tested equal
to the packed result, ~6x faster than packing on CPU). States at padded positions are never read.

Pooling for sequence classification:
- unidirectional: the state at the last real position (it has read the whole sequence);
- bidirectional: the forward state at the last real position concatenated with the
  backward state at position 0 (each direction's end, where it has read everything).
"""
from __future__ import annotations

import torch
from torch import nn

from bench.models.bilstm import BiLSTM
from bench.models.init import chrono_bias, orthogonal_recurrence, set_gate_bias
from bench.models.spec import ModelSpec, register_model

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
CARRY_GATE = {"lstm": 1, "gru": 1}  # index of the gate that keeps the state: LSTM f, GRU z
INPUT_GATE = {"lstm": 0}  # PyTorch LSTM gate order i, f, g, o
INITS = {"rnn": ("standard", "orthogonal"), "lstm": ("standard", "chrono"), "gru": ("standard", "chrono")}


class RecurrentEncoder(nn.Module):
    def __init__(self, cell: str, d_in: int, width: int, layers: int, dropout: float,
                 bidirectional: bool = False):
        super().__init__()
        kwargs = {"nonlinearity": "tanh"} if cell == "rnn" else {}
        if bidirectional and cell != "lstm":
            raise ValueError(f"only the LSTM runs bidirectionally here, not {cell!r}")
        self.rnn = (BiLSTM(d_in, width, layers, dropout) if bidirectional else
                    CELLS[cell](d_in, width, num_layers=layers, batch_first=True,
                                dropout=dropout if layers > 1 else 0.0, **kwargs))
        self.lengths_on_device = True  # lengths only index on the device: no host sync per step
        self.cell, self.width, self.bidirectional = cell, width, bidirectional
        self.state_dim = width * (2 if bidirectional else 1)
        if cell in CARRY_GATE:
            self._carry_gate_bias(CARRY_GATE[cell])

    def _carry_gate_bias(self, gate: int) -> None:
        """Start every gated model carrying its state (Jozefowicz et al. 2015): the gate that
        keeps the old state gets bias 1, so it starts at sigmoid(1) = 0.73 instead of 0.5,
        which would halve the memory every step at the start of training and handicap the
        model on exactly the long-range tasks measured here.
        - LSTM: forget gate f (PyTorch gate order i, f, g, o) -> 1 (Keras's unit_forget_bias);
        - GRU: update gate z (gate order r, z, n; h' = (1 - z) n + z h) -> 1.
        PyTorch has two bias vectors per layer: b_ih's gate is set to 1, b_hh's to 0."""
        set_gate_bias(self.rnn, gate, self.width, 1.0)

    def init_memory(self, init: str, t_max: int) -> None:
        """Apply a memory init of bench/models/init.py (the constructor applied "standard"):
        "chrono" for the LSTM (forget bias log u, input bias -log u, per layer and direction,
        one u per unit) and the GRU (update-gate bias log u); "orthogonal" for the RNN."""
        if init == "standard":
            return
        if init == "orthogonal" and self.cell == "rnn":
            orthogonal_recurrence(self.rnn)
            return
        if init != "chrono" or self.cell not in CARRY_GATE:
            raise ValueError(f"init {init!r} does not apply to {self.cell}")
        params = dict(self.rnn.named_parameters())
        gates = [(CARRY_GATE[self.cell], 1.0)]
        if self.cell in INPUT_GATE:  # the LSTM's input gate gets the negative (Tallec & Ollivier eq. 16)
            gates.append((INPUT_GATE[self.cell], -1.0))
        with torch.no_grad():
            for name in (n for n in params if n.startswith("bias_ih")):  # per layer and direction
                carry = chrono_bias(self.width, t_max)  # (W,) one draw per unit, shared by f and i
                for gate, sign in gates:
                    rows = slice(gate * self.width, (gate + 1) * self.width)
                    params[name][rows] = sign * carry
                    params[name.replace("bias_ih", "bias_hh")][rows] = 0.0

    # lengths may also live on the model's device. This is a comment, not a docstring edit:
    # docstrings are part of the harness code hash, and the committed runs carry that hash.
    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """x (B, T, D), lengths (B,) on CPU or None when every sequence is full -> (B, T, S)."""
        if self.bidirectional:
            return self.rnn(x, lengths)  # (B, T, 2W), zeros at pads
        out, _ = self.rnn(x)
        return out

    def implementation(self, device: str) -> str:
        """What runs (the speed probe's `implementation` column)."""
        name = "nn.LSTM" if self.bidirectional else f"nn.{type(self.rnn).__name__}"
        kernel = f"cuDNN {name}" if device == "cuda" else f"torch {name} (CPU)"
        if self.bidirectional:
            kernel += " bidirectional; ragged: per-direction, length-reversed"
        return kernel

    def pool(self, states: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """states (B, T, S), last (B,) index of the last real position -> (B, S)."""
        rows = torch.arange(states.shape[0], device=states.device)
        if not self.bidirectional:
            return states[rows, last]
        forward_end = states[rows, last, : self.width]
        backward_end = states[:, 0, self.width:]
        return torch.cat([forward_end, backward_end], dim=-1)


def _recurrent(cell: str, bidirectional: bool = False):
    def build(d_in, width, layers, dropout, heads, ffn):
        return RecurrentEncoder(cell, d_in, width, layers, dropout, bidirectional)
    return build


for _name in ("rnn", "lstm", "gru"):
    register_model(ModelSpec(_name, "recurrent", "state at the last real position", _recurrent(_name),
                             inits=INITS[_name]))
register_model(ModelSpec("bilstm", "recurrent",
                         "forward state at the last real position + backward state at position 0",
                         _recurrent("lstm", bidirectional=True), reads_future=True, inits=INITS["lstm"]))
