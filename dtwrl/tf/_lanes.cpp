// Smoothed-min DTW on CPU, vectorised across pairs: one SIMD lane per pair of the batch.
//
// The recursion, the Sakoe-Chiba band and the outputs are those of the numba kernel (dtwrl/tf/_kernel.py):
//
//     R[i, j] = C[i, j] + min_Omega(R[i-1, j-1], R[i-1, j], R[i, j-1]),   R[-1, -1] = 0,
//
// but a call runs W pairs at once (a "lane group": W = 16 float32 or 8 float64 pairs, one 64-byte vector, or half
// of that for a batch that fills at most half a group), cell by cell in row-major order, each cell one vector operation for the W pairs. The exponentials and the
// logarithm are polynomials on vectors (GCC vector extensions, no libm call), so the compiler emits SIMD code for
// whatever the build machine has (AVX-512, AVX2 or SSE). Each lane's cells are the Sakoe-Chiba band, or a corridor:
// per-row inclusive column bounds given per lane (the group visits the union of its lanes' rows, so the cost of a
// group follows the union of its corridors). Pairs of a group may have different lengths and bands:
// a cell outside a lane's own grid is +inf for that lane (weight 0, E exactly 0). Arithmetic runs in the input
// dtype. The forward pass stores each cell's three transition weights (the gradient of min_Omega); the backward
// recursion of Cuturi & Blondel (2017) then needs no exponential.
//
// Inputs are laid out lane-minor, for one group: x (n, d, W), y (m, d, W), D (n, m, W) (corridors stay (B, n, 2),
// each lane reads its pair's); outputs values (W), gx (n, d, W), gy (m, d, W) (accumulated: zero them first),
// E (n, m, W) (zeroed by the caller). The caller (dtwrl/tf/_lanes.py) validates everything; this file trusts its
// input. A memory-light mode (``block`` rows of weights at a time, recomputed from checkpoint rows of R) serves long
// series, as in the numba kernel. Buffers span each row's union corridor only: memory follows the cells, not n x m.
// The diagonal kernel (one pair at a time, its own cells only: full grids of few pairs, scattered corridors) is in
// _diagonals.h, #included below.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace {

constexpr int SQEUCLIDEAN = 0, EUCLIDEAN = 1, ABS = 2, PRECOMPUTED = 3;  // _kernel.py's codes
constexpr int ENTROPY = 0;                                               // else L2
constexpr int VALUE = 0, GRADIENT = 1;                                   // else ALIGNMENT

template <typename T>  // float or double: its bits, and the exp of a gap below EXP_FLOOR is taken as 0 (< 2e-38)
struct Scalar {
    static constexpr bool F32 = sizeof(T) == 4;
    typedef typename std::conditional<F32, int32_t, int64_t>::type I;
    static constexpr int MANTISSA = F32 ? 23 : 52, BIAS = F32 ? 127 : 1023;
    static constexpr T EXP_FLOOR = F32 ? T(-87) : T(-707);
};

// BYTES of T per vector: 64 (16 float32 / 8 float64 lanes), or 32 for half a lane group (a batch that fills at
// most half of one runs half-width vectors: idle lanes would cost time and memory)
template <typename T, int BYTES = 64>
struct Lanes : Scalar<T> {
    static constexpr int W = BYTES / int(sizeof(T));
    typedef T vec __attribute__((vector_size(BYTES)));
    typedef typename Scalar<T>::I ivec __attribute__((vector_size(BYTES)));
};

template <typename T, int BYTES> using vec = typename Lanes<T, BYTES>::vec;
template <typename T, int BYTES> using ivec = typename Lanes<T, BYTES>::ivec;

// (one-line helpers: a scalar in every lane, unaligned load and store, lane-wise min and max)
template <typename T, int BYTES>
inline vec<T, BYTES> splat(T s) { return vec<T, BYTES>{} + s; }
template <typename T, int BYTES>
inline vec<T, BYTES> load(const T* p) { vec<T, BYTES> v; std::memcpy(&v, p, sizeof(v)); return v; }
template <typename T, int BYTES>
inline void store(T* p, vec<T, BYTES> v) { std::memcpy(p, &v, sizeof(v)); }
template <typename T, int BYTES>
inline vec<T, BYTES> vmin(vec<T, BYTES> a, vec<T, BYTES> b) { return a < b ? a : b; }
template <typename T, int BYTES>
inline vec<T, BYTES> vmax(vec<T, BYTES> a, vec<T, BYTES> b) { return a > b ? a : b; }

