"""Parity of every scan method with the float64 step-by-step recurrence, forward and backward."""
from __future__ import annotations

import pytest
import torch

from bench.models import scan_native
from bench.models.linear_scan import (
    METHODS,
    _chunked_,
    _loop_,
    auto_method,
    scan_depth,
    scan_from_log,
    scan_implementation_name,
    scan_linear,
    scan_log,
    scan_reference,
)

LINEAR = [m for m in METHODS if m != "log"]


def draw(B: int, T: int, W: int, seed: int = 0, dtype=torch.float32):
    """a = sigmoid(N(0, 3)) (some ~1e-3, some ~0.999), b = sigmoid(N(0, 1)), both (B, T, W)."""
    gen = torch.Generator().manual_seed(seed)
    a = torch.sigmoid(3 * torch.randn(B, T, W, generator=gen, dtype=torch.float64))
    b = torch.sigmoid(torch.randn(B, T, W, generator=gen, dtype=torch.float64))
    g = torch.randn(B, T, W, generator=gen, dtype=torch.float64)  # upstream gradient
    return a.to(dtype), b.to(dtype), g


def reference(a, b, g):
    """float64 h, dL/da, dL/db for L = sum(g * h), and the same grads under |g| (error scale:
    the sum of |terms| each gradient entry is made of, so cancellation is not held against us)."""
    a64, b64 = a.double().requires_grad_(), b.double().requires_grad_()
    h = scan_reference(a64, b64)
    ga, gb = torch.autograd.grad(h, (a64, b64), g)
    sa, sb = torch.autograd.grad(scan_reference(a64, b64), (a64, b64), g.abs())
    return h.detach(), ga, gb, sa, sb


def run(method, a, b, g):
    a, b = a.clone().requires_grad_(), b.clone().requires_grad_()
    h = scan_linear(a, b, method)
    ga, gb = torch.autograd.grad(h, (a, b), g.to(h.dtype), materialize_grads=True)
    return h.detach(), ga, gb


