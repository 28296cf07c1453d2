// Smoothed-min DTW on CPU, vectorised across pairs: one SIMD lane per pair of the batch.
//
// The recursion, the Sakoe-Chiba band and the outputs are those of the numba kernel (dtwrl/tf/_kernel.py):
//
//     R[i, j] = C[i, j] + min_Omega(R[i-1, j-1], R[i-1, j], R[i, j-1]),   R[-1, -1] = 0,
//
// but a call runs W pairs at once (a "lane group": W = 16 float32 or 8 float64 pairs, one 64-byte vector),
// cell by cell in row-major order, each cell one vector operation for the W pairs. The exponentials and the
// logarithm are polynomials on vectors (GCC vector extensions, no libm call), so the compiler emits SIMD code for
// whatever the build machine has (AVX-512, AVX2 or SSE). Each lane's cells are the Sakoe-Chiba band, or a corridor:
// per-row inclusive column bounds given per lane (the group visits the union of its lanes' rows, so the cost of a
// group follows the union of its corridors). Pairs of a group may have different lengths and bands:
// a cell outside a lane's own grid is +inf for that lane (weight 0, E exactly 0). Arithmetic runs in the input
// dtype. The forward pass stores each cell's three transition weights (the gradient of min_Omega); the backward
// recursion of Cuturi & Blondel (2017) then needs no exponential.
//
// Inputs are laid out lane-minor, for one group: x (n, d, W), y (m, d, W), D (n, m, W); outputs values (W),
// gx (n, d, W), gy (m, d, W) (accumulated: zero them first), E (n, m, W) (zeroed by the caller). The caller
// (dtwrl/tf/_lanes.py) validates everything; this file trusts its input. A memory-light mode (``block`` rows of
// weights at a time, recomputed from checkpoint rows of R) serves long series, as in the numba kernel.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace {

constexpr int SQEUCLIDEAN = 0, EUCLIDEAN = 1, ABS = 2, PRECOMPUTED = 3;  // _kernel.py's codes
constexpr int ENTROPY = 0;                                               // else L2
constexpr int VALUE = 0, GRADIENT = 1;                                   // else ALIGNMENT

template <typename T>
struct Lanes;

template <>
struct Lanes<float> {
    static constexpr int W = 16;
    typedef float vec __attribute__((vector_size(64)));
    typedef int32_t ivec __attribute__((vector_size(64)));
    static constexpr int MANTISSA = 23, BIAS = 127;
    static constexpr float EXP_FLOOR = -87.0f;  // exp of a gap below this is taken as 0 (it is < 2e-38)
};

template <>
struct Lanes<double> {
    static constexpr int W = 8;
    typedef double vec __attribute__((vector_size(64)));
    typedef int64_t ivec __attribute__((vector_size(64)));
    static constexpr int MANTISSA = 52, BIAS = 1023;
    static constexpr double EXP_FLOOR = -707.0;
};

template <typename T>
using vec = typename Lanes<T>::vec;
template <typename T>
using ivec = typename Lanes<T>::ivec;

template <typename T>
inline vec<T> splat(T s) {
    return vec<T>{} + s;
}