// exp(x) for x <= 0 (-inf allowed), 0 below EXP_FLOOR. Cody-Waite reduction x = k ln2 + r, |r| <= ln2 / 2, then
// the Taylor polynomial of exp(r) (degree 7 in float32: error 5e-9; degree 13 in float64: error 4e-18).
template <typename T, int BYTES>
inline vec<T, BYTES> exp_nonpositive(vec<T, BYTES> x) {
    typedef Lanes<T, BYTES> L;
    const auto tiny = x < splat<T, BYTES>(L::EXP_FLOOR);
    x = tiny ? splat<T, BYTES>(0) : x;
    const vec<T, BYTES> t = x * T(1.4426950408889634) - T(0.5);  // round-half-away of x log2(e) <= 0 by truncation
    const ivec<T, BYTES> k = __builtin_convertvector(t, ivec<T, BYTES>);
    const vec<T, BYTES> kf = __builtin_convertvector(k, vec<T, BYTES>);
    const vec<T, BYTES> r = (x - kf * T(0.693145751953125)) - kf * T(1.4286068203094172321e-6);
    constexpr int degree = sizeof(T) == 4 ? 7 : 13;
    vec<T, BYTES> p = splat<T, BYTES>(T(1));
    for (int q = degree; q >= 1; --q) p = p * (r * (T(1) / T(q))) + T(1);
    const ivec<T, BYTES> bits = (k + L::BIAS) << L::MANTISSA;
    return tiny ? splat<T, BYTES>(0) : p * (vec<T, BYTES>)bits;
}

// log(1 + t) for 0 <= t <= 2, accurate for small t: log(1 + t) = [ln 2] + 2 atanh(z), with z = t / (2 + t), or
// z = (t - 1) / (t + 3) (that is log((1 + t) / 2)) when t > sqrt(2) - 1, so |z| <= 0.2; the odd series of atanh
// to z^11 in float32 (error 3e-10) and z^25 in float64.
template <typename T, int BYTES>
inline vec<T, BYTES> log1p_small(vec<T, BYTES> t) {
    const auto big = t > splat<T, BYTES>(T(0.41421356237309503));
    const vec<T, BYTES> z = (big ? t - T(1) : t) / (big ? t + T(3) : t + T(2));
    const vec<T, BYTES> w = z * z;
    constexpr int terms = sizeof(T) == 4 ? 5 : 12;
    vec<T, BYTES> s = splat<T, BYTES>(T(1) / T(2 * terms + 1));
    for (int q = terms - 1; q >= 0; --q) s = s * w + T(1) / T(2 * q + 1);
    return (big ? splat<T, BYTES>(T(0.69314718055994531)) : splat<T, BYTES>(0)) + T(2) * z * s;
}

