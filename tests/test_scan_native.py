"""The compiled CPU kernel of the min cells (bench/models/scan_native.py): forward and
backward against the float64 step-by-step recurrence of the definitions, at lengths 1 to
4096 and widths that are and are not a multiple of the kernel's 16 lanes; extreme
pre-activations; thread-count invariance; and the named fallback when no compiler works."""
from __future__ import annotations

import copy

import pytest
import torch

from bench.models import scan_native
from bench.models.scan import MinCell, ScanEncoder

KINDS = ["mingru", "minlstm"]
needs_kernel = pytest.mark.skipif(not scan_native.available(), reason=f"no C kernel: {scan_native.reason()}")


def cell_pair(kind: str, d_in: int, width: int, seed: int = 0):
    """A min cell with random (not standard) biases, and its float64 twin."""
    torch.manual_seed(seed)
    cell = MinCell(kind, d_in, width)
    with torch.no_grad():
        cell.linear.bias.normal_(0, 2)
    return cell, copy.deepcopy(cell).double()


def grads(cell: MinCell, x: torch.Tensor, out: torch.Tensor, g: torch.Tensor):
    return torch.autograd.grad(out, (x, cell.linear.weight, cell.linear.bias), g.to(out.dtype))


def check(kind: str, B: int, T: int, W: int, dtype: torch.dtype, rtol: float, scale: float = 2.0, seed: int = 0):
    cell, ref_cell = cell_pair(kind, 5, W, seed)
    cell = cell.to(dtype)
    x64 = (scale * torch.randn(B, T, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)))
    x64.requires_grad_()
    x = x64.detach().to(dtype).requires_grad_()
    h, ref = cell(x), ref_cell.forward_sequential(x64)
    g = torch.randn(ref.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 1))
    assert h.dtype == dtype and h.shape == ref.shape
    assert ((h.double() - ref).abs() <= rtol * ref.abs()).all(), "forward"  # h > 0: a mean of g > 0
    for got, want, what in zip(grads(cell, x, h, g), grads(ref_cell, x64, ref, g), ("dx", "dW", "dbias"), strict=True):
        torch.testing.assert_close(got.double(), want, rtol=10 * rtol, atol=10 * rtol * float(want.abs().max()),
                                   msg=lambda m, what=what: f"{kind} {what}: {m}")


@needs_kernel
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("T", [1, 2, 15, 16, 17, 63, 64, 65, 257, 1000])
def test_float32_parity_with_the_float64_recurrence(kind, T):
    check(kind, B=3, T=T, W=37, dtype=torch.float32, rtol=2e-5, seed=T)  # 37 = 2 x 16 lanes + 5


@needs_kernel
@pytest.mark.parametrize("kind", KINDS)
def test_float32_parity_at_4096(kind):
    check(kind, B=2, T=4096, W=16, dtype=torch.float32, rtol=2e-5, seed=4)


@needs_kernel
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("T,W", [(1, 3), (17, 8), (129, 40)])
def test_float64_is_exact(kind, T, W):
    check(kind, B=2, T=T, W=W, dtype=torch.float64, rtol=1e-12, seed=W)


@needs_kernel
@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck(kind):
    gates = MinCell.GATES[kind]
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 7, 4, dtype=torch.float64, generator=gen).requires_grad_()
    weight = torch.randn(gates * 3, 4, dtype=torch.float64, generator=gen).requires_grad_()
    bias = torch.randn(gates * 3, dtype=torch.float64, generator=gen).requires_grad_()
    assert torch.autograd.gradcheck(lambda *a: scan_native.min_layer(*a, kind), (x, weight, bias))


@needs_kernel
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_preactivations_stay_finite_and_exact(kind, dtype):
    """Pre-activations up to +-200 (exp over- and underflows in float32; minLSTM's f and i both
    very negative is 0/0 in the naive f/(f+i)) against the float64 definitions."""
    gates, W = MinCell.GATES[kind], 9
    cell = MinCell(kind, gates * W, W)
    with torch.no_grad():  # the projection is the input itself
        cell.linear.weight.copy_(torch.eye(gates * W))
        cell.linear.bias.zero_()
    ref_cell = copy.deepcopy(cell).double()
    values = torch.tensor([-200.0, -90.0, -30.0, -3.0, -1e-3, 0.0, 1e-3, 3.0, 30.0, 90.0, 200.0], dtype=torch.float64)
    pick = torch.randint(0, len(values), (2, 40, gates * W), generator=torch.Generator().manual_seed(0))
    x64 = values[pick].requires_grad_()
    x = x64.detach().to(dtype).requires_grad_()
    cell = cell.to(dtype)
    h, ref = cell(x), ref_cell.forward_sequential(x64)
    g = torch.ones_like(ref)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert torch.isfinite(h).all()
    torch.testing.assert_close(h.double(), ref, rtol=tol, atol=tol)
    got, want = grads(cell, x, h, g)[0], grads(ref_cell, x64, ref, g)[0]
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got.double(), want, rtol=10 * tol, atol=10 * tol * float(want.abs().max()))