template <typename T>
inline vec<T> load(const T* p) {
    vec<T> v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

template <typename T>
inline void store(T* p, vec<T> v) {
    std::memcpy(p, &v, sizeof(v));
}

template <typename T>
inline vec<T> vmin(vec<T> a, vec<T> b) {
    return a < b ? a : b;
}

template <typename T>
inline vec<T> vmax(vec<T> a, vec<T> b) {
    return a > b ? a : b;
}

// exp(x) for x <= 0 (-inf allowed), 0 below EXP_FLOOR. Cody-Waite reduction x = k ln2 + r, |r| <= ln2 / 2, then
// the Taylor polynomial of exp(r) (degree 7 in float32: error 5e-9; degree 13 in float64: error 4e-18).
template <typename T>
inline vec<T> exp_nonpositive(vec<T> x) {
    typedef Lanes<T> L;
    const auto tiny = x < splat<T>(L::EXP_FLOOR);
    x = tiny ? splat<T>(0) : x;
    const vec<T> t = x * T(1.4426950408889634) - T(0.5);  // round-half-away of x log2(e) <= 0 by truncation
    const ivec<T> k = __builtin_convertvector(t, ivec<T>);
    const vec<T> kf = __builtin_convertvector(k, vec<T>);
    const vec<T> r = (x - kf * T(0.693145751953125)) - kf * T(1.4286068203094172321e-6);
    constexpr int degree = sizeof(T) == 4 ? 7 : 13;
    vec<T> p = splat<T>(T(1));
    for (int q = degree; q >= 1; --q) p = p * (r * (T(1) / T(q))) + T(1);
    const ivec<T> bits = (k + L::BIAS) << L::MANTISSA;
    return tiny ? splat<T>(0) : p * (vec<T>)bits;
}

// log(1 + t) for 0 <= t <= 2, accurate for small t: log(1 + t) = [ln 2] + 2 atanh(z), with z = t / (2 + t), or
// z = (t - 1) / (t + 3) (that is log((1 + t) / 2)) when t > sqrt(2) - 1, so |z| <= 0.2; the odd series of atanh
// to z^11 in float32 (error 3e-10) and z^25 in float64.
template <typename T>
inline vec<T> log1p_small(vec<T> t) {
    const auto big = t > splat<T>(T(0.41421356237309503));
    const vec<T> z = (big ? t - T(1) : t) / (big ? t + T(3) : t + T(2));
    const vec<T> w = z * z;
    constexpr int terms = sizeof(T) == 4 ? 5 : 12;
    vec<T> s = splat<T>(T(1) / T(2 * terms + 1));
    for (int q = terms - 1; q >= 0; --q) s = s * w + T(1) / T(2 * q + 1);
    return (big ? splat<T>(T(0.69314718055994531)) : splat<T>(0)) + T(2) * z * s;
}

// The smoothed min of three candidates (+inf allowed) and its gradient (the transition weights).
// All three +inf: value +inf, weights 0. A +inf candidate gets weight exactly 0.
template <typename T>
inline vec<T> smoothed_min3(vec<T> a, vec<T> b, vec<T> c, T gamma, T inv_gamma, int regularizer, vec<T>& qa,
                            vec<T>& qb, vec<T>& qc) {
    const vec<T> inf = splat<T>(std::numeric_limits<T>::infinity());
    const vec<T> amin = vmin<T>(a, vmin<T>(b, c));
    const auto all_inf = amin == inf;
    const vec<T> base = all_inf ? splat<T>(0) : amin;
    vec<T> value;
    if (regularizer == ENTROPY) {
        const vec<T> ea = exp_nonpositive<T>((base - a) * inv_gamma);
        const vec<T> eb = exp_nonpositive<T>((base - b) * inv_gamma);
        const vec<T> ec = exp_nonpositive<T>((base - c) * inv_gamma);
        // t = the sum of the two terms other than the min's own exp(0) = 1, summed without that 1 (exact for small t)
        const auto is_a = a == amin;
        const auto is_b = (b == amin) & ~is_a;
        const auto is_c = ~(is_a | is_b);
        const vec<T> zero = splat<T>(0);
        const vec<T> t = (is_a ? zero : ea) + (is_b ? zero : eb) + (is_c ? zero : ec);
        const vec<T> scale = T(1) / (t + T(1));
        qa = ea * scale;
        qb = eb * scale;
        qc = ec * scale;
        value = amin - gamma * log1p_small<T>(t);
    } else {
        // squared L2: q = sparsemax(-candidates / gamma); sorted gaps to the min 0 <= d2 <= d3, in units of gamma
        const vec<T> da = (a - base) * inv_gamma, db = (b - base) * inv_gamma, dc = (c - base) * inv_gamma;
        const vec<T> d2 = vmax<T>(vmin<T>(da, db), vmin<T>(vmax<T>(da, db), dc));
        const vec<T> d3 = vmax<T>(vmax<T>(da, db), dc);
        const vec<T> one = splat<T>(1), zero = splat<T>(0);
        const vec<T> thresh = (one + d2 > T(2) * d3) ? (one + d2 + d3) / T(3) : (d2 < one ? T(0.5) * (one + d2) : one);
        qa = vmax<T>(thresh - da, zero);
        qb = vmax<T>(thresh - db, zero);
        qc = vmax<T>(thresh - dc, zero);
        vec<T> penalty = T(0.5) * (qa * qa + qb * qb + qc * qc);
        penalty += (qa > zero ? qa * da : zero) + (qb > zero ? qb * db : zero) + (qc > zero ? qc * dc : zero);
        value = amin + gamma * penalty;
    }
    const vec<T> zero = splat<T>(0);
    qa = all_inf ? zero : qa;
    qb = all_inf ? zero : qb;
    qc = all_inf ? zero : qc;
    return all_inf ? inf : value;
}

inline int64_t floor_div(int64_t a, int64_t b) {  // b > 0
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

template <typename T>
struct Group {
    typedef Lanes<T> L;
    static constexpr int W = L::W;
    static constexpr int SKEW = 8;           // rows in flight in the forward pass
    static constexpr int SLOTS = SKEW + 1;   // their row buffers and the row before them

    const T *x, *y, *D;
    const int64_t *nl, *ml;
    const int64_t* corridor;  // (n, 2, W) each lane's inclusive column bounds of each row, or nullptr (the band)
    int64_t n, m, d, band;
    int metric, regularizer, want;
    T gamma;

    int64_t N = 0, M = 0;      // the group's grid: the largest lengths of its lanes
    int64_t* LO = nullptr;     // (N,) union over lanes of each row's columns: LO[i] <= j < HI[i]
    int64_t* HI = nullptr;
    vec<T>* lov = nullptr;     // (N,) each lane's own columns of row i, as vectors (empty past its last row)
    vec<T>* hiv = nullptr;
    int64_t* start = nullptr;  // (N + 1,) the cells before each row (row-major over the rows' spans)

    bool spans() {
        for (int l = 0; l < W; ++l) {
            N = nl[l] > N ? nl[l] : N;
            M = ml[l] > M ? ml[l] : M;
        }
        LO = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * N));
        HI = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * N));
        lov = static_cast<vec<T>*>(std::aligned_alloc(64, sizeof(vec<T>) * N));
        hiv = static_cast<vec<T>*>(std::aligned_alloc(64, sizeof(vec<T>) * N));
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
                if (i < nb && corridor) {
                    lo = corridor[2 * i * W + l];
                    hi = corridor[(2 * i + 1) * W + l] + 1;
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
        if (!start) return false;
        start[0] = 0;
        for (int64_t i = 0; i < N; ++i) {
            if (HI[i] < LO[i]) HI[i] = LO[i];
            start[i + 1] = start[i] + HI[i] - LO[i];
        }
        return true;
    }

    ~Group() {
        std::free(LO);
        std::free(HI);
        std::free(lov);
        std::free(hiv);
        std::free(start);
    }

    inline vec<T> cost(int64_t i, int64_t j) const {
        if (metric == PRECOMPUTED) return load<T>(D + (i * m + j) * W);
        const T* xi = x + i * d * W;
        const T* yj = y + j * d * W;
        vec<T> s = splat<T>(0);
        for (int64_t k = 0; k < d; ++k) {
            const vec<T> diff = load<T>(xi + k * W) - load<T>(yj + k * W);
            if (metric == ABS) {
                s += diff < splat<T>(0) ? -diff : diff;
            } else {
                s += diff * diff;
            }
        }
        if (metric == EUCLIDEAN) {
            for (int l = 0; l < W; ++l) s[l] = __builtin_sqrt(s[l]);
        }
        return s;
    }

    // Forward pass over the rows r0 .. r1-1, from R[r0 - 1] (``init``: M + 1 vectors, column -1 first). Stores the
    // weights of these rows when ``weights`` != nullptr (three planes of ``plane`` vectors; row i's cells start at
    // start[i] - start[r0]); copies R[s * block - 1] into checkpoints[s] for every block boundary it passes when
    // ``checkpoints`` != nullptr; writes the values of the lanes whose last row it computes.
    // SKEW rows run at once, skewed by one column each (cell (i + r, t - r) at step t): their cells are independent,
    // so the latency of one cell's exponentials, logarithm and divisions overlaps the others'. ``rows`` holds
    // SLOTS row buffers of M + 1 vectors (row i in slot i % SLOTS, column j at j + 1, column -1 at 0); a slot holds
    // +inf outside the span last written into it.
    void forward(int64_t r0, int64_t r1, const vec<T>* init, vec<T>* rows, vec<T>* weights, int64_t plane, T* values,
                 vec<T>* checkpoints, int64_t block) const {
        const vec<T> inf = splat<T>(std::numeric_limits<T>::infinity());
        const vec<T> zero = splat<T>(0);
        const T inv_gamma = T(1) / gamma;
        const int64_t width = M + 1;
        for (int64_t q = 0; q < SLOTS * width; ++q) rows[q] = inf;
        vec<T>* slot[SLOTS];
        int64_t written[SLOTS][2];
        for (int s = 0; s < SLOTS; ++s) {
            slot[s] = rows + s * width;
            written[s][0] = written[s][1] = 0;
        }
        const int before = int((r0 + SLOTS - 1) % SLOTS);
        std::memcpy(slot[before], init, sizeof(vec<T>) * width);
        written[before][1] = width;
        for (int64_t i = r0; i < r1; i += SKEW) {
            const int count = r1 - i < SKEW ? int(r1 - i) : SKEW;
            int64_t first = LO[i], last = 0;  // the steps t that reach a cell of the rows in flight
            for (int r = 0; r < count; ++r) {
                const int s = int((i + r) % SLOTS);
                first = LO[i + r] + r < first ? LO[i + r] + r : first;
                last = HI[i + r] + r > last ? HI[i + r] + r : last;
                for (int64_t q = written[s][0]; q < written[s][1]; ++q) slot[s][q] = inf;
                written[s][0] = LO[i + r] + 1;
                written[s][1] = HI[i + r] + 1;
            }
            for (int64_t t = first; t < last; ++t) {
                for (int r = 0; r < count; ++r) {
                    const int64_t row = i + r, j = t - r;
                    if (j < LO[row] || j >= HI[row]) continue;
                    const vec<T>* prev = slot[(row + SLOTS - 1) % SLOTS];
                    vec<T>* cur = slot[row % SLOTS];
                    vec<T> qa, qb, qc;
                    const vec<T> soft =
                        smoothed_min3<T>(prev[j], prev[j + 1], cur[j], gamma, inv_gamma, regularizer, qa, qb, qc);
                    const vec<T> jv = splat<T>(T(j));
                    const auto valid = (jv >= lov[row]) & (jv < hiv[row]);
                    cur[j + 1] = valid ? cost(row, j) + soft : inf;
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
                const vec<T>* cur = slot[row % SLOTS];
                for (int l = 0; l < W; ++l) {
                    if (nl[l] - 1 == row) values[l] = cur[ml[l]][l];
                }
                if (checkpoints && (row + 1) % block == 0 && row + 1 < N) {
                    std::memcpy(checkpoints + (row + 1) / block * width, cur, sizeof(vec<T>) * width);
                }
            }
        }
    }

    // chains row i of E (e[LO[i] .. HI[i])) to the gradients: gx[i] += sum_j e_ij dC_ij/dx_i, gy[j] likewise
    void push_gradient(int64_t i, const vec<T>* e, T* gx, T* gy) const {
        const vec<T> zero = splat<T>(0);
        T* gxi = gx + i * d * W;
        for (int64_t j = LO[i]; j < HI[i]; ++j) {
            vec<T> ej = e[j];
            T* gyj = gy + j * d * W;
            const T* xi = x + i * d * W;
            const T* yj = y + j * d * W;
            if (metric == EUCLIDEAN) {
                vec<T> s = zero;
                for (int64_t k = 0; k < d; ++k) {
                    const vec<T> diff = load<T>(xi + k * W) - load<T>(yj + k * W);
                    s += diff * diff;
                }
                for (int l = 0; l < W; ++l) s[l] = __builtin_sqrt(s[l]);
                ej = s == zero ? zero : ej / s;
            }
            for (int64_t k = 0; k < d; ++k) {
                const vec<T> diff = load<T>(xi + k * W) - load<T>(yj + k * W);
                vec<T> g;
                if (metric == SQEUCLIDEAN) {
                    g = T(2) * ej * diff;
                } else if (metric == EUCLIDEAN) {
                    g = ej * diff;
                } else {
                    g = diff > zero ? ej : (diff < zero ? -ej : zero);
                }
                store<T>(gxi + k * W, load<T>(gxi + k * W) + g);
                store<T>(gyj + k * W, load<T>(gyj + k * W) - g);
            }
        }
    }

    // Backward pass over the rows r1-1 .. r0 and their stored weights (as ``forward`` stored them): E = dR[end] / dC,
    // to the gradients or to E. ``acc`` (2 (M + 1) vectors): the accumulated E of rows i and i-1, zero on the first
    // call (r1 == N) and carried from one block of rows to the one before it.
    void backward(int64_t r0, int64_t r1, const vec<T>* weights, int64_t plane, vec<T>* acc, vec<T>* e, T* gx, T* gy,
                  T* E) const {
        vec<T>* buffer[2] = {acc, acc + (M + 1)};
        if (r1 == N) {
            for (int64_t q = 0; q < 2 * (M + 1); ++q) acc[q] = splat<T>(0);
        }
        for (int64_t i = r1 - 1; i >= r0; --i) {
            vec<T>* cur = buffer[i & 1];
            vec<T>* prev = buffer[(i + 1) & 1];
            for (int l = 0; l < W; ++l) {
                if (nl[l] - 1 == i) cur[ml[l]][l] += T(1);
            }
            // each cell pushes E * q to its three predecessors; the pushes to the left and diagonal neighbours are
            // carried in registers to the next cell (no store-to-load chain through memory)
            const int64_t a = LO[i], c = HI[i];
            vec<T> left = splat<T>(0), diagonal = splat<T>(0);
            for (int64_t j = c - 1; j >= a; --j) {
                const vec<T> ej = cur[j + 1] + left;
                e[j] = ej;
                const int64_t w = start[i] - start[r0] + j - a;
                left = ej * weights[2 * plane + w];
                prev[j + 1] += diagonal + ej * weights[plane + w];
                diagonal = ej * weights[w];
            }
            prev[a] += diagonal;
            if (want == GRADIENT) {
                push_gradient(i, e, gx, gy);
            } else {
                for (int64_t j = a; j < c; ++j) store<T>(E + (i * m + j) * W, e[j]);
            }
            for (int64_t q = a; q <= c; ++q) cur[q] = splat<T>(0);
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
// through them: one more forward pass for O(block x M + N x M / block) memory instead of O(N x M).
template <typename T>
int run(const T* x, const T* y, const T* D, const int64_t* nl, const int64_t* ml, const int64_t* corridor, int64_t n,
        int64_t m, int64_t d, int64_t band, int metric, double gamma, int regularizer, int want, int64_t block, T* values, T* gx, T* gy,
        T* E) {
    FlushSubnormals flush;
    Group<T> g{x, y, D, nl, ml, corridor, n, m, d, band, metric, regularizer, want, T(gamma)};
    if (!g.spans()) return 1;
    const int64_t N = g.N, width = g.M + 1;
    block = block < 1 ? 1 : (block > N ? N : block);
    const int64_t blocks = want == VALUE ? 1 : (N + block - 1) / block;
    int64_t plane = 0;  // the most cells of one block of rows
    for (int64_t s = 0; s < blocks; ++s) {
        const int64_t r0 = s * block, r1 = (s + 1) * block < N ? (s + 1) * block : N;
        plane = g.start[r1] - g.start[r0] > plane ? g.start[r1] - g.start[r0] : plane;
    }
    const size_t row_vectors = size_t(Group<T>::SLOTS) * width, acc_vectors = 3 * size_t(width);
    const size_t checkpoint_vectors = size_t(blocks) * width;
    const size_t weight_vectors = want == VALUE ? 0 : 3 * size_t(plane);
    vec<T>* rows =
        static_cast<vec<T>*>(scratch.get(sizeof(vec<T>) * (row_vectors + acc_vectors + checkpoint_vectors + weight_vectors)));
    if (!rows) return 1;
    vec<T>* acc = rows + row_vectors;
    vec<T>* checkpoints = acc + acc_vectors;
    vec<T>* weights = want == VALUE ? nullptr : checkpoints + checkpoint_vectors;
    for (int64_t q = 0; q < width; ++q) checkpoints[q] = splat<T>(std::numeric_limits<T>::infinity());
    checkpoints[0] = splat<T>(0);  // R[-1, -1] = 0, R[-1, j >= 0] = +inf
    if (want == VALUE) {
        g.forward(0, N, checkpoints, rows, nullptr, 0, values, nullptr, N);
    } else if (blocks == 1) {
        g.forward(0, N, checkpoints, rows, weights, plane, values, nullptr, N);
        g.backward(0, N, weights, plane, acc, acc + 2 * width, gx, gy, E);
    } else {
        g.forward(0, N, checkpoints, rows, nullptr, 0, values, checkpoints, block);
        for (int64_t s = blocks - 1; s >= 0; --s) {
            const int64_t r0 = s * block, r1 = r0 + block < N ? r0 + block : N;
            g.forward(r0, r1, checkpoints + s * width, rows, weights, plane, values, nullptr, block);
            g.backward(r0, r1, weights, plane, acc, acc + 2 * width, gx, gy, E);
        }
    }
    scratch.trim();
    return 0;
}

}  // namespace

extern "C" {

int dtwrl_lanes_width(int itemsize) { return itemsize == 4 ? Lanes<float>::W : Lanes<double>::W; }

int dtwrl_sdtw_lanes_f32(const float* x, const float* y, const float* D, const int64_t* nl, const int64_t* ml,
                         const int64_t* corridor, int64_t n, int64_t m, int64_t d, int64_t band, int metric, double gamma, int regularizer,
                         int want, int64_t block, float* values, float* gx, float* gy, float* E) {
    return run<float>(x, y, D, nl, ml, corridor, n, m, d, band, metric, gamma, regularizer, want, block, values, gx, gy, E);
}

int dtwrl_sdtw_lanes_f64(const double* x, const double* y, const double* D, const int64_t* nl, const int64_t* ml,
                         const int64_t* corridor, int64_t n, int64_t m, int64_t d, int64_t band, int metric, double gamma, int regularizer,
                         int want, int64_t block, double* values, double* gx, double* gy, double* E) {
    return run<double>(x, y, D, nl, ml, corridor, n, m, d, band, metric, gamma, regularizer, want, block, values, gx, gy, E);
}
}