// The smoothed min of three candidates (+inf allowed) and its gradient (the transition weights).
// All three +inf: value +inf, weights 0. A +inf candidate gets weight exactly 0.
template <typename T, int BYTES>
inline vec<T, BYTES> smoothed_min3(vec<T, BYTES> a, vec<T, BYTES> b, vec<T, BYTES> c, T gamma, T inv_gamma, int regularizer, vec<T, BYTES>& qa,
                            vec<T, BYTES>& qb, vec<T, BYTES>& qc) {
    const vec<T, BYTES> inf = splat<T, BYTES>(std::numeric_limits<T>::infinity());
    const vec<T, BYTES> amin = vmin<T, BYTES>(a, vmin<T, BYTES>(b, c));
    const auto all_inf = amin == inf;
    const vec<T, BYTES> base = all_inf ? splat<T, BYTES>(0) : amin;
    vec<T, BYTES> value;
    if (regularizer == ENTROPY) {
        const vec<T, BYTES> ea = exp_nonpositive<T, BYTES>((base - a) * inv_gamma);
        const vec<T, BYTES> eb = exp_nonpositive<T, BYTES>((base - b) * inv_gamma);
        const vec<T, BYTES> ec = exp_nonpositive<T, BYTES>((base - c) * inv_gamma);
        // t = the sum of the two terms other than the min's own exp(0) = 1, summed without that 1 (exact for small t)
        const auto is_a = a == amin;
        const auto is_b = (b == amin) & ~is_a;
        const auto is_c = ~(is_a | is_b);
        const vec<T, BYTES> zero = splat<T, BYTES>(0);
        const vec<T, BYTES> t = (is_a ? zero : ea) + (is_b ? zero : eb) + (is_c ? zero : ec);
        const vec<T, BYTES> scale = T(1) / (t + T(1));
        qa = ea * scale;
        qb = eb * scale;
        qc = ec * scale;
        value = amin - gamma * log1p_small<T, BYTES>(t);
    } else {
        // squared L2: q = sparsemax(-candidates / gamma); sorted gaps to the min 0 <= d2 <= d3, in units of gamma
        const vec<T, BYTES> da = (a - base) * inv_gamma, db = (b - base) * inv_gamma, dc = (c - base) * inv_gamma;
        const vec<T, BYTES> d2 = vmax<T, BYTES>(vmin<T, BYTES>(da, db), vmin<T, BYTES>(vmax<T, BYTES>(da, db), dc));
        const vec<T, BYTES> d3 = vmax<T, BYTES>(vmax<T, BYTES>(da, db), dc);
        const vec<T, BYTES> one = splat<T, BYTES>(1), zero = splat<T, BYTES>(0);
        const vec<T, BYTES> thresh = (one + d2 > T(2) * d3) ? (one + d2 + d3) / T(3) : (d2 < one ? T(0.5) * (one + d2) : one);
        qa = vmax<T, BYTES>(thresh - da, zero);
        qb = vmax<T, BYTES>(thresh - db, zero);
        qc = vmax<T, BYTES>(thresh - dc, zero);
        vec<T, BYTES> penalty = T(0.5) * (qa * qa + qb * qb + qc * qc);
        penalty += (qa > zero ? qa * da : zero) + (qb > zero ? qb * db : zero) + (qc > zero ? qc * dc : zero);
        value = amin + gamma * penalty;
    }
    const vec<T, BYTES> zero = splat<T, BYTES>(0);
    qa = all_inf ? zero : qa;
    qb = all_inf ? zero : qb;
    qc = all_inf ? zero : qc;
    return all_inf ? inf : value;
}

// The local cost of W cells at once: component k of their x and y points at xi[k * stride] and yj[k * stride]
// (W consecutive numbers each). The lane kernel passes one pair per lane (stride W), the diagonal kernel W cells of
// one pair (stride: the padded length of the transposed series).
template <typename T, int BYTES>
inline vec<T, BYTES> series_cost(const T* xi, const T* yj, int64_t stride, int64_t d, int metric) {
    vec<T, BYTES> s = splat<T, BYTES>(0);
    for (int64_t k = 0; k < d; ++k) {
        const vec<T, BYTES> diff = load<T, BYTES>(xi + k * stride) - load<T, BYTES>(yj + k * stride);
        if (metric == ABS) {
            s += diff < splat<T, BYTES>(0) ? -diff : diff;
        } else {
            s += diff * diff;
        }
    }
    if (metric == EUCLIDEAN) {
        for (int l = 0; l < Lanes<T, BYTES>::W; ++l) s[l] = __builtin_sqrt(s[l]);
    }
    return s;
}

// Chains E of W cells (laid out as for series_cost) to their points: gx += e dC/dx, gy += e dC/dy = -e dC/dx.
template <typename T, int BYTES>
inline void cost_gradient(const T* xi, const T* yj, int64_t stride, int64_t d, int metric, vec<T, BYTES> e, T* gxi, T* gyj) {
    const vec<T, BYTES> zero = splat<T, BYTES>(0);
    if (metric == EUCLIDEAN) {
        const vec<T, BYTES> s = series_cost<T, BYTES>(xi, yj, stride, d, EUCLIDEAN);
        e = s == zero ? zero : e / s;
    }
    for (int64_t k = 0; k < d; ++k) {
        const vec<T, BYTES> diff = load<T, BYTES>(xi + k * stride) - load<T, BYTES>(yj + k * stride);
        vec<T, BYTES> g;
        if (metric == SQEUCLIDEAN) {
            g = T(2) * e * diff;
        } else if (metric == EUCLIDEAN) {
            g = e * diff;
        } else {
            g = diff > zero ? e : (diff < zero ? -e : zero);
        }
        store<T, BYTES>(gxi + k * stride, load<T, BYTES>(gxi + k * stride) + g);
        store<T, BYTES>(gyj + k * stride, load<T, BYTES>(gyj + k * stride) - g);
    }
}