@needs_kernel
@pytest.mark.parametrize("kind", KINDS)
def test_threads_split_work_without_changing_a_bit(kind):
    """B=1 at 2 threads splits W into blocks; B=3 splits rows; every result of the kernel is
    bitwise the one of 1 thread (each element's arithmetic does not depend on the split).
    The projection is the identity, so that the GEMMs around it are exact too."""
    threads, W = torch.get_num_threads(), 70
    for B in (1, 3):
        cell = MinCell(kind, MinCell.GATES[kind] * W, W)
        with torch.no_grad():
            cell.linear.weight.copy_(torch.eye(MinCell.GATES[kind] * W))
        x = torch.randn(B, 33, MinCell.GATES[kind] * W, requires_grad=True)
        results = []
        try:
            for n in (1, 2):
                torch.set_num_threads(n)
                h = cell(x)
                results.append((h, *grads(cell, x, h, torch.ones_like(h))))
        finally:
            torch.set_num_threads(threads)
        for one, two in zip(*results, strict=True):
            assert torch.equal(one, two)


@needs_kernel
def test_the_encoder_names_the_kernel_and_its_depth():
    net = ScanEncoder("mingru", 5, 6, 2, dropout=0.0)
    assert net.implementation("cpu").startswith("fused C gates + sequential scan (")
    assert net.sequential_depth("cpu", 100) == 200


def test_without_a_kernel_the_eager_scan_runs_and_is_named(monkeypatch):
    """What CI without a compiler gets: the same states from the eager gates and loop."""
    torch.manual_seed(0)
    net = ScanEncoder("minlstm", 5, 6, 2, dropout=0.0).double()
    x = torch.randn(2, 30, 5, dtype=torch.float64)
    fast = net(x, None)
    monkeypatch.setattr(scan_native, "_load", lambda: (None, "no C compiler found"))
    assert not scan_native.available() and not scan_native.supports(x)
    assert "sequential scan (T eager steps" in net.implementation("cpu")
    assert "C kernel unavailable: no C compiler found" in net.implementation("cpu")
    torch.testing.assert_close(net(x, None), fast, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(net.forward_sequential(x, None), fast, rtol=1e-12, atol=1e-14)


def test_a_failing_compiler_or_the_switch_falls_back_with_the_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path))
    try:
        scan_native._load.cache_clear()
        monkeypatch.setenv("CC", "false")  # a "compiler" that fails on every file
        assert not scan_native.available() and scan_native.reason().startswith("compile failed (")
        scan_native._load.cache_clear()
        monkeypatch.setenv("BENCH_NATIVE_SCAN", "0")
        assert not scan_native.available() and "BENCH_NATIVE_SCAN=0" in scan_native.reason()
    finally:
        scan_native._load.cache_clear()
    assert not list(tmp_path.rglob("*.so"))


def test_bad_shapes_fail_loudly():
    x = torch.zeros(1, 2, 3)
    with pytest.raises(ValueError, match="unknown min cell"):
        scan_native.min_layer(x, torch.zeros(4, 3), torch.zeros(4), "gru")
    with pytest.raises(ValueError, match="minlstm"):
        scan_native.min_layer(x, torch.zeros(4, 3), torch.zeros(4), "minlstm")  # 4 is not 3 * W
    with pytest.raises(ValueError, match="dtype"):
        scan_native.min_layer(x, torch.zeros(4, 3, dtype=torch.float64), torch.zeros(4), "mingru")


@needs_kernel
def test_a_second_backward_through_the_graph_gives_the_same_gradients():
    """The backward writes dL/dP over the saved P; a retained graph recomputes P."""
    cell, _ = cell_pair("minlstm", 5, 20)
    x = torch.randn(2, 30, 5, requires_grad=True)
    h = cell(x)
    first = torch.autograd.grad(h.sum(), (x, cell.linear.weight, cell.linear.bias), retain_graph=True)
    second = torch.autograd.grad(h.sum(), (x, cell.linear.weight, cell.linear.bias))
    for one, two in zip(first, second, strict=True):
        torch.testing.assert_close(one, two, rtol=1e-6, atol=1e-7)
