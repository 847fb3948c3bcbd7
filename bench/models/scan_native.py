"""A compiled CPU kernel for the min cells: gates and scan in one pass over memory.

The minGRU/minLSTM layer is one GEMM (the fused input projection P = x W^T + c over all T,
all gates) and an elementwise recurrence. In eager torch the gates alone take ~15 full
passes over (B, T, W) tensors forward and backward, and the scan T tiny dispatches; here
both are one C loop per direction:

- forward:  reads P (B, T, G*W), writes h (B, T, W):  for t: a_t, b_t from P[:, t] (the gate
  formulas of bench/models/scan.py), h_t = a_t * h_{t-1} + b_t;
- backward: reads dL/dh, P and h, writes dL/dP:  for t from T-1 down: d_t = g_t + a_{t+1}
  d_{t+1}, then the gates' chain rule (d_t * (g(h~) - h_{t-1}) through z, or through the
  normalised f, i).
The recurrence is sequential in t, as the float64 reference is, so the result is the
sequential form up to float rounding (tests/test_scan_native.py). Parallel over batch rows
and width blocks with OpenMP (the same libgomp torch loaded, so the same thread pool), at
torch.get_num_threads(); vectorised over W; float32 with a branch-free exp (Cephes
polynomial, <= 2 ulp) so the W loop vectorises; float64 uses libm's exp (tests).

Built on first use with the system C compiler (`$CC` or cc), cached under $BENCH_CACHE or
~/.cache/rnn-vs-transformer-bench/kernels/<hash of source, flags, compiler, CPU>. When no
compiler works, `available()` is False and `reason()` says why: the callers fall back to the
eager torch scan (bench/models/linear_scan.py "loop") and name that fallback.
$BENCH_NATIVE_SCAN=0 turns the kernel off.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

KINDS = {"mingru": 0, "minlstm": 1}
GATES = {"mingru": 2, "minlstm": 3}

SOURCE = r"""
#include <math.h>
#include <stdint.h>
#include <string.h>

/* GCC/Clang vector extensions: N lanes of 64 bytes, lowered to whatever SIMD the target has
   (one AVX-512 register, two AVX2 ones, four SSE/NEON ones). Comparisons give lane masks
   (-1 / 0); SEL(m, x, y) picks x where m. */
typedef float vf __attribute__((vector_size(64)));
typedef int32_t vfi __attribute__((vector_size(64)));
typedef double vd __attribute__((vector_size(64)));
typedef int64_t vdi __attribute__((vector_size(64)));
#define SEL(VI, VT, m, x, y) ((VT)(((VI)(x) & (m)) | ((VI)(y) & ~(m))))

/* exp in float: Cephes expf (Cody-Waite reduction, degree-5 polynomial, <= 2 ulp), inf above
   88.72, 0 below -87.33 (where expf is denormal), NaN stays NaN. */
static inline vf exp_vf(vf x) {
    vf lo = (vf){0} - 87.33f, hi = (vf){0} + 88.72f;
    vf c = SEL(vfi, vf, x < lo, lo, SEL(vfi, vf, x > hi, hi, x));
    c = SEL(vfi, vf, x != x, (vf){0}, c);
    vf n = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  /* round(c / ln 2) */
    vf r = c - n * 0.693359375f + n * 2.12194440e-4f;
    vf y = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r
             + 4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f;
    y = y * r * r + r + 1.0f;
    y = y * (vf)((__builtin_convertvector(n, vfi) + 127) << 23);  /* times 2^n */
    y = SEL(vfi, vf, x > hi, (vf){0} + INFINITY, y);
    y = SEL(vfi, vf, x < lo, (vf){0}, y);
    return SEL(vfi, vf, x != x, x, y);
}
/* exp in double: libm per lane (float64 is for tests and references, not for speed) */
static inline vd exp_vd(vd x) {
    for (int j = 0; j < 8; j++) x[j] = exp(x[j]);
    return x;
}

