"""The C source of bench/models/scan_native.py's kernels (kept in Python so that a run's
code identity, which hashes the Python files a model imports, covers it).

Exported, each for float (suffix f, 16-lane vectors, the polynomial exp) and double (suffix
d, 8 lanes, libm's exp): min_forward, min_backward (the min cells' gates and scan, forward
and reverse) and scan (the bare linear scan, either direction). Layout: P (B, T, G*W) with
gate c of position (b, t) at P[b, t, c*W : (c+1)*W]; h, dL/dh (B, T, W); all contiguous.
"""

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
   (minGRU) or [f, i, h~] (minLSTM). With e_x = exp(-|x|), sigmoid(x) = (x >= 0 ? 1 : e_x) /
   (1 + e_x): every denominator lies in [1, 2] or a little above, so one division inverts
   their product and no lane can overflow.
   minGRU: z = sigmoid(k), a = 1 - z, s = z.
   minLSTM: f' = sigmoid(f), i' = sigmoid(i), q = i'/f' = exp(zz) (1 + e_f) / (1 + e_i) with
   zz = min(i,0) - min(f,0); with E = exp(-|zz|) and (N, D) = (1 + e_i, 1 + e_f) for zz >= 0,
   else (1 + e_f, 1 + e_i): min(q, 1/q) = E N / D, so a = f'/(f'+i') = 1/(1+q) and
   s = i'/(f'+i') = q/(1+q) are E N / (D + E N) and D / (D + E N), in that order or swapped.
   b = s g(h~), g(x) = x + 1/2 (x >= 0) or sigmoid(x); gd = g'(h~).
   Backward only: df = d(log i' - log f')/df = -sigmoid(-f), di = .../di = sigmoid(-i). */
#define DEFINE(T, VT, VI, N, SFX)                                                           \
typedef struct { VT a, s, gv, gd, df, di; } gates_##SFX;                                    \
static inline VT abs_##SFX(VT x) { return SEL(VI, VT, x < 0, -x, x); }                      \
static inline __attribute__((always_inline)) gates_##SFX gates_of_##SFX(const int lstm,     \
                                                                         const int bwd, const VT* x) { \
    gates_##SFX o;                                                                          \
    VT zero = {0}, one = zero + 1, xh = x[lstm + 1];                                        \
    VT eh = exp_v##SFX(-abs_##SFX(xh)), dh = 1 + eh, rh;                                    \
    VI pos = xh >= 0;                                                                       \
    o.df = o.di = zero;                                                                     \
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
        VT zz = SEL(VI, VT, i < 0, i, zero) - SEL(VI, VT, f < 0, f, zero);                  \
        VI up = zz >= 0;                                                                    \
        VT num = exp_v##SFX(-abs_##SFX(zz)) * SEL(VI, VT, up, di, df);                      \
        VT den = SEL(VI, VT, up, df, di), dm = den + num, q = 1 / (dm * dh * df * di);      \
        VT qm = q * dh * df * di;  /* 1 / (D + E N) */                                      \
        rh = q * dm * df * di;                                                              \
        o.a = SEL(VI, VT, up, num * qm, den * qm);                                          \
        o.s = SEL(VI, VT, up, den * qm, num * qm);                                          \
        if (bwd) {                                                                          \
            VT mh = q * dm * dh;  /* 1 / ((1 + e_f)(1 + e_i)) */                             \
            o.df = -SEL(VI, VT, f >= 0, ef, one) * (mh * di);                               \
            o.di = SEL(VI, VT, i >= 0, ei, one) * (mh * df);                                \
        }                                                                                   \
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
