"""The corridor observation: exact cost-to-go inside the corridor, linear size, same env as WarpingBatch elsewhere."""

import gymnasium
import numpy as np
import pytest

import envs  # noqa: F401 (registers the ids)
from dtwrl import cost_matrix, dtw
from dtwrl.bands import band_bounds
from envs.core import WarpingBatch
from envs.corridor import build_corridor, corridor_path
from envs.observation import corridor_lookahead, feature_count


def _brute_force(C, lo, hi, blo, bhi):
    """Cost-to-go by the plain recurrence over the full matrix, +inf outside the corridor and the band."""
    n, m = C.shape
    G = np.full((n + 1, m + 1), np.inf)
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if not (lo[i] <= j <= hi[i] and blo[i] <= j <= bhi[i]):
                continue
            rest = 0.0 if (i, j) == (n - 1, m - 1) else min(G[i + 1, j + 1], G[i + 1, j], G[i, j + 1])
            G[i, j] = C[i, j] + rest
    return G[:n, :m]


CASES = [(40, 40, 1, None), (57, 23, 2, None), (1, 30, 1, None), (30, 1, 0, None), (70, 50, 1, 12), (33, 33, 0, 3)]


@pytest.mark.parametrize(("n", "m", "d", "band"), [(n, m, d + 1, b) for n, m, d, b in CASES])
def test_corridor_values_equal_a_brute_force_dp_restricted_to_the_corridor(n, m, d, band):
    rng = np.random.default_rng(n * m + d)
    x, y = rng.normal(size=(n, d)), rng.normal(size=(m, d))
    c = build_corridor(x, y, "sqeuclidean", radius=1, band=band, coarsest=8)
    blo, bhi = band_bounds(n, m, band)
    G = _brute_force(cost_matrix(x, y), c.lo, c.hi, blo, bhi)
    got = np.array([[c.value(i, j) for j in range(m)] for i in range(n)])
    inside = np.isfinite(G)
    np.testing.assert_array_equal(np.isfinite(got), inside)
    np.testing.assert_allclose(got[inside], G[inside], rtol=1e-12)
    assert np.isfinite(c.value(0, 0)) and c.value(0, 0) >= dtw(x, y, band=band) - 1e-9
    assert c.lo[0] == 0 and c.hi[-1] == m - 1
    assert np.all(np.diff(c.lo) >= 0) and np.all(np.diff(c.hi) >= 0)


def test_a_corridor_as_wide_as_the_grid_gives_exact_dtw():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(60, 1)), rng.normal(size=(45, 1))
    c = build_corridor(x, y, radius=100, coarsest=8)
    assert c.cells == 60 * 45
    assert c.value(0, 0) == pytest.approx(dtw(x, y), rel=1e-12)