inline int64_t floor_div(int64_t a, int64_t b) {  // b > 0
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

template <typename T, int BYTES>
struct Group {
    typedef Lanes<T, BYTES> L;
    static constexpr int W = L::W;
    static constexpr int SKEW = 8;           // rows in flight in the forward pass
    static constexpr int SLOTS = SKEW + 1;   // their row buffers and the row before them

    const T *x, *y, *D;
    const int64_t *nl, *ml;
    const int64_t* corridor;  // (B, n, 2) the pairs' inclusive column bounds of each row, or nullptr (the band)
    const int64_t* pair;      // (W,) the pair of each lane (its corridor), or -1 (a padding lane: its whole grid)
    int64_t n, m, d, band;
    int metric, regularizer, want;
    T gamma;

    int64_t N = 0, M = 0;      // the group's grid: the largest lengths of its lanes
    int64_t* LO = nullptr;     // (N,) union over lanes of each row's columns: LO[i] <= j < HI[i]
    int64_t* HI = nullptr;
    vec<T, BYTES>* lov = nullptr;     // (N,) each lane's own columns of row i, as vectors (empty past its last row)
    vec<T, BYTES>* hiv = nullptr;
    int64_t* start = nullptr;  // (N + 1,) the cells before each row (row-major over the rows' spans)
    // Row buffers span the rows' union columns only: row r (-1 <= r < N) keeps column j at j - BASE[r + 1] + 1,
    // where BASE[r + 1] = min(LO[r], LO[r + 1]) (0 for row -1), so that row r + 1 reads its predecessors
    // LO[r + 1] - 1 .. HI[r + 1] - 1 of row r, and row r its own, at indices 0 .. C - 1 (+inf past what was written).
    int64_t* BASE = nullptr;   // (N + 1,)
    int64_t C = 0;             // vectors per row buffer
    int64_t* ckoff = nullptr;  // (blocks + 1,) where checkpoint s (R of row s block - 1) starts

    int64_t kept(int64_t r) const { return r < 0 ? 1 : HI[r] - BASE[r + 1] + 1; }  // vectors of row r's R to keep

    bool spans() {
        for (int l = 0; l < W; ++l) {
            N = nl[l] > N ? nl[l] : N;
            M = ml[l] > M ? ml[l] : M;
        }
        LO = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * N));
        HI = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * N));
        lov = static_cast<vec<T, BYTES>*>(std::aligned_alloc(64, sizeof(vec<T, BYTES>) * N));
        hiv = static_cast<vec<T, BYTES>*>(std::aligned_alloc(64, sizeof(vec<T, BYTES>) * N));
        if (!LO || !HI || !lov || !hiv) return false;
        for (int64_t i = 0; i < N; ++i) {
            LO[i] = M;
            HI[i] = 0;
        }
        for (int l = 0; l < W; ++l) {
            const int64_t nb = nl[l], mb = ml[l];
            const int64_t rows = nb - 1, cols = mb - 1;
            const bool banded = band >= 0 && nb > 1 && mb > 1;
            const int64_t width = banded ? band * (rows < cols ? rows : cols) : 0;
            for (int64_t i = 0; i < N; ++i) {
                int64_t lo = 0, hi = 0;
                if (i < nb && corridor && pair[l] >= 0) {
                    lo = corridor[(pair[l] * n + i) * 2];
                    hi = corridor[(pair[l] * n + i) * 2 + 1] + 1;
                } else if (i < nb) {
                    hi = mb;
                    if (banded) {
                        const int64_t centre = i * cols;
                        lo = -floor_div(width - centre, rows);
                        lo = lo > 0 ? lo : 0;
                        hi = floor_div(centre + width, rows) + 1;
                        hi = hi < mb ? hi : mb;
                    }
                }
                if (i < nb) {
                    LO[i] = lo < LO[i] ? lo : LO[i];
                    HI[i] = hi > HI[i] ? hi : HI[i];
                }
                lov[i][l] = T(lo);
                hiv[i][l] = T(hi);
            }
        }
        start = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * (N + 1)));
        BASE = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * (N + 1)));
        if (!start || !BASE) return false;
        start[0] = 0;
        for (int64_t i = 0; i < N; ++i) {
            if (HI[i] < LO[i]) HI[i] = LO[i];
            start[i + 1] = start[i] + HI[i] - LO[i];
        }
        BASE[0] = 0;
        C = N > 0 ? HI[0] + 1 : 1;
        for (int64_t i = 0; i < N; ++i) {
            const int64_t next = i + 1 < N ? HI[i + 1] : 0;
            BASE[i + 1] = i + 1 < N && LO[i + 1] < LO[i] ? LO[i + 1] : LO[i];
            const int64_t need = (HI[i] > next ? HI[i] : next) - BASE[i + 1] + 1;
            C = need > C ? need : C;
        }
        return true;
    }

    ~Group() {
        std::free(LO);
        std::free(BASE);
        std::free(ckoff);
        std::free(HI);
        std::free(lov);
        std::free(hiv);
        std::free(start);
    }

    inline vec<T, BYTES> cost(int64_t i, int64_t j) const {
        if (metric == PRECOMPUTED) return load<T, BYTES>(D + (i * m + j) * W);
        return series_cost<T, BYTES>(x + i * d * W, y + j * d * W, W, d, metric);
    }

    // Forward pass over the rows r0 .. r1-1, from R[r0 - 1] (``init``: its kept(r0 - 1) vectors). Stores the
    // weights of these rows when ``weights`` != nullptr (three planes of ``plane`` vectors; row i's cells start at
    // start[i] - start[r0]); copies R[s * block - 1] to checkpoints + ckoff[s] for every block boundary it passes
    // when ``checkpoints`` != nullptr; writes the values of the lanes whose last row it computes.
    // SKEW rows run at once, skewed by one column each (cell (i + r, t - r) at step t): their cells are independent,
    // so the latency of one cell's exponentials, logarithm and divisions overlaps the others'. ``rows`` holds
    // SLOTS row buffers of C vectors (row i in slot i % SLOTS, laid out as BASE says); a slot holds +inf outside
    // the span last written into it.
    void forward(int64_t r0, int64_t r1, const vec<T, BYTES>* init, vec<T, BYTES>* rows, vec<T, BYTES>* weights, int64_t plane, T* values,
                 vec<T, BYTES>* checkpoints, int64_t block) const {
        const vec<T, BYTES> inf = splat<T, BYTES>(std::numeric_limits<T>::infinity());
        const vec<T, BYTES> zero = splat<T, BYTES>(0);
        const T inv_gamma = T(1) / gamma;
        for (int64_t q = 0; q < SLOTS * C; ++q) rows[q] = inf;
        vec<T, BYTES>* slot[SLOTS];
        int64_t written[SLOTS][2];
        for (int s = 0; s < SLOTS; ++s) {
            slot[s] = rows + s * C;
            written[s][0] = written[s][1] = 0;
        }
        const int before = int((r0 + SLOTS - 1) % SLOTS);
        std::memcpy(slot[before], init, sizeof(vec<T, BYTES>) * kept(r0 - 1));
        written[before][1] = kept(r0 - 1);
        for (int64_t i = r0; i < r1; i += SKEW) {
            const int count = r1 - i < SKEW ? int(r1 - i) : SKEW;
            int64_t first = LO[i], last = 0;  // the steps t that reach a cell of the rows in flight
            int64_t shift[SKEW + 1];          // column j of row i + r - 1 at index j + shift[r]
            shift[0] = 1 - BASE[i];
            for (int r = 0; r < count; ++r) {
                const int s = int((i + r) % SLOTS);
                first = LO[i + r] + r < first ? LO[i + r] + r : first;
                last = HI[i + r] + r > last ? HI[i + r] + r : last;
                for (int64_t q = written[s][0]; q < written[s][1]; ++q) slot[s][q] = inf;
                shift[r + 1] = 1 - BASE[i + r + 1];
                written[s][0] = LO[i + r] + shift[r + 1];
                written[s][1] = HI[i + r] + shift[r + 1];
            }
            for (int64_t t = first; t < last; ++t) {
                for (int r = 0; r < count; ++r) {
                    const int64_t row = i + r, j = t - r;
                    if (j < LO[row] || j >= HI[row]) continue;
                    const vec<T, BYTES>* prev = slot[(row + SLOTS - 1) % SLOTS];
                    vec<T, BYTES>* cur = slot[row % SLOTS];
                    const int64_t p = j + shift[r], c = j + shift[r + 1];
                    vec<T, BYTES> qa, qb, qc;
                    const vec<T, BYTES> soft =
                        smoothed_min3<T, BYTES>(prev[p - 1], prev[p], cur[c - 1], gamma, inv_gamma, regularizer, qa, qb, qc);
                    const vec<T, BYTES> jv = splat<T, BYTES>(T(j));
                    const auto valid = (jv >= lov[row]) & (jv < hiv[row]);
                    cur[c] = valid ? cost(row, j) + soft : inf;
                    if (weights) {
                        const int64_t w = start[row] - start[r0] + j - LO[row];
                        weights[w] = valid ? qa : zero;
                        weights[plane + w] = valid ? qb : zero;
                        weights[2 * plane + w] = valid ? qc : zero;
                    }
                }
            }
            for (int r = 0; r < count; ++r) {
                const int64_t row = i + r;
                const vec<T, BYTES>* cur = slot[row % SLOTS];
                for (int l = 0; l < W; ++l) {
                    if (nl[l] - 1 == row) values[l] = cur[ml[l] - 1 + shift[r + 1]][l];
                }
                if (checkpoints && (row + 1) % block == 0 && row + 1 < N) {
                    std::memcpy(checkpoints + ckoff[(row + 1) / block], cur, sizeof(vec<T, BYTES>) * kept(row));
                }
            }
        }
    }

    // chains row i of E (e[j - LO[i]] for LO[i] <= j < HI[i]) to the gradients: gx[i] += sum_j e_ij dC_ij/dx_i, gy[j]
    void push_gradient(int64_t i, const vec<T, BYTES>* e, T* gx, T* gy) const {
        T* gxi = gx + i * d * W;
        for (int64_t j = LO[i]; j < HI[i]; ++j) {
            cost_gradient<T, BYTES>(x + i * d * W, y + j * d * W, W, d, metric, e[j - LO[i]], gxi, gy + j * d * W);
        }
    }

    // Backward pass over the rows r1-1 .. r0 and their stored weights (as ``forward`` stored them): E = dR[end] / dC,
    // to the gradients or to E. ``acc`` (2 C vectors, laid out as the rows of ``forward``): the accumulated E of
    // rows i and i-1, zero on the first call (r1 == N) and carried from one block of rows to the one before it.
    void backward(int64_t r0, int64_t r1, const vec<T, BYTES>* weights, int64_t plane, vec<T, BYTES>* acc, vec<T, BYTES>* e, T* gx, T* gy,
                  T* E) const {
        vec<T, BYTES>* buffer[2] = {acc, acc + C};
        if (r1 == N) {
            for (int64_t q = 0; q < 2 * C; ++q) acc[q] = splat<T, BYTES>(0);
        }
        for (int64_t i = r1 - 1; i >= r0; --i) {
            vec<T, BYTES>* cur = buffer[i & 1];
            vec<T, BYTES>* prev = buffer[(i + 1) & 1];
            const int64_t cs = 1 - BASE[i + 1], ps = 1 - BASE[i];  // column j of rows i and i - 1 at j + cs, j + ps
            for (int l = 0; l < W; ++l) {
                if (nl[l] - 1 == i) cur[ml[l] - 1 + cs][l] += T(1);
            }
            // each cell pushes E * q to its three predecessors; the pushes to the left and diagonal neighbours are
            // carried in registers to the next cell (no store-to-load chain through memory)
            const int64_t a = LO[i], c = HI[i];
            vec<T, BYTES> left = splat<T, BYTES>(0), diagonal = splat<T, BYTES>(0);
            for (int64_t j = c - 1; j >= a; --j) {
                const vec<T, BYTES> ej = cur[j + cs] + left;
                e[j - a] = ej;
                const int64_t w = start[i] - start[r0] + j - a;
                left = ej * weights[2 * plane + w];
                prev[j + ps] += diagonal + ej * weights[plane + w];
                diagonal = ej * weights[w];
            }
            prev[a - 1 + ps] += diagonal;
            if (want == GRADIENT) {
                push_gradient(i, e, gx, gy);
            } else {
                for (int64_t j = a; j < c; ++j) store<T, BYTES>(E + (i * m + j) * W, e[j - a]);
            }
            const int64_t next = i + 1 < N ? HI[i + 1] : 0;  // row i's buffer was reached up to column max(HI) - 1
            for (int64_t q = 0, end = (c > next ? c : next) + cs; q < end; ++q) cur[q] = splat<T, BYTES>(0);
        }
    }
};