def check(method, a, b, rtol, floor=1e-3):
    g = torch.randn(a.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    h_ref, ga_ref, gb_ref, sa, sb = reference(a, b, g)
    h, ga, gb = run(method, a, b, g)
    assert h.shape == h_ref.shape
    assert ((h.double() - h_ref).abs() <= rtol * h_ref.abs()).all(), "forward"  # h >= b > 0
    floor = floor * rtol * sb.max()  # for entries whose |terms| sum to ~0 (dL/da_0 = 0 exactly)
    assert ((ga.double() - ga_ref).abs() <= rtol * sa + floor).all(), "grad a"
    assert ((gb.double() - gb_ref).abs() <= rtol * sb + floor).all(), "grad b"


@pytest.mark.parametrize("method", LINEAR)
@pytest.mark.parametrize("T", [1, 2, 7, 63, 64, 65, 257, 1000])
def test_float32_parity(method, T):
    a, b, _ = draw(3, T, 5, seed=T)
    check(method, a, b, rtol=1e-5)


@pytest.mark.parametrize("method", LINEAR)
def test_float32_parity_long(method):
    a, b, _ = draw(2, 4096, 6, seed=7)
    check(method, a, b, rtol=1e-5)


@pytest.mark.parametrize("T", [1, 7, 65, 1000])
def test_log_method_float64(T):
    """The log-space method is exact in float64 only: in float32 its error grows like eps * |sum log a|
    (~1e-4 relative at T=1000 with these draws). Even in float64 dL/da_0 (= 0) comes out as a
    difference of two large sums (~1e-7 at T=1000), hence the absolute floor."""
    a, b, _ = draw(3, T, 5, seed=T, dtype=torch.float64)
    check("log", a, b, rtol=1e-9, floor=1e3)


@pytest.mark.parametrize("T", [16, 17, 23, 64, 100, 129])
@pytest.mark.parametrize("chunk", [2, 4, 8, 16])
@pytest.mark.parametrize("reverse", [False, True])
def test_chunked_kernel_matches_loop(T, chunk, reverse):
    """Chunk sizes that do / do not divide T, both scan directions, against the loop kernel."""
    a, b, _ = draw(2, T, 3, seed=T + chunk, dtype=torch.float64)
    h_loop, h_chunk = b.clone(), b.clone()
    _loop_(a, h_loop, reverse)
    _chunked_(a, h_chunk, reverse, chunk=chunk)
    torch.testing.assert_close(h_chunk, h_loop, rtol=1e-12, atol=0)


@pytest.mark.parametrize("method", ["native", "loop", "chunked"])
def test_gradcheck(method):
    a, b, _ = draw(2, 37, 3, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda a, b: scan_linear(a, b, method),
                                     (a.requires_grad_(), b.requires_grad_()))


@pytest.mark.parametrize("method", LINEAR)
def test_noncontiguous_and_partial_grad(method):
    """a, b as views of one projection (the min cells' chunk()); gradient w.r.t. b only."""
    a, b, g = draw(2, 50, 4)
    ab = torch.cat([a, b], dim=-1).requires_grad_()
    a_view, b_view = ab.chunk(2, dim=-1)
    h = scan_linear(a_view.detach(), b_view, method)  # a does not require grad
    (gab,) = torch.autograd.grad(h, ab, g.float())
    _, _, gb_ref, _, sb = reference(a, b, g)
    assert (gab[..., :4] == 0).all()
    assert ((gab[..., 4:].double() - gb_ref).abs() <= 1e-5 * sb).all()


def test_dtypes():
    a, b, _ = draw(2, 9, 3)
    assert scan_linear(a.double(), b.double()).dtype == torch.float64
    assert scan_linear(a.bfloat16(), b.bfloat16()).dtype == torch.float32  # computed in float32 at least


@pytest.mark.parametrize("method", ["auto", *METHODS])
def test_scan_from_log_matches_harness(method):
    a, b, _ = draw(2, 40, 3, dtype=torch.float64)
    expect = scan_log(a.log(), b.log())
    torch.testing.assert_close(scan_from_log(a.log(), b.log(), method), expect, rtol=1e-10, atol=0)


def test_names_and_auto():
    """CPU: the compiled kernel where it builds (it does wherever these tests run with a C
    compiler), else the eager loop, named as such; CUDA: the log-space scan."""
    assert scan_implementation_name("auto", "cpu") == scan_implementation_name("native", "cpu")
    assert auto_method("cpu") == ("native" if scan_native.available() else "loop")
    assert scan_implementation_name("auto", "cuda") == scan_implementation_name("log", "cuda")
    with pytest.raises(ValueError):
        scan_linear(*draw(1, 3, 2)[:2], method="nope")


def test_depth_of_each_method():
    assert scan_depth("loop", 1024) == scan_depth("native", 1024) == 1024 and scan_depth("log", 1024) == 10
    assert scan_depth("chunked", 1024) == 2 * 32 + 32


def test_min_cells_use_the_linear_scan_on_cpu_and_match_the_log_space_form():
    """The CPU path (the fused C kernel, or the eager linear-space gates and loop without a
    compiler) equals the log-space scan of the log coefficients, forward and backward."""
    from bench.models.scan import MinCell

    for kind in ("mingru", "minlstm"):
        torch.manual_seed(0)
        cell = MinCell(kind, 5, 7).double()
        x = torch.randn(3, 40, 5, dtype=torch.float64, requires_grad=True)
        fast = cell(x)
        slow = scan_log(*cell.log_coefficients(x))
        assert torch.allclose(fast, slow, rtol=1e-9, atol=1e-12)
        g_fast, = torch.autograd.grad(fast.sum(), x)
        g_slow, = torch.autograd.grad(slow.sum(), x)
        assert torch.allclose(g_fast, g_slow, rtol=1e-8, atol=1e-10)
    assert "sequential scan" in scan_implementation_name("auto", "cpu")