def test_corridor_cells_grow_linearly_with_the_length():
    rng = np.random.default_rng(2)
    cells = []
    for n in (10_000, 100_000):
        x = np.cumsum(rng.normal(size=n))[:, None]
        y = x[np.sort(rng.integers(0, n, n))]
        cells.append(build_corridor(x, y, radius=2).cells)
        assert cells[-1] <= 4 * (2 + 2) * 2 * n  # about 2 (radius + 1) cells across the path of n + m cells
        # a noisy period-3 signal: the two coarse paths (pooled means, pooled costs) diverge; one corridor is kept
        x = np.tile([-0.19, 0.1, 0.09], n // 3 + 1)[:n, None] + 0.05 * rng.normal(size=(n, 1))
        y = x[np.sort(rng.integers(0, n, n))]
        assert build_corridor(x, y, radius=2).cells <= 4 * (2 + 2) * 2 * n
    assert cells[1] / cells[0] < 11


def test_corridor_batch_matches_warping_batch_on_short_pairs_and_uses_no_matrix():
    rng = np.random.default_rng(3)
    pairs = [(rng.normal(size=(n, 2)), rng.normal(size=(m, 2))) for n, m in [(20, 30), (40, 17), (1, 9), (64, 64)]]
    for band in (None, 20):
        use = pairs if band is None else [pairs[0], pairs[1], pairs[3]]
        plain = WarpingBatch(window=5, lookahead=(), band=band)
        linear = WarpingBatch(window=5, lookahead=corridor_lookahead(1), band=band)
        assert type(linear).__name__ == "CorridorBatch"
        plain.reset(use)
        linear.reset(use)
        while not plain.done.all():
            a, b = plain.observation(), linear.observation()
            for key in ("window", "position", "action_mask"):
                np.testing.assert_array_equal(a[key], b[key])
            actions = rng.integers(0, 3, plain.num)
            np.testing.assert_array_equal(plain.step(actions), linear.step(actions))
            np.testing.assert_array_equal(plain.replaced, linear.replaced)
        np.testing.assert_array_equal(plain.path_costs, linear.path_costs)
        np.testing.assert_allclose(plain.dtw_costs(), linear.dtw_costs(), rtol=1e-12)


def test_corridor_expert_follows_the_corridor_optimum_and_finds_its_way_back(monkeypatch):
    import envs.corridor_batch

    rng = np.random.default_rng(4)
    x = np.cumsum(rng.normal(size=300))
    y = x[np.sort(rng.integers(0, 300, 250))]
    exact = WarpingBatch(window=3, lookahead=corridor_lookahead(1))
    exact.reset([(x, y)])
    while not exact.done.all():  # a pair of at most EXACT_EXPERT_CELLS: exact moves
        exact.step(exact.expert_actions())
    assert exact.path_costs[0] == pytest.approx(dtw(x, y), rel=1e-12)
    monkeypatch.setattr(envs.corridor_batch, "EXACT_EXPERT_CELLS", 0)  # beyond: the corridor's expert
    batch = WarpingBatch(window=3, lookahead=corridor_lookahead(1))
    batch.reset([(x, y)])
    for _ in range(40):  # leave the corridor to the right, far
        batch.step(np.array([2]))
    obs = batch.observation()["lookahead"][0]
    assert np.all(obs[0] == 1.0) and obs[1].min() > 0  # off the corridor: no value, a way back
    while not batch.done.all():
        batch.step(batch.expert_actions())
    assert batch.path_costs[0] >= batch.dtw_costs()[0]
    fresh = WarpingBatch(window=3, lookahead=corridor_lookahead(1))
    fresh.reset([(x, y)])
    while not fresh.done.all():
        fresh.step(fresh.expert_actions())
    assert fresh.path_costs[0] == pytest.approx(fresh.corridor(0).value(0, 0), rel=1e-12)


def test_registered_env_runs_long_pairs_under_the_corridor_observation():
    venv = gymnasium.make_vec("dtwrl/SyntheticWarp-v0", num_envs=3, lookahead=corridor_lookahead(2))
    obs, _ = venv.reset(seed=0)
    assert obs["lookahead"].shape == (3, 2, 3)
    assert feature_count(7, corridor_lookahead(2)) == 7 * 7 + 6 + 6
    finished = 0
    for _ in range(600):
        obs, _, terminated, _, info = venv.step(np.zeros(3, dtype=np.int64))
        finished += int(terminated.sum())
        assert obs["lookahead"].min() >= 0 and obs["lookahead"].max() <= 1
    assert finished > 0 and np.all(info.get("cost_ratio", np.ones(1)) >= 1 - 1e-12)
    env = gymnasium.make("dtwrl/SyntheticWarp-v0", lookahead=corridor_lookahead(2))
    x = np.sin(np.linspace(0, 40, 30_000))
    env.reset(seed=0, options={"pair": (x, x[::3])})
    assert env.unwrapped.batch.corridor(0).cells < 30_000 * 30


def test_bad_corridor_rows_are_rejected():
    with pytest.raises(ValueError, match="only row"):
        WarpingBatch(lookahead=((0, 2), (2, 16)))
    with pytest.raises(ValueError, match="radius"):
        WarpingBatch(lookahead=((0, -1),))


def test_pooled_spreads_make_the_pooled_cost_the_mean_of_the_fine_costs():
    from envs.corridor import _njit_pool

    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(4, 3))
    (px, sx), (py, sy) = (x, np.zeros(8)), (y, np.zeros(4))
    for _ in range(3):
        px, sx = _njit_pool(px, sx)
    for _ in range(2):
        py, sy = _njit_pool(py, sy)
    assert sx[0] == pytest.approx(x.var(axis=0).sum()) and sy[0] == pytest.approx(y.var(axis=0).sum())
    pooled_cost = ((px[0] - py[0]) ** 2).sum() + sx[0] + sy[0]
    assert pooled_cost == pytest.approx(cost_matrix(x, y).mean())