// Flushes subnormal results and inputs to zero in this thread while alive (x86), restoring the caller's mode.
// E times a weight underflows often (weights of far-off predecessors are ~exp(-80)); subnormal arithmetic would
// take microcode assists, dozens of times slower, to compute numbers below 1e-38 (float32) that change nothing.
struct FlushSubnormals {
#if defined(__x86_64__) || defined(__i386__)
    unsigned int saved = _mm_getcsr();
    FlushSubnormals() { _mm_setcsr(saved | 0x8040u); }  // FTZ | DAZ
    ~FlushSubnormals() { _mm_setcsr(saved); }
#endif
};

// Scratch memory kept by each thread between calls, up to KEEP_BYTES: a training loop calls the kernel with the same
// sizes again and again, and first-touch page faults on fresh buffers of tens of MB would cost as much as the
// backward pass itself. Larger buffers are returned after the call.
constexpr size_t KEEP_BYTES = size_t(256) << 20;

struct Scratch {
    void* data = nullptr;
    size_t size = 0;
    ~Scratch() { std::free(data); }
    void* get(size_t bytes) {
        if (bytes > size) {
            std::free(data);
            size = (bytes + 63) / 64 * 64;
            data = std::aligned_alloc(64, size);
            if (!data) size = 0;
        }
        return data;
    }
    void trim() {
        if (size > KEEP_BYTES) {
            std::free(data);
            data = nullptr;
            size = 0;
        }
    }
};