/* A (B, W) grid as jobs: one batch row and one block of W each (blocks a multiple of 16
   wide), so that a small batch still fills the threads. */
static inline int64_t blocks_of(int64_t B, int64_t W, int threads) {
    int64_t want = B >= threads ? 1 : (threads + B - 1) / B, most = (W + 15) / 16;
    return want < most ? want : most;
}
static inline void span(int64_t W, int64_t nb, int64_t j, int64_t* lo, int64_t* hi) {
    int64_t per = ((W + nb - 1) / nb + 15) / 16 * 16;
    *lo = j * per < W ? j * per : W;
    *hi = *lo + per < W ? *lo + per : W;
}

/* The gates of N lanes; x[c]: pre-activations (projection + bias) of gate c, [k, h~]
   (minGRU) or [f, i, h~] (minLSTM). e_x = exp(-|x|), so sigmoid(x) = (x >= 0 ? 1 : e_x) /
   (1 + e_x) with every denominator in [1, 2]: their product is inverted by one division.
   minGRU: z = sigmoid(k), a = 1 - z, s = z.  minLSTM: f' = sigmoid(f), i' = sigmoid(i),
   q = i'/f' = exp(min(i,0) - min(f,0)) (1 + e_f) / (1 + e_i) = num / den,
   a = f'/(f'+i') = 1/(1+q), s = i'/(f'+i') = q/(1+q), both from m = min(q, 1/q) (no inf/inf).
   b = s g(h~), g(x) = x + 1/2 (x >= 0) or sigmoid(x); gd = g'(h~).
   Backward only: df = d(log i' - log f')/df = -sigmoid(-f), di = .../di = sigmoid(-i). */
