import pytest
import torch

from bench.models import MODELS, SequenceModel
from bench.models.recurrent import RecurrentEncoder
from bench.run.budget import solve

CORE = ["rnn", "lstm", "gru", "bilstm", "transformer", "transformer_causal"]
VOCAB, CLASSES, D = 20, 5, 16


def make(model: str, vocab: int | None = VOCAB, n_features: int | None = None) -> SequenceModel:
    torch.manual_seed(0)
    sized = solve(model, 8_000, D, layers=2, heads=4)
    encoder = MODELS[model].build(D, sized.width, 2, 0.0, 4, sized.ffn)
    return SequenceModel(encoder, D, CLASSES, 0.0, vocab_size=vocab, n_features=n_features).eval()


@pytest.mark.parametrize("model", MODELS.names())
def test_output_shapes(model):
    net = make(model)
    tokens = torch.randint(1, VOCAB, (3, 9))
    positions = torch.tensor([[0, 8], [2, 3], [5, 5]])
    assert net(tokens, None, positions).shape == (3, 2, CLASSES)
    assert net(tokens, None).shape == (3, CLASSES)
    lengths = torch.tensor([9, 4, 6])
    assert net(tokens, lengths, last=lengths - 1).shape == (3, CLASSES)
    features = make(model, vocab=None, n_features=2)
    assert features(torch.rand(3, 9, 2), None).shape == (3, CLASSES)


@pytest.mark.parametrize("model", MODELS.names())
def test_padding_never_changes_real_positions(model):
    """Each sequence alone, unpadded, gives the same outputs as inside a padded batch,
    whatever garbage sits in the padding."""
    net = make(model)
    torch.manual_seed(1)
    lengths = torch.tensor([7, 4, 2])
    tokens = torch.randint(1, VOCAB, (3, 7))  # padding positions hold random tokens on purpose
    positions = torch.stack([torch.tensor([0, n - 1]) for n in lengths.tolist()])
    with torch.no_grad():
        batch_tokens = net(tokens, lengths, positions)  # (3, 2, C)
        batch_pooled = net(tokens, lengths, last=lengths - 1)  # (3, C)
        for row, n in enumerate(lengths.tolist()):
            alone = tokens[row: row + 1, :n]
            assert torch.allclose(net(alone, None, positions[row: row + 1]), batch_tokens[row: row + 1],
                                  atol=1e-5), f"{model}: per-token output changed by padding"
            assert torch.allclose(net(alone, None), batch_pooled[row: row + 1], atol=1e-5), \
                f"{model}: pooled output changed by padding"


@pytest.mark.parametrize("model,sees_future", [("rnn", False), ("lstm", False), ("gru", False),
                                               ("bilstm", True), ("transformer", True),
                                               ("transformer_causal", False)])
def test_which_models_see_the_future(model, sees_future):
    net = make(model)
    tokens = torch.randint(1, VOCAB, (2, 10))
    changed = tokens.clone()
    changed[:, 6:] = torch.randint(1, VOCAB, (2, 4))
    position = torch.tensor([[5], [5]])
    with torch.no_grad():
        moved = not torch.allclose(net(tokens, None, position), net(changed, None, position), atol=1e-6)
    assert moved == sees_future


def test_from_scratch_elman_step_matches_nn_rnn():
    """h_t = tanh(x_t W_x + h_{t-1} W_h + b), with b = b_ih + b_hh, equals nn.RNN numerically."""
    torch.manual_seed(0)
    encoder = RecurrentEncoder("rnn", d_in=6, width=5, layers=1, dropout=0.0)
    rnn = encoder.rnn
    W_x, W_h = rnn.weight_ih_l0.T, rnn.weight_hh_l0.T
    b = rnn.bias_ih_l0 + rnn.bias_hh_l0
    x = torch.randn(3, 8, 6)
    h = torch.zeros(3, 5)
    steps = []
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ W_x + h @ W_h + b)
        steps.append(h)
    with torch.no_grad():
        assert torch.allclose(torch.stack(steps, dim=1), encoder(x, None), atol=1e-6)


def _bias_sum(rnn, gate: int, width: int) -> list[float]:
    """Per layer and direction: b_ih + b_hh of one gate's rows (what the cell adds before sigmoid)."""
    rows = slice(gate * width, (gate + 1) * width)
    params = dict(rnn.named_parameters())
    return [float((params[name][rows] + params[name.replace("bias_ih", "bias_hh")][rows]).detach().mean())
            for name in params if name.startswith("bias_ih")]


@pytest.mark.parametrize("cell,gate,bidirectional", [("lstm", 1, False), ("gru", 1, False), ("lstm", 1, True)])
def test_gated_recurrences_start_carrying_their_state(cell, gate, bidirectional):
    """The README's init: LSTM forget gate (i, f, g, o: index 1) and GRU update gate (r, z, n:
    index 1, h' = (1 - z) n + z h) start with total bias exactly 1, in every layer and direction."""
    torch.manual_seed(0)
    encoder = RecurrentEncoder(cell, 8, 6, layers=2, dropout=0.0, bidirectional=bidirectional)
    assert _bias_sum(encoder.rnn, gate, 6) == [1.0] * (4 if bidirectional else 2)
    other = 0 if gate else 1  # a gate we did not touch keeps PyTorch's uniform init (mean ~ 0, not 1)
    assert all(abs(b) < 0.9 for b in _bias_sum(encoder.rnn, other, 6))


def test_gru_update_gate_bias_makes_it_carry():
    """With zero input and state, the GRU's update gate z = sigmoid(1) = 0.73: h' keeps 73% of h."""
    torch.manual_seed(0)
    encoder = RecurrentEncoder("gru", 4, 5, layers=1, dropout=0.0)
    w = 5
    b_ih, b_hh = encoder.rnn.bias_ih_l0, encoder.rnn.bias_hh_l0
    z = torch.sigmoid(b_ih[w:2 * w] + b_hh[w:2 * w])
    assert torch.allclose(z, torch.full_like(z, torch.sigmoid(torch.tensor(1.0)).item()))


def test_scan_models_start_carrying_their_state():
    """minGRU: a = 1 - sigmoid(k), k bias -1; minLSTM: a = f / (f + i), f bias +1, i bias -1:
    both start at a = sigmoid(1) = 0.73 at zero input, like the LSTM's forget gate."""
    from bench.models.scan import MinCell

    expected = torch.sigmoid(torch.tensor(1.0))
    for kind in ("mingru", "minlstm"):
        cell = MinCell(kind, 4, 3)
        with torch.no_grad():
            cell.linear.weight.zero_()
            log_a, _ = cell.log_coefficients(torch.zeros(1, 1, 4))
        assert torch.allclose(log_a.exp(), expected.expand_as(log_a), atol=1e-6), kind