thread_local Scratch scratch;

// One lane group. ``block`` >= N stores the weights of all rows at once; a smaller ``block`` is the memory-light mode:
// a first forward pass keeps R at every block boundary (the checkpoints), then, block by block from the last, the
// block's rows are computed again from their checkpoint with their weights stored, and the backward pass runs
// through them: one more forward pass. Every buffer spans the rows' union columns only (weights packed row by row,
// row buffers and checkpoints as BASE says): O(union cells) for all weights; O(block x width + N / block x width)
// in the light mode (_lanes.py's scratch_bytes counts them).
template <typename T, int BYTES>
int run(const T* x, const T* y, const T* D, const int64_t* nl, const int64_t* ml, const int64_t* corridor, const int64_t* pair, int64_t n,
        int64_t m, int64_t d, int64_t band, int metric, double gamma, int regularizer, int want, int64_t block, T* values, T* gx, T* gy,
        T* E) {
    FlushSubnormals flush;
    Group<T, BYTES> g{x, y, D, nl, ml, corridor, pair, n, m, d, band, metric, regularizer, want, T(gamma)};
    if (!g.spans()) return 1;
    const int64_t N = g.N, C = g.C;
    block = block < 1 ? 1 : (block > N ? N : block);
    const int64_t blocks = want == VALUE ? 1 : (N + block - 1) / block;
    int64_t plane = 0;  // the most cells of one block of rows
    int64_t* ckoff = g.ckoff = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * (blocks + 1)));
    if (!ckoff) return 1;
    ckoff[0] = 0;
    for (int64_t s = 0; s < blocks; ++s) {
        const int64_t r0 = s * block, r1 = (s + 1) * block < N ? (s + 1) * block : N;
        plane = g.start[r1] - g.start[r0] > plane ? g.start[r1] - g.start[r0] : plane;
        ckoff[s + 1] = ckoff[s] + g.kept(r0 - 1);
    }
    const size_t row_vectors = size_t(Group<T, BYTES>::SLOTS) * C, acc_vectors = 3 * size_t(C);
    const size_t checkpoint_vectors = size_t(ckoff[blocks]);
    const size_t weight_vectors = want == VALUE ? 0 : 3 * size_t(plane);
    vec<T, BYTES>* rows =
        static_cast<vec<T, BYTES>*>(scratch.get(sizeof(vec<T, BYTES>) * (row_vectors + acc_vectors + checkpoint_vectors + weight_vectors)));
    if (!rows) return 1;
    vec<T, BYTES>* acc = rows + row_vectors;
    vec<T, BYTES>* checkpoints = acc + acc_vectors;
    vec<T, BYTES>* weights = want == VALUE ? nullptr : checkpoints + checkpoint_vectors;
    checkpoints[0] = splat<T, BYTES>(0);  // R[-1, -1] = 0 (R[-1, j >= 0] = +inf: past what row -1 keeps)
    if (want == VALUE) {
        g.forward(0, N, checkpoints, rows, nullptr, 0, values, nullptr, N);
    } else if (blocks == 1) {
        g.forward(0, N, checkpoints, rows, weights, plane, values, nullptr, N);
        g.backward(0, N, weights, plane, acc, acc + 2 * C, gx, gy, E);
    } else {
        g.forward(0, N, checkpoints, rows, nullptr, 0, values, checkpoints, block);
        for (int64_t s = blocks - 1; s >= 0; --s) {
            const int64_t r0 = s * block, r1 = r0 + block < N ? r0 + block : N;
            g.forward(r0, r1, checkpoints + ckoff[s], rows, weights, plane, values, nullptr, block);
            g.backward(r0, r1, weights, plane, acc, acc + 2 * C, gx, gy, E);
        }
    }
    scratch.trim();
    return 0;
}