#define DEFINE(T, VT, VI, N, SFX)                                                           \
typedef struct { VT a, s, gv, gd, df, di; } gates_##SFX;                                    \
static inline VT abs_##SFX(VT x) { return SEL(VI, VT, x < 0, -x, x); }                      \
static inline __attribute__((always_inline)) gates_##SFX gates_of_##SFX(const int lstm,     \
                                                                         const int bwd, const VT* x) { \
    gates_##SFX o;                                                                          \
    VT zero = {0}, one = zero + 1, xh = x[lstm + 1];                                        \
    VT eh = exp_v##SFX(-abs_##SFX(xh)), dh = 1 + eh;                                        \
    VI pos = xh >= 0;                                                                       \
    o.df = o.di = zero;                                                                     \
    VT rh;                                                                                  \
    if (!lstm) {                                                                            \
        VT k = x[0], ek = exp_v##SFX(-abs_##SFX(k)), dk = 1 + ek, q = 1 / (dk * dh);        \
        VT r = q * dh;                                                                      \
        rh = q * dk;                                                                        \
        VI kp = k >= 0;                                                                     \
        o.s = SEL(VI, VT, kp, r, ek * r);                                                   \
        o.a = SEL(VI, VT, kp, ek * r, r);                                                   \
    } else {                                                                                \
        VT f = x[0], i = x[1], ef = exp_v##SFX(-abs_##SFX(f)), ei = exp_v##SFX(-abs_##SFX(i)); \
        VT df = 1 + ef, di = 1 + ei;                                                        \
        VT num = exp_v##SFX(SEL(VI, VT, i < 0, i, zero) - SEL(VI, VT, f < 0, f, zero)) * df; \
        VI small = num <= di;                                                               \
        VT m = SEL(VI, VT, small, num, di) / SEL(VI, VT, small, di, num), dm = 1 + m;       \
        VT r;                                                                               \
        if (bwd) {                                                                          \
            VT mh = dm * dh, fi = df * di, q = 1 / (mh * fi);                               \
            r = q * dh * fi;                                                                \
            rh = q * dm * fi;                                                               \
            o.df = -SEL(VI, VT, f >= 0, ef, one) * (q * mh * di);                           \
            o.di = SEL(VI, VT, i >= 0, ei, one) * (q * mh * df);                            \
        } else {                                                                            \
            VT q = 1 / (dm * dh);                                                           \
            r = q * dh;                                                                     \
            rh = q * dm;                                                                    \
        }                                                                                   \
        o.a = SEL(VI, VT, small, r, m * r);                                                 \
        o.s = SEL(VI, VT, small, m * r, r);                                                 \
    }                                                                                       \
    VT sg = SEL(VI, VT, pos, rh, eh * rh);                                                  \
    o.gv = SEL(VI, VT, pos, xh + (T)0.5, sg);                                               \
    o.gd = SEL(VI, VT, pos, one, sg * rh);                                                  \
    return o;                                                                               \
}                                                                                           \
/* n <= N lanes from p (zeros past n) and back */                                           \
static inline __attribute__((always_inline)) VT get_##SFX(const T* p, int n) {              \
    VT v = {0};                                                                             \
    if (n == N) memcpy(&v, p, sizeof(VT));  /* one unaligned vector load */                 \
    else for (int j = 0; j < n; j++) v[j] = p[j];                                           \
    return v;                                                                               \
}                                                                                           \
static inline __attribute__((always_inline)) void put_##SFX(T* p, VT v, int n) {            \
    if (n == N) memcpy(p, &v, sizeof(VT));                                                  \
    else for (int j = 0; j < n; j++) p[j] = v[j];                                           \
}                                                                                           \
/* n lanes from w of position t: p = P[b, t], hp = h_{t-1} row (zeros at t = 0) */          \
static inline __attribute__((always_inline)) void fwd_vec_##SFX(                            \
        const int lstm, const T* p, const T* bias, const T* hp, T* h, int64_t W, int64_t w, int n) { \
    const int G = lstm ? 3 : 2;                                                             \
    VT x[3];                                                                                \
    for (int c = 0; c < G; c++) x[c] = get_##SFX(p + c * W + w, n) + get_##SFX(bias + c * W + w, n); \
    gates_##SFX o = gates_of_##SFX(lstm, 0, x);                                             \
    put_##SFX(h + w, o.a * get_##SFX(hp + w, n) + o.s * o.gv, n);                           \
}                                                                                           \
/* d = g + carry (carry = a_{t+1} d_{t+1}); dP and the bias sums acc from d; carry <- a d */ \
static inline __attribute__((always_inline)) void bwd_vec_##SFX(                            \
        const int lstm, const T* p, const T* bias, const T* hp, const T* g, T* dp, VT* carry, \
        VT* acc, int64_t nv, int64_t W, int64_t w, int n) {                                 \
    const int G = lstm ? 3 : 2;                                                             \
    VT x[3], dx[3];                                                                         \
    for (int c = 0; c < G; c++) x[c] = get_##SFX(p + c * W + w, n) + get_##SFX(bias + c * W + w, n); \
    gates_##SFX o = gates_of_##SFX(lstm, 1, x);                                             \
    VT d = get_##SFX(g + w, n) + *carry, dk = d * (o.gv - get_##SFX(hp + w, n)) * (o.s * o.a); \
    dx[G - 1] = d * o.s * o.gd;                                                             \
    dx[0] = lstm ? dk * o.df : dk;                                                          \
    if (lstm) dx[1] = dk * o.di;                                                            \
    *carry = o.a * d;                                                                       \
    for (int c = 0; c < G; c++) {                                                           \
        put_##SFX(dp + c * W + w, dx[c], n);                                                \
        acc[c * nv] += dx[c];                                                               \
    }                                                                                       \
}                                                                                           \
static inline void fwd_job_##SFX(const int lstm, const T* P, const T* bias, T* H, int64_t b,   \
                                 int64_t Tn, int64_t W, int64_t lo, int64_t hi) {           \
    const int G = lstm ? 3 : 2;                                                             \
    T zeros[W];                                                                             \
    memset(zeros, 0, sizeof(zeros));                                                        \
    for (int64_t t = 0; t < Tn; t++) {                                                      \
        const T* p = P + (b * Tn + t) * G * W;                                              \
        T* h = H + (b * Tn + t) * W;                                                        \
        const T* hp = t ? h - W : zeros;                                                    \
        int64_t w = lo;                                                                     \
        for (; w + N <= hi; w += N) fwd_vec_##SFX(lstm, p, bias, hp, h, W, w, N);           \
        if (w < hi) fwd_vec_##SFX(lstm, p, bias, hp, h, W, w, (int)(hi - w));               \
    }                                                                                       \
}                                                                                           \
static inline void bwd_job_##SFX(const int lstm, const T* P, const T* bias, const T* H,     \
                                 const T* Gr, T* dP, T* dbias, int64_t b, int64_t Tn,       \
                                 int64_t W, int64_t lo, int64_t hi) {                       \
    const int G = lstm ? 3 : 2;                                                             \
    int64_t nv = (hi - lo + N - 1) / N, v;                                                  \
    VT carry[nv > 0 ? nv : 1], acc[3 * (nv > 0 ? nv : 1)];  /* acc[c nv + v] */             \
    T zeros[W];                                                                             \
    memset(carry, 0, sizeof(carry));                                                        \
    memset(acc, 0, sizeof(acc));                                                            \
    memset(zeros, 0, sizeof(zeros));                                                        \
    for (int64_t t = Tn - 1; t >= 0; t--) {                                                 \
        const T* p = P + (b * Tn + t) * G * W;                                              \
        T* dp = dP + (b * Tn + t) * G * W;                                                  \
        const T* g = Gr + (b * Tn + t) * W;                                                 \
        const T* hp = t ? H + (b * Tn + t - 1) * W : zeros;                                 \
        int64_t w = lo;                                                                     \
        for (v = 0; w + N <= hi; w += N, v++)                                               \
            bwd_vec_##SFX(lstm, p, bias, hp, g, dp, carry + v, acc + v, nv, W, w, N);       \
        if (w < hi) bwd_vec_##SFX(lstm, p, bias, hp, g, dp, carry + v, acc + v, nv, W, w, (int)(hi - w)); \
    }                                                                                       \
    for (int c = 0; c < G; c++)                                                             \
        for (v = 0; v < nv; v++) {                                                          \
            int64_t w = lo + v * N;                                                         \
            put_##SFX(dbias + b * G * W + c * W + w, acc[c * nv + v], hi - w < N ? (int)(hi - w) : N); \
        }                                                                                   \
}                                                                                           \
void min_forward_##SFX(int kind, const T* P, const T* bias, T* H, int64_t B, int64_t Tn,    \
                       int64_t W, int threads) {                                            \
    int64_t nb = blocks_of(B, W, threads);                                                  \
    _Pragma("omp parallel for num_threads(threads) schedule(static)")                       \
    for (int64_t job = 0; job < B * nb; job++) {                                            \
        int64_t lo, hi;                                                                     \
        span(W, nb, job % nb, &lo, &hi);                                                    \
        if (kind) fwd_job_##SFX(1, P, bias, H, job / nb, Tn, W, lo, hi);                    \
        else fwd_job_##SFX(0, P, bias, H, job / nb, Tn, W, lo, hi);                         \
    }                                                                                       \
}                                                                                           \
/* dP (B, T, G W); dbias (B, G W): per batch row, summed over t (the caller sums over B) */ \
void min_backward_##SFX(int kind, const T* P, const T* bias, const T* H, const T* Gr, T* dP, \
                        T* dbias, int64_t B, int64_t Tn, int64_t W, int threads) {          \
    int64_t nb = blocks_of(B, W, threads);                                                  \
    _Pragma("omp parallel for num_threads(threads) schedule(static)")                       \
    for (int64_t job = 0; job < B * nb; job++) {                                            \
        int64_t lo, hi;                                                                     \
        span(W, nb, job % nb, &lo, &hi);                                                    \
        if (kind) bwd_job_##SFX(1, P, bias, H, Gr, dP, dbias, job / nb, Tn, W, lo, hi);     \
        else bwd_job_##SFX(0, P, bias, H, Gr, dP, dbias, job / nb, Tn, W, lo, hi);          \
    }                                                                                       \
}                                                                                           \
/* h holds b on entry: h_t += a_t h_{t-1} (t = 1..T-1), or reverse: h_t += a_t h_{t+1}.     \
   Batch rows sa, sh apart; time steps W apart; W contiguous. */                            \
