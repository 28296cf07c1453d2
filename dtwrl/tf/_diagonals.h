// One pair, vectorised over the cells of each anti-diagonal (the "diagonal kernel"): a lone long pair keeps every
// lane busy, and a corridor costs its own cells only (a lane group visits the union of its lanes' corridors).
// Included by _lanes.cpp inside its anonymous namespace: it uses that file's vectors, smoothed_min3, series_cost,
// cost_gradient, FlushSubnormals and scratch.
//
// Diagonal k holds the cells (i, k - i); its cells are independent, so W of them are one vector operation. Its
// cells are the rows first(k) .. last(k): the full grid's, or a corridor's. For a corridor (inclusive column bounds
// lo_i <= j <= hi_i, both non-decreasing in i, rows that overlap or touch) they are ONE interval of rows,
// {i : i + lo_i <= k <= i + hi_i}, since i + lo_i and i + hi_i increase strictly with i; and from one diagonal to
// the next first and last grow by 0 or 1, with last(k) >= first(k) - 1 (a diagonal may hold no cell: after a
// diagonal step (i, j) -> (i + 1, j + 1) of a one-cell-wide corridor).
//
// Diagonals are indexed by p = i + 1 (p = 0: row -1), with one +inf (forward) or 0 (backward) sentinel on each side
// of the diagonal's cells: its span is first(k) .. last(k) + 2. A diagonal buffer holds one span from its start (p at
// p - first(k)), so it is as wide as the widest span (a corridor's, not n). The predecessors of diagonal k are
// diagonal k - 1 at p - 1 (up) and p (left) and diagonal k - 2 at p - 1 (diagonal): positions first(k) ..
// last(k) + 1, inside the spans of diagonals k - 1 and k - 2 by the growth above, so the numbers a rotating buffer
// keeps past a span (stale diagonals, masked lanes) are never used. The backward pass reads diagonals k + 1 and
// k + 2 likewise. The series come transposed, xt (d, S) and y reversed, yr (d, S) (yr[c][ml - 1 - j] = y[j][c]),
// zero-padded to S >= max(n, m) + W, so that the W cells of a vector read W consecutive numbers of each; the
// gradients come back in the same layouts. The backward pass pulls: E of a cell is the sum of its successors' E
// times their weights toward it, kept per diagonal as three products.
//
// Memory: 3 + 7 diagonal buffers of the widest span + 2W numbers, the spans of 2 diagonals every ``block`` diagonals
// (checkpoints), and the weights of ``block`` diagonals, each padded to W: all of them is 3 x the pair's cells (a
// corridor's, not n x m); with block ~ sqrt(n + m) the memory-light mode keeps O(sqrt(n + m)) diagonals.
template <typename T, int BYTES>
struct Diagonals {
    typedef Lanes<T, BYTES> L;
    static constexpr int W = L::W;
    const T *xt, *yr, *D;
    const int32_t* firsts;  // (K,) first(k) of a corridor, or nullptr: the full grid
    const int32_t* lasts;   // (K,) last(k)
    int64_t nl, ml, m, d, S;
    int metric, regularizer, want;
    T gamma;
    // diagonals; numbers per diagonal buffer, a whole number of vectors (the weights after the buffers stay aligned)
    int64_t K = nl + ml - 1, width = padded(widest() + 2 * W);

    // first and last row of diagonal k; diagonals -2 (R[-1, -1] = 0 at p = 0) and -1 (no cell) start the recursion,
    // diagonals K and K + 1 (the zeros the backward pass starts from) have the first row of the end cell
    int64_t first(int64_t k) const {
        if (k < 0) return 0;
        if (k >= K) return nl - 1;
        if (firsts) return firsts[k];
        return k - ml + 1 > 0 ? k - ml + 1 : 0;
    }
    int64_t last(int64_t k) const {
        if (k < 0) return k;
        if (lasts) return lasts[k];
        return k < nl - 1 ? k : nl - 1;
    }
    int64_t span(int64_t k) const { return last(k) - first(k) + 3; }  // numbers of diagonal k to keep, sentinels in
    static int64_t padded(int64_t cells) { return (cells + W - 1) / W * W; }
    // the most numbers of a span: min(nl, ml) + 2 on the full grid, a corridor's widest diagonal + 2
    int64_t widest() const {
        if (!firsts) return (nl < ml ? nl : ml) + 2;
        int64_t most = 0;
        for (int64_t k = 0; k < K; ++k) most = span(k) > most ? span(k) : most;
        return most;
    }