def test_vector_env_with_autoresets_matches_the_window_only_env_on_short_pairs():
    from dtwrl.datasets import SyntheticPairs
    from envs import WarpingPathVectorEnv

    pairs = SyntheticPairs(n=(5, 60), m=(5, 60), d=2)  # lengths change at every reset: regions reused and regrown
    plain = WarpingPathVectorEnv(5, pairs=pairs, window=3, lookahead=())
    linear = WarpingPathVectorEnv(5, pairs=pairs, window=3, lookahead=corridor_lookahead(1))
    a, _ = plain.reset(seed=3)
    b, _ = linear.reset(seed=3)
    rng = np.random.default_rng(0)
    finished = 0
    for _ in range(400):
        for key in ("window", "position", "action_mask"):
            np.testing.assert_array_equal(a[key], b[key])
        actions = rng.integers(0, 3, 5)
        a, ra, ta, _, ia = plain.step(actions)
        b, rb, tb, _, ib = linear.step(actions)
        np.testing.assert_array_equal(ra, rb)
        np.testing.assert_array_equal(ta, tb)
        if ta.any():
            finished += int(ta.sum())
            np.testing.assert_allclose(ia["dtw_cost"], ib["dtw_cost"], rtol=1e-12)
            for p, q in zip(ia["path"][ta], ib["path"][tb]):
                np.testing.assert_array_equal(p, q)
    assert finished > 10


def test_forward_corridor_cost_equals_the_backward_start_value():
    from envs.corridor import _corridor_cost

    rng = np.random.default_rng(6)
    for n, m, band in [(50, 35, None), (40, 40, 5), (1, 12, None)]:
        x, y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2))
        c = build_corridor(x, y, radius=1, band=band, coarsest=8)
        assert _corridor_cost(x, y, 0, c.lo, c.hi) == pytest.approx(c.value(0, 0), rel=1e-12)
        lo, hi = c.lo.copy(), c.hi.copy()
        lo[n // 2], hi[n // 2] = 1, 0  # an empty row: no path
        assert _corridor_cost(x, y, 0, lo, hi) == np.inf
        assert _corridor_cost(x, y, 0, c.lo, np.minimum(c.hi, m - 2)) == np.inf  # the end cell left out


def test_corridor_batch_refuses_bad_pairs_naming_them():
    batch = WarpingBatch(lookahead=corridor_lookahead(2))
    with pytest.raises(ValueError, match=r"pairs\[1\]"):
        batch.reset([(np.zeros(5), np.ones(6)), (np.array([0.0, 1e200, 2.0]), np.zeros(4))])
    with pytest.raises(ValueError, match=r"pairs\[0\]"):
        batch.reset([(np.array([0.0, np.nan]), np.zeros(4))])
    with pytest.raises(ValueError, match="band"):
        WarpingBatch(lookahead=corridor_lookahead(2), band=0).reset([(np.zeros(5), np.zeros(9))])


def test_a_lone_alignment_keeps_its_corridor_once_and_a_reset_never_overwrites_an_old_corridor():
    """One alignment holds its corridor's cost-to-go once (traced peak of a reset and rollout about a build's);
    resetting it leaves a corridor handed out before untouched, and walks as a fresh batch does."""
    import tracemalloc

    rng = np.random.default_rng(9)
    pairs = [(rng.normal(size=(2000, 1)), rng.normal(size=(1900, 1))) for _ in range(2)]
    lookahead = corridor_lookahead(6)
    batch = WarpingBatch(window=3, lookahead=lookahead)
    batch.reset(pairs[:1])  # compiles the reset, steps and expert outside the measurement
    while not batch.done.all():
        batch.step(batch.expert_actions())
    tracemalloc.start()
    build_corridor(*pairs[0], radius=6)
    built = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    batch.reset(pairs[:1])
    while not batch.done.all():
        batch.step(batch.expert_actions())
    held = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert held < 1.25 * built, (held, built)  # 1.00x measured; 1.53x when the state copied the corridor
    old = batch.corridor(0)
    kept = old.values.copy()
    batch.reset(pairs[1:], indices=[0])
    np.testing.assert_array_equal(old.values, kept)
    fresh = WarpingBatch(window=3, lookahead=lookahead)
    fresh.reset(pairs[1:])
    for core in (batch, fresh):
        while not core.done.all():
            core.step(core.expert_actions())
    np.testing.assert_array_equal(batch.paths()[0], fresh.paths()[0])
    assert batch.path_costs[0] == fresh.path_costs[0]


def test_the_argmin_path_keeps_two_bits_a_corridor_cell():
    """corridor_path's traced peak stays under one byte per corridor cell on a wide corridor (0.62 measured; an int8
    move per cell alone would reach one byte, and the int8 DP peaked at 1.51)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=(3000, 1)), 0) * 0.05
    y = x + 0.3 * rng.normal(size=(3000, 1))
    cells = build_corridor(x, y, radius=64).cells
    corridor_path(x, y, radius=64)  # compiled outside the measurement
    tracemalloc.start()
    path = corridor_path(x, y, radius=64)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < cells, (peak, cells)
    assert path[0].tolist() == [0, 0] and path[-1].tolist() == [2999, 2999]