void scan_##SFX(const T* A, T* Hh, int64_t B, int64_t Tn, int64_t W, int64_t sa, int64_t sh,  \
                int reverse, int threads) {                                                 \
    int64_t nb = blocks_of(B, W, threads);                                                  \
    _Pragma("omp parallel for num_threads(threads) schedule(static)")                       \
    for (int64_t job = 0; job < B * nb; job++) {                                            \
        int64_t b = job / nb, lo, hi;                                                       \
        span(W, nb, job % nb, &lo, &hi);                                                    \
        for (int64_t k = 1; k < Tn; k++) {                                                  \
            int64_t t = reverse ? Tn - 1 - k : k, prev = reverse ? t + 1 : t - 1;           \
            const T* a = A + b * sa + t * W;                                                \
            T* h = Hh + b * sh + t * W;                                                     \
            const T* hp = Hh + b * sh + prev * W;                                           \
            for (int64_t w = lo; w < hi; w += N) {                                          \
                int n = hi - w < N ? (int)(hi - w) : N;                                     \
                put_##SFX(h + w, get_##SFX(h + w, n) + get_##SFX(a + w, n) * get_##SFX(hp + w, n), n); \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
}

DEFINE(float, vf, vfi, 16, f)
DEFINE(double, vd, vdi, 8, d)
"""

FLAGS = (("-O3", "-march=native", "-fopenmp"), ("-O3", "-fopenmp"), ("-O3", "-fopenmp-simd"))
_I64, _INT, _PTR = ctypes.c_int64, ctypes.c_int, ctypes.c_void_p
_SIGNATURES = {"min_forward": [_INT, _PTR, _PTR, _PTR, _I64, _I64, _I64, _INT],
               "min_backward": [_INT, _PTR, _PTR, _PTR, _PTR, _PTR, _PTR, _I64, _I64, _I64, _INT],
               "scan": [_PTR, _PTR, _I64, _I64, _I64, _I64, _I64, _INT, _INT]}
_SUFFIX = {torch.float32: "f", torch.float64: "d"}


def _cache_dir() -> Path:
    root = os.environ.get("BENCH_CACHE")
    base = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / \
        "rnn-vs-transformer-bench"
    return base / "kernels"


def _cpu() -> str:
    """What -march=native depends on: the CPU's model and feature flags (Linux), else the arch."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return "\n".join(sorted({ln for ln in lines if ln.startswith(("model name", "flags"))}))
    except OSError:
        return platform.machine() + platform.processor()


def _compile(compiler: str, flags: tuple[str, ...]) -> Path:
    """Build (or find) the library for these flags; raises on a compiler error."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=30).stdout
    key = hashlib.sha256("\0".join([SOURCE, *flags, version, _cpu()]).encode()).hexdigest()[:16]
    target = _cache_dir() / key / "scan_native.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:  # same filesystem: atomic rename
        source, built = Path(tmp) / "scan_native.c", Path(tmp) / "scan_native.so"
        source.write_text(SOURCE)
        result = subprocess.run([compiler, *flags, "-std=c99", "-shared", "-fPIC", str(source), "-o", str(built),
                                 "-lm"], capture_output=True, text=True, timeout=300)
        if result.returncode:
            raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed")
        os.replace(built, target)
    return target


@functools.lru_cache(maxsize=1)
def _load() -> tuple[ctypes.CDLL | None, str]:
    """(library, description) or (None, why not)."""
    if os.environ.get("BENCH_NATIVE_SCAN", "1") == "0":
        return None, "turned off by BENCH_NATIVE_SCAN=0"
    if sys.platform == "win32":
        return None, "no C build on Windows"
    compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        return None, "no C compiler found"
    errors = []
    for flags in FLAGS:
        try:
            lib = ctypes.CDLL(str(_compile(compiler, flags)))
        except (OSError, RuntimeError, subprocess.SubprocessError) as error:
            errors.append(f"{' '.join(flags)}: {error}")
            continue
        for name, argtypes in _SIGNATURES.items():
            for suffix in _SUFFIX.values():
                getattr(lib, f"{name}_{suffix}").argtypes = argtypes
        return lib, f"{Path(compiler).name} {' '.join(flags)}"
    return None, "compile failed (" + "; ".join(errors) + ")"


def available() -> bool:
    return _load()[0] is not None


def reason() -> str:
    """How the kernel was built ('gcc -O3 -march=native -fopenmp'), or why it is unavailable."""
    return _load()[1]


def supports(x: torch.Tensor) -> bool:
    return x.device.type == "cpu" and x.dtype in _SUFFIX and available()


def _call(name: str, dtype: torch.dtype, *args) -> None:
    getattr(_load()[0], f"{name}_{_SUFFIX[dtype]}")(*args, torch.get_num_threads())


def _ptr(x: torch.Tensor) -> int:
    return x.data_ptr()


class _MinScan(torch.autograd.Function):
    """h (B, T, W) from one min cell's projection P (B, T, G*W) without its bias and the
    bias (G*W,); backward gives dL/dP and dL/dbias."""

    @staticmethod
    def forward(ctx, P: torch.Tensor, bias: torch.Tensor, kind: str) -> torch.Tensor:
        B, T, GW = P.shape
        h = P.new_empty(B, T, GW // GATES[kind])
        _call("min_forward", P.dtype, KINDS[kind], _ptr(P), _ptr(bias), _ptr(h), B, T, h.shape[2])
        ctx.save_for_backward(P, bias, h)
        ctx.kind = kind
        return h

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: torch.Tensor):
        P, bias, h = ctx.saved_tensors
        grad = grad.contiguous()
        B, T, W = h.shape
        dP, dbias = torch.empty_like(P), P.new_empty(B, P.shape[2])  # dbias: per batch row
        _call("min_backward", P.dtype, KINDS[ctx.kind], _ptr(P), _ptr(bias), _ptr(h), _ptr(grad), _ptr(dP),
              _ptr(dbias), B, T, W)
        return dP, dbias.sum(0), None


def min_scan(P: torch.Tensor, bias: torch.Tensor, kind: str) -> torch.Tensor:
    """One min cell's states h (B, T, W) from its projection without bias P = x W^T
    (B, T, G*W), gates [k | h~] (minGRU) or [f | i | h~] (minLSTM), and the bias (G*W,).
    Needs supports(P); bias in P's dtype."""
    if kind not in KINDS:
        raise ValueError(f"unknown min cell {kind!r}; valid: {', '.join(KINDS)}")
    if P.ndim != 3 or P.shape[-1] % GATES[kind] or bias.shape != (P.shape[-1],):
        raise ValueError(f"{kind}: P (B, T, {GATES[kind]}*W) and bias ({GATES[kind]}*W,) expected, got "
                         f"{tuple(P.shape)} and {tuple(bias.shape)}")
    return _MinScan.apply(P.contiguous(), bias.to(P.dtype).contiguous(), kind)


def scan_(a: torch.Tensor, h: torch.Tensor, reverse: bool = False) -> None:
    """The in-place kernel of linear_scan's convention (h holds b; a_t multiplies the state
    entering t): a, h (B, T, W) with unit stride in W and rows W apart in T."""
    B, T, W = h.shape
    for x in (a, h):
        if x.stride(2) != 1 or (T > 1 and x.stride(1) != W):
            raise ValueError("scan_ needs W-contiguous rows, W apart in T")
    _call("scan", h.dtype, _ptr(a), _ptr(h), B, T, W, a.stride(0), h.stride(0), int(reverse))