    inline vec<T, BYTES> cost(int64_t k, int64_t i, int64_t end) const {
        if (metric != PRECOMPUTED) return series_cost<T, BYTES>(xt + i, yr + (ml - 1 - k + i), S, d, metric);
        vec<T, BYTES> c = splat<T, BYTES>(0);
        for (int l = 0; l < W && i + l <= end; ++l) c[l] = D[(i + l) * m + (k - i - l)];
        return c;
    }

    // Diagonals k0 .. k1-1 from the spans of diagonals k0-2 and k0-1 (``init``, one after the other); ``rows``: 3
    // buffers. Stores the weights (three planes of ``plane`` numbers, diagonal after diagonal, each padded to W) when
    // ``weights``, the checkpoints (the spans of diagonals s block - 2 and s block - 1 at ckoff[s]) when
    // ``checkpoints``, the value.
    void forward(int64_t k0, int64_t k1, const T* init, T* rows, T* weights, int64_t plane, T* value, T* checkpoints,
                 const int64_t* ckoff, int64_t block) const {
        const T infinity = std::numeric_limits<T>::infinity();
        const vec<T, BYTES> inf = splat<T, BYTES>(infinity), zero = splat<T, BYTES>(0);
        const T inv_gamma = T(1) / gamma;
        vec<T, BYTES> lane;
        for (int l = 0; l < W; ++l) lane[l] = T(l);
        std::memcpy(rows + ((k0 + 1) % 3) * width, init, sizeof(T) * span(k0 - 2));
        std::memcpy(rows + ((k0 + 2) % 3) * width, init + span(k0 - 2), sizeof(T) * span(k0 - 1));
        int64_t offset = 0;
        for (int64_t k = k0; k < k1; ++k) {
            // each buffer holds its diagonal's span from its start: position p of diagonal k is at p - first(k)
            const T* before = rows + ((k + 1) % 3) * width;
            const T* prev = rows + ((k + 2) % 3) * width;
            const int64_t a = first(k), b = last(k), fb = first(k - 2), fp = first(k - 1);
            T* cur = rows + (k % 3) * width;
            for (int64_t i = a; i <= b; i += W) {
                const int64_t p = i + 1;
                vec<T, BYTES> qa, qb, qc;
                const vec<T, BYTES> soft = smoothed_min3<T, BYTES>(load<T, BYTES>(before + (p - 1 - fb)),
                                                                   load<T, BYTES>(prev + (p - 1 - fp)), load<T, BYTES>(prev + (p - fp)), gamma, inv_gamma, regularizer, qa, qb, qc);
                const auto valid = lane < T(b - i + 1);
                store<T, BYTES>(cur + (p - a), valid ? cost(k, i, b) + soft : inf);
                if (weights) {
                    T* w = weights + offset + (i - a);
                    store<T, BYTES>(w, valid ? qa : zero);
                    store<T, BYTES>(w + plane, valid ? qb : zero);
                    store<T, BYTES>(w + 2 * plane, valid ? qc : zero);
                }
            }
            cur[0] = infinity;
            cur[b + 2 - a] = infinity;
            offset += padded(b - a + 1);
            if (k == K - 1) *value = cur[nl - a];
            if (checkpoints && (k + 1) % block == 0 && k + 1 < K) {
                T* keep = checkpoints + ckoff[(k + 1) / block];
                std::memcpy(keep, prev, sizeof(T) * span(k - 1));
                std::memcpy(keep + span(k - 1), cur, sizeof(T) * span(k));
            }
        }
    }