// The diagonal kernel (one pair vectorised along anti-diagonals, full grid or corridor) uses the helpers above.
#include "_diagonals.h"

}  // namespace

extern "C" {

int dtwrl_lanes_width(int itemsize) { return itemsize == 4 ? Lanes<float>::W : Lanes<double>::W; }

// ``lanes``: pairs per group, Lanes<T>::W or half of it (half-width vectors; the arrays laid out for that many)
int dtwrl_sdtw_lanes_f32(const float* x, const float* y, const float* D, const int64_t* nl, const int64_t* ml,
                         const int64_t* corridor, const int64_t* pair, int64_t n, int64_t m, int64_t d, int64_t band, int metric, double gamma, int regularizer,
                         int want, int64_t block, float* values, float* gx, float* gy, float* E, int lanes) {
    auto go = lanes == Lanes<float>::W ? run<float, 64> : run<float, 32>;
    return go(x, y, D, nl, ml, corridor, pair, n, m, d, band, metric, gamma, regularizer, want, block, values, gx, gy, E);
}

int dtwrl_sdtw_lanes_f64(const double* x, const double* y, const double* D, const int64_t* nl, const int64_t* ml,
                         const int64_t* corridor, const int64_t* pair, int64_t n, int64_t m, int64_t d, int64_t band, int metric, double gamma, int regularizer,
                         int want, int64_t block, double* values, double* gx, double* gy, double* E, int lanes) {
    auto go = lanes == Lanes<double>::W ? run<double, 64> : run<double, 32>;
    return go(x, y, D, nl, ml, corridor, pair, n, m, d, band, metric, gamma, regularizer, want, block, values, gx, gy, E);
}

// ``bounds``: the pair's corridor (nl, 2) of inclusive column bounds, or nullptr for its full grid
int dtwrl_sdtw_diagonals_f32(const float* xt, const float* yr, const float* D, const int64_t* bounds, int64_t nl,
                             int64_t ml, int64_t m, int64_t d, int64_t S, int metric, double gamma, int regularizer,
                             int want, int64_t block, float* value, float* gxt, float* gyr, float* E) {
    return run_diagonals<float, 64>(xt, yr, D, bounds, nl, ml, m, d, S, metric, gamma, regularizer, want, block, value,
                                    gxt, gyr, E);
}

int dtwrl_sdtw_diagonals_f64(const double* xt, const double* yr, const double* D, const int64_t* bounds, int64_t nl,
                             int64_t ml, int64_t m, int64_t d, int64_t S, int metric, double gamma, int regularizer,
                             int want, int64_t block, double* value, double* gxt, double* gyr, double* E) {
    return run_diagonals<double, 64>(xt, yr, D, bounds, nl, ml, m, d, S, metric, gamma, regularizer, want, block,
                                     value, gxt, gyr, E);
}
}
