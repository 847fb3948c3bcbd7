"""minGRU / minLSTM: the parallel log-space scan against the step-by-step recurrence."""
import pytest
import torch

from bench.models import MODELS
from bench.models.linear_scan import scan_log
from bench.models.scan import ScanEncoder, g, log_g
from bench.run.budget import TOLERANCE, solve
from bench.run.config import RunConfig
from bench.run.loop import train_run
from tasks.base import TASKS

KINDS = ["mingru", "minlstm"]


def encoder(kind: str, d_in: int = 5, width: int = 6, layers: int = 2, dtype=torch.float64) -> ScanEncoder:
    torch.manual_seed(0)
    return ScanEncoder(kind, d_in, width, layers, dropout=0.0).to(dtype)


def test_log_g_is_log_of_g():
    x = torch.linspace(-30, 30, 601, dtype=torch.float64)
    assert torch.allclose(log_g(x), g(x).log())
    assert (g(x) > 0).all()


def test_scan_log_is_the_linear_recurrence():
    torch.manual_seed(0)
    a, b = torch.rand(2, 7, 3, dtype=torch.float64), torch.rand(2, 7, 3, dtype=torch.float64)
    h, want = torch.zeros(2, 3, dtype=torch.float64), []
    for t in range(7):
        h = a[:, t] * h + b[:, t]
        want.append(h)
    assert torch.allclose(scan_log(a.log(), b.log()), torch.stack(want, 1))


@pytest.mark.parametrize("kind", KINDS)
def test_scan_equals_sequential_forward_and_gradients_with_padding(kind):
    net = encoder(kind)
    torch.manual_seed(1)
    x = torch.randn(3, 9, 5, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([9, 5, 2])
    weight = torch.randn(3, 9, 6, dtype=torch.float64)
    results = []
    for run in (net.forward, net.forward_sequential):
        x.grad = None
        net.zero_grad(set_to_none=True)
        out = run(x, lengths)  # (B, T, W)
        (out * weight).sum().backward()
        results.append((out.detach(), x.grad.clone(), [p.grad.clone() for p in net.parameters()]))
    (scan, scan_dx, scan_dp), (seq, seq_dx, seq_dp) = results
    assert torch.allclose(scan, seq, atol=1e-10)
    assert torch.allclose(scan_dx, seq_dx, atol=1e-10)
    assert len(scan_dp) == len(seq_dp) == 4
    for a, b in zip(scan_dp, seq_dp, strict=True):
        assert torch.allclose(a, b, atol=1e-10)
    assert (scan[1, 5:] == 0).all() and (scan[2, 2:] == 0).all()  # padded positions are zeros
    assert (scan_dx[2, 2:] == 0).all()  # nothing flows back into pads


@pytest.mark.parametrize("kind", KINDS)
def test_pads_never_change_real_positions(kind):
    """Each sequence alone equals its rows inside a right-padded batch, whatever the pads hold."""
    net = encoder(kind)
    torch.manual_seed(2)
    x = torch.randn(3, 8, 5, dtype=torch.float64)
    lengths = torch.tensor([8, 3, 6])
    batch = net(x, lengths)
    garbage = x.clone()
    garbage[1, 3:], garbage[2, 6:] = 1e3, -1e3
    assert torch.equal(net(garbage, lengths), batch)
    for row, n in enumerate(lengths.tolist()):
        alone = net(x[row: row + 1, :n], None)
        assert torch.allclose(alone, batch[row: row + 1, :n], atol=1e-12)
        assert torch.allclose(net.pool(batch, lengths - 1)[row], alone[0, -1])


def test_dropout_acts_between_layers_only_in_training():
    torch.manual_seed(0)
    net = ScanEncoder("mingru", 5, 6, 2, dropout=0.5).double()
    x = torch.randn(2, 7, 5, dtype=torch.float64)
    plain = ScanEncoder("mingru", 5, 6, 2, dropout=0.0).double()
    plain.load_state_dict(net.state_dict())
    assert torch.equal(net.eval()(x, None), plain(x, None))
    assert not torch.equal(net.train()(x, None), plain(x, None))
    one = ScanEncoder("mingru", 5, 6, 1, dropout=0.5).double().train()  # one layer: nothing between
    assert torch.equal(one(x, None), one.eval()(x, None))


@pytest.mark.parametrize("kind", KINDS)
def test_float32_scan_stays_accurate_over_long_sequences(kind):
    """A_t falls like -T; the log-space scan must still match the float64 recurrence at T=2048."""
    net = encoder(kind, layers=1)
    x = torch.randn(2, 2048, 5, dtype=torch.float64)
    with torch.no_grad():
        want = net.forward_sequential(x, None)
        got = net.float()(x.float(), None).double()
    assert torch.isfinite(got).all()
    assert torch.allclose(got, want, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_scan_runs_in_float32_under_bf16_autocast(kind):
    net = encoder(kind, dtype=torch.float32)
    x = torch.randn(2, 16, 5)
    with torch.no_grad():
        want = net(x, None)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = net(x, None)
    assert got.dtype == torch.float32
    assert torch.allclose(got, want, rtol=0.05, atol=0.05)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("budget", [100_000, 1_000_000])
def test_budget_is_met_within_tolerance(kind, budget):
    sized = solve(kind, budget, d_embed=64, layers=2, heads=4)
    assert abs(sized.params_core - budget) <= TOLERANCE * budget
    assert MODELS[kind].family == "recurrent-scan"


@pytest.mark.parametrize("kind", KINDS)
def test_a_tiny_training_run_finishes(kind):
    variant = TASKS["recall"].variant({"distance": 4, "n_train": 500, "n_val": 100, "n_test": 100})
    record = train_run(RunConfig(task="recall", model=kind, variant=variant, budget_params=20_000,
                                 d_embed=32, steps=20, eval_every=10))
    assert record["status"] == "ok"
    assert record["curve"][-1]["train_loss"] < 10


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("kind", KINDS)
def test_cuda_bf16_matches_cpu_float32(kind):
    net = encoder(kind, dtype=torch.float32)
    x = torch.randn(4, 512, 5)
    with torch.no_grad():
        want = net(x, None)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            got = net.cuda()(x.cuda(), None).float().cpu()
    assert torch.allclose(got, want, rtol=0.05, atol=0.05)