    // Backward pass over diagonals k1-1 .. k0 and their weights (as ``forward`` stored them). ``pull``: 7 buffers,
    // products e q of the last diagonals (qa of two, qb and qc of one, each double-buffered), zero on the first call
    // (k1 == K) and carried to the block before. E to the gradients (gxt, gyr) or to E (nl, m).
    void backward(int64_t k0, int64_t k1, const T* weights, int64_t plane, T* pull, T* gxt, T* gyr, T* E) const {
        const vec<T, BYTES> zero = splat<T, BYTES>(0);
        vec<T, BYTES> lane;
        for (int l = 0; l < W; ++l) lane[l] = T(l);
        if (k1 == K) {
            for (int64_t q = 0; q < 7 * width; ++q) pull[q] = T(0);
        }
        int64_t offset = 0;
        for (int64_t k = k0; k < k1; ++k) offset += padded(last(k) - first(k) + 1);
        for (int64_t k = k1 - 1; k >= k0; --k) {
            const int64_t a = first(k), b = last(k);
            offset -= padded(b - a + 1);
            // each buffer holds its diagonal's span from its start, as in ``forward``
            T* pa = pull + (k % 3) * width;  // products of diagonal k: e qa (3 buffers), e qb, e qc (2 each)
            T* pb = pull + (3 + k % 2) * width;
            T* pc = pull + (5 + k % 2) * width;
            const T* na = pull + ((k + 2) % 3) * width;  // qa products of diagonal k + 2
            const T* nb = pull + (3 + (k + 1) % 2) * width;
            const T* nc = pull + (5 + (k + 1) % 2) * width;
            const int64_t f2 = first(k + 2), f1 = first(k + 1);
            const T end = k == K - 1 ? T(1) : T(0);  // dR[end] / dR[end]: diagonal K-1 is the end cell alone
            for (int64_t i = a; i <= b; i += W) {
                const int64_t p = i + 1;
                const auto valid = lane < T(b - i + 1);
                const vec<T, BYTES> e =
                    valid ? load<T, BYTES>(nb + (p + 1 - f1)) + load<T, BYTES>(nc + (p - f1)) + load<T, BYTES>(na + (p + 1 - f2)) + end
                          : zero;
                const T* w = weights + offset + (i - a);
                store<T, BYTES>(pa + (p - a), e * load<T, BYTES>(w));
                store<T, BYTES>(pb + (p - a), e * load<T, BYTES>(w + plane));
                store<T, BYTES>(pc + (p - a), e * load<T, BYTES>(w + 2 * plane));
                if (want == GRADIENT) {
                    cost_gradient<T, BYTES>(xt + i, yr + (ml - 1 - k + i), S, d, metric, e, gxt + i, gyr + (ml - 1 - k + i));
                } else {
                    for (int l = 0; l < W && i + l <= b; ++l) E[(i + l) * m + (k - i - l)] = e[l];
                }
            }
            pa[0] = pb[0] = pc[0] = T(0);
            pa[b + 2 - a] = pb[b + 2 - a] = pc[b + 2 - a] = T(0);
        }
    }
};

// first(k) and last(k) of a corridor ``bounds`` (nl, 2) of inclusive column bounds: first(k) is the least row i
// with i + hi_i >= k, last(k) the greatest with i + lo_i <= k; both sweeps are O(nl + ml). Rows as int32: half the
// memory of this index, which a pair of the memory-light mode holds beside its O(sqrt) buffers (2^31 rows of
// corridor would take 32 GB).
inline void corridor_diagonals(const int64_t* bounds, int64_t nl, int64_t K, int32_t* firsts, int32_t* lasts) {
    for (int64_t k = 0, i = 0; k < K; ++k) {
        while (i < nl - 1 && i + bounds[2 * i + 1] < k) ++i;
        firsts[k] = int32_t(i);
    }
    for (int64_t k = 0, i = 0; k < K; ++k) {
        while (i + 1 < nl && i + 1 + bounds[2 * (i + 1)] <= k) ++i;
        lasts[k] = int32_t(i);
    }
}

