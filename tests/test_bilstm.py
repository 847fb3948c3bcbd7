"""BiLSTM (unpacked, fused directions) == packed bidirectional nn.LSTM, outputs and gradients."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from bench.models.bilstm import BiLSTM, reverse_within_length

LENGTHS = [9, 1, 4, 9, 7, 2]


def packed_bilstm(lstm: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """The reference: pack, run the bidirectional nn.LSTM, pad with zeros."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    if lengths is None:
        return nn.LSTM.forward(lstm, x)[0]
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out = nn.LSTM.forward(lstm, packed)[0]
    return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0]  # includes 1 and T
T = 9


def pair(d_in=5, width=4, layers=2, dropout=0.0, dtype=torch.float32, seed=0):
    torch.manual_seed(seed)
    ref = nn.LSTM(d_in, width, num_layers=layers, batch_first=True, bidirectional=True,
                  dropout=dropout).to(dtype)
    return ref, BiLSTM.from_lstm(ref)


def outputs_and_grads(model, run, x, g):
    x = x.clone().requires_grad_()
    out = run(model, x)
    grads = torch.autograd.grad(out, [x, *model.parameters()], g)
    return out.detach(), grads


def assert_same(ref, mine, x, lengths, atol, rtol=0.0):
    g = torch.randn(*x.shape[:2], 2 * ref.hidden_size, dtype=x.dtype)
    o1, g1 = outputs_and_grads(ref, lambda m, x: packed_bilstm(m, x, lengths), x, g)
    o2, g2 = outputs_and_grads(mine, lambda m, x: m(x, lengths), x, g)
    torch.testing.assert_close(o2, o1, atol=atol, rtol=rtol)
    names = ["input"] + [n for n, _ in ref.named_parameters()]
    for name, a, b in zip(names, g2, g1):
        torch.testing.assert_close(a, b, atol=atol, rtol=rtol, msg=lambda m, name=name: f"grad {name}: {m}")


def test_reverse_within_length():
    x = torch.arange(2 * 5, dtype=torch.float32).view(2, 5, 1)
    lengths = torch.tensor([3, 5])
    y = reverse_within_length(x, lengths)
    assert y[0, :, 0].tolist() == [2, 1, 0, 3, 4]  # real part reversed, pads in place
    assert y[1, :, 0].tolist() == [9, 8, 7, 6, 5]
    assert torch.equal(reverse_within_length(y, lengths), x)  # involution
    assert torch.equal(reverse_within_length(x, None), x.flip(1))
    xd = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: reverse_within_length(x, lengths), (xd,))


def test_state_dict_compatible():
    ref, mine = pair()
    assert list(ref.state_dict()) == list(mine.state_dict())
    fresh = BiLSTM(5, 4, 2)
    fresh.load_state_dict(ref.state_dict())  # strict
    ref.load_state_dict(fresh.state_dict())


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("ragged", [True, False])
def test_matches_packed_float32(layers, ragged):
    ref, mine = pair(layers=layers)
    x = torch.randn(len(LENGTHS), T, 5)
    lengths = torch.tensor(LENGTHS) if ragged else None
    assert_same(ref, mine, x, lengths, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("layers", [1, 2])
def test_matches_packed_float64(layers):
    ref, mine = pair(layers=layers, dtype=torch.float64)
    x = torch.randn(len(LENGTHS), T, 5, dtype=torch.float64)
    assert_same(ref, mine, x, torch.tensor(LENGTHS), atol=1e-12)


def test_pads_are_zero_and_ignored():
    ref, mine = pair()
    lengths = torch.tensor(LENGTHS)
    x = torch.randn(len(LENGTHS), T, 5, requires_grad=True)
    out = mine(x, lengths)
    pad = torch.arange(T)[None, :] >= lengths[:, None]
    assert (out[pad] == 0).all()
    x2 = x.detach().clone()
    x2[pad] = 1e3  # any finite pad content
    torch.testing.assert_close(mine(x2, lengths), out, atol=0, rtol=0)
    (gx,) = torch.autograd.grad(out.sum(), x)
    assert (gx[pad] == 0).all()


def test_dropout_placement():
    """dropout=1 zeroes every inter-layer activation, deterministically: the packed nn.LSTM and
    BiLSTM in train mode must then agree exactly (dropout after layers 0..L-2, never the last)."""
    ref, mine = pair(layers=3, dropout=1.0)
    ref.train(), mine.train()
    x = torch.randn(len(LENGTHS), T, 5)
    lengths = torch.tensor(LENGTHS)
    torch.testing.assert_close(mine(x, lengths), packed_bilstm(ref, x, lengths), atol=1e-6, rtol=1e-5)


def test_dropout_active_in_train_only():
    _, mine = pair(layers=2, dropout=0.5)
    x, lengths = torch.randn(len(LENGTHS), T, 5), torch.tensor(LENGTHS)
    mine.eval()
    a, b = mine(x, lengths), mine(x, lengths)
    assert torch.equal(a, b)
    mine.train()
    assert not torch.equal(mine(x, lengths), a)