// One pair on the diagonal kernel, over its full grid (``bounds`` nullptr) or its corridor ``bounds`` (nl, 2);
// ``block`` diagonals of weights at a time (>= K: all at once), the contract of ``run`` otherwise (value, gxt, gyr
// accumulated: zero them first; E (nl, m) zeroed by the caller).
template <typename T, int BYTES>
int run_diagonals(const T* xt, const T* yr, const T* D, const int64_t* bounds, int64_t nl, int64_t ml, int64_t m,
                  int64_t d, int64_t S, int metric, double gamma, int regularizer, int want, int64_t block, T* value,
                  T* gxt, T* gyr, T* E) {
    FlushSubnormals flush;
    const int64_t K = nl + ml - 1, W = Lanes<T, BYTES>::W;
    block = block < 1 ? 1 : (block > K ? K : block);
    const int64_t blocks = want == VALUE ? 1 : (K + block - 1) / block;
    // the checkpoint offsets (blocks + 1), then a corridor's first/last (2 K; the full grid computes them), one
    // allocation
    const size_t rows_bytes = bounds ? sizeof(int32_t) * 2 * size_t(K) : 0;
    int64_t* ckoff = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * (blocks + 1) + rows_bytes));
    if (!ckoff) return 1;
    int32_t* index = bounds ? reinterpret_cast<int32_t*>(ckoff + blocks + 1) : nullptr;
    if (bounds) corridor_diagonals(bounds, nl, K, index, index + K);
    const Diagonals<T, BYTES> g{xt, yr, D, index, bounds ? index + K : nullptr, nl, ml, m, d, S, metric, regularizer,
                                want, T(gamma)};
    int64_t plane = 0;  // the most weights of one block of diagonals
    ckoff[0] = 0;
    for (int64_t s = 0; s < blocks; ++s) {
        const int64_t k0 = s * block, k1 = k0 + block < K ? k0 + block : K;
        int64_t cells = 0;
        for (int64_t k = k0; k < k1; ++k) cells += g.padded(g.last(k) - g.first(k) + 1);
        plane = cells > plane ? cells : plane;
        ckoff[s + 1] = ckoff[s] + g.span(k0 - 2) + g.span(k0 - 1);
    }
    plane = want == VALUE ? 0 : plane + W;
    const int64_t width = g.width;
    const int64_t kept = g.padded(ckoff[blocks]);  // checkpoints, then the weights on a vector boundary
    const size_t numbers = size_t(width) * (3 + 7) + size_t(kept) + 3 * size_t(plane);
    T* rows = static_cast<T*>(scratch.get(sizeof(T) * numbers));
    if (!rows) {
        std::free(ckoff);
        return 1;
    }
    T* pull = rows + 3 * width;
    T* checkpoints = pull + 7 * width;
    T* weights = want == VALUE ? nullptr : checkpoints + kept;
    checkpoints[0] = T(0);  // diagonal -2: R[-1, -1] = 0; diagonal -1: its two sentinels
    checkpoints[1] = checkpoints[2] = std::numeric_limits<T>::infinity();
    if (want == VALUE) {
        g.forward(0, K, checkpoints, rows, nullptr, 0, value, nullptr, ckoff, K);
    } else {
        if (blocks > 1) g.forward(0, K, checkpoints, rows, nullptr, 0, value, checkpoints, ckoff, block);
        for (int64_t s = blocks - 1; s >= 0; --s) {
            const int64_t k0 = s * block, k1 = k0 + block < K ? k0 + block : K;
            g.forward(k0, k1, checkpoints + ckoff[s], rows, weights, plane, value, nullptr, ckoff, block);
            g.backward(k0, k1, weights, plane, pull, gxt, gyr, E);
        }
    }
    std::free(ckoff);
    scratch.trim();
    return 0;
}
