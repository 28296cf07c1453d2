"""envs.core.WarpingBatch: observation values, rewards, masks, expert moves, partial resets."""

import numpy as np
import pytest

from dtwrl.bands import min_band
from dtwrl.datasets import SyntheticPairs
from dtwrl.exact_dtw import dtw, dtw_path, path_cost
from dtwrl.local_cost import cost_matrix
from envs.core import DIAGONAL, DOWN, MOVES, RIGHT, WINDOW_PAD, WarpingBatch
from envs.kernels import BatchState
from envs.packing import _is_plain_series
from tests.reference import brute_force_dtw, in_band, local_costs


def _actions_along(path):
    """The action ids that trace a warping path."""
    steps = np.diff(np.asarray(path), axis=0)
    return [int(np.flatnonzero((step == MOVES).all(axis=1))[0]) for step in steps]


def _random_pair(rng, n, m, d=1):
    return rng.standard_normal((n, d)), rng.standard_normal((m, d))


def test_window_holds_normalised_costs_ahead_with_padding():
    x, y = [0.0, 1.0, 3.0], [0.0, 2.0]
    batch = WarpingBatch(window=3)
    batch.reset([(x, y)])
    C = local_costs(x, y)  # [[0, 4], [1, 1], [9, 1]]
    s = C.mean()  # 16 / 6
    expected = np.full((3, 3), WINDOW_PAD)
    expected[:3, :2] = C / (C + s)
    window = batch.observation()["window"][0]
    np.testing.assert_array_equal(window, expected.astype(np.float32))
    assert window[1, 0] == np.float32(1.0 / (1.0 + s))  # down (action 1) enters (1, 0)
    assert window[0, 1] == np.float32(4.0 / (4.0 + s))  # right (action 2) enters (0, 1)
    batch.step([RIGHT])
    window = batch.observation()["window"][0]
    np.testing.assert_array_equal(window[:, 0], (C[:, 1] / (C[:, 1] + s)).astype(np.float32))
    np.testing.assert_array_equal(window[:, 1:], WINDOW_PAD)


def test_band_cells_are_padded_masked_and_scale_uses_band_cells_only():
    rng = np.random.default_rng(0)
    x, y = _random_pair(rng, 6, 6)
    batch = WarpingBatch(window=6, band=1)
    batch.reset([(x, y)])
    C = local_costs(x, y)
    inside = in_band(6, 6, 1)
    s = C[inside].mean()
    assert batch.scales[0] == pytest.approx(s, rel=1e-15)
    expected = np.where(inside, C / (C + s), WINDOW_PAD).astype(np.float32)
    np.testing.assert_array_equal(batch.observation()["window"][0], expected)
    batch.step([RIGHT])  # (0, 1) is in the band; (0, 2) is not
    assert batch.observation()["action_mask"][0].tolist() == [1, 1, 0]


def test_position_features_hand_computed():
    batch = WarpingBatch(window=1, band=2)
    batch.reset([(np.zeros(5), np.zeros(9))])  # n = 5, m = 9
    batch.step([RIGHT])
    batch.step([RIGHT])  # cell (0, 2)
    i, j, n1, m1 = 0, 2, 4, 8
    expected = [
        i / n1,
        j / m1,
        j / m1 - i / n1,
        (j * n1 - i * m1) / (2 * min(n1, m1)),
        (n1 - i + m1 - j) / (n1 + m1),
        (n1 - i) / (n1 - i + m1 - j),
    ]
    np.testing.assert_array_equal(batch.observation()["position"][0], np.float32(expected))


def test_position_features_at_the_end_and_for_length_one():
    batch = WarpingBatch(window=2)
    batch.reset([(np.zeros(1), np.zeros(3)), (np.zeros(2), np.zeros(2))])
    batch.step([RIGHT, DIAGONAL])
    obs = batch.observation()
    assert obs["position"][0].tolist() == [1.0, 0.5, -0.5, 0.0, 0.5, 0.0]
    assert obs["position"][1].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0, 0.5]
    assert obs["action_mask"][1].tolist() == [0, 0, 0]
    assert batch.done.tolist() == [False, True]


@pytest.mark.parametrize("band", [None, 0, 2])
@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "abs"])
def test_return_equals_minus_dtw_along_the_optimal_path(band, metric):
    rng = np.random.default_rng(1)
    pairs = [_random_pair(rng, 9, 9, 2), _random_pair(rng, 7, 7, 1)]
    batch = WarpingBatch(window=3, metric=metric, band=band)
    batch.reset(pairs)
    plans = [_actions_along(dtw_path(x, y, metric=metric, band=band)[1]) for x, y in pairs]
    total = np.zeros(2)
    for t in range(max(map(len, plans))):
        total += batch.step([plan[t] if t < len(plan) else 0 for plan in plans])
    expected = [dtw(x, y, metric=metric, band=band) for x, y in pairs]
    assert batch.done.all()
    np.testing.assert_allclose(-total, expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(batch.dtw_costs(), expected)


def test_finished_alignments_stay_put_and_earn_zero():
    batch = WarpingBatch(window=2)
    batch.reset([([0.0, 1.0], [0.0, 1.0]), ([0.0, 1.0, 2.0], [5.0, 1.0, 2.0])])
    assert batch.step([DIAGONAL, DIAGONAL]).tolist() == [0.0, -25.0]  # C[0, 0] = 25, C[1, 1] = 0
    rewards = batch.step([DOWN, DIAGONAL])
    assert rewards.tolist() == [0.0, 0.0]
    assert batch.positions.tolist() == [[1, 1], [2, 2]]
    assert [p.tolist() for p in batch.paths()] == [[[0, 0], [1, 1]], [[0, 0], [1, 1], [2, 2]]]


def test_illegal_action_is_replaced_by_the_closest_legal_move():
    batch = WarpingBatch(window=2)
    batch.reset([(np.zeros(2), np.zeros(4))] * 3)
    batch.step([DOWN, DOWN, DOWN])  # all at (1, 0): only right is legal now
    assert not batch.replaced.any()
    batch.step([DIAGONAL, DOWN, RIGHT])
    assert batch.replaced.tolist() == [True, True, False]
    assert batch.positions.tolist() == [[1, 1]] * 3
    batch = WarpingBatch(window=2)
    batch.reset([(np.zeros(4), np.zeros(2))])
    batch.step([RIGHT])  # (0, 1): last column, diagonal and right illegal
    batch.step([RIGHT])
    assert batch.replaced.tolist() == [True]
    assert batch.positions.tolist() == [[1, 1]]  # right -> diagonal (illegal) -> down


def test_expert_actions_are_optimal_from_off_path_cells():
    rng = np.random.default_rng(2)
    pairs = [_random_pair(rng, 6, 5) for _ in range(4)]
    for band in (None, 1):
        batch = WarpingBatch(window=3, band=band)
        batch.reset(pairs)
        for _ in range(2):  # detour: two random legal moves
            mask = batch.observation()["action_mask"].astype(bool)
            batch.step(np.argmax(rng.random(mask.shape) * mask, axis=1))
        spent = batch.path_costs.copy()
        cells = batch.positions
        while not batch.done.all():
            batch.step(batch.expert_actions())
        for b, (x, y) in enumerate(pairs):
            i, j = cells[b]
            C = local_costs(x, y)
            allowed = in_band(6, 5, band)[i:, j:]
            best_rest = brute_force_dtw(np.where(allowed, C[i:, j:], 1e9)) - C[i, j]
            assert batch.path_costs[b] - spent[b] == pytest.approx(best_rest, rel=1e-12)


def test_reward_scale_pair_and_float_keep_path_costs_exact():
    rng = np.random.default_rng(3)
    pair = _random_pair(rng, 8, 11)
    C = local_costs(*pair)
    for scale, factor in (("pair", 1.0 / C.mean()), (0.25, 0.25)):
        batch = WarpingBatch(window=3, reward_scale=scale)
        batch.reset([pair])
        total = 0.0
        while not batch.done.all():
            total += batch.step(batch.expert_actions())[0]
        assert batch.path_costs[0] == pytest.approx(dtw(*pair), abs=1e-12)
        assert total == pytest.approx(-factor * dtw(*pair), rel=1e-12)


def test_partial_reset_grows_the_slabs_and_keeps_other_state():
    rng = np.random.default_rng(4)
    small = [_random_pair(rng, 4, 5), _random_pair(rng, 5, 4)]
    big = _random_pair(rng, 30, 20)
    batch = WarpingBatch(window=3)
    batch.reset(small)
    batch.step([DIAGONAL, RIGHT])
    before = batch.observation()
    batch.reset([big], indices=[0])
    after = batch.observation()
    for key in before:
        np.testing.assert_array_equal(after[key][1], before[key][1])
    assert batch.positions.tolist() == [[0, 0], [0, 1]]
    assert batch.lengths.tolist() == [[30, 20], [5, 4]]
    total = 0.0
    while not batch.done[0]:
        total += batch.step(batch.expert_actions())[0]
    assert -total == pytest.approx(dtw(*big), abs=1e-9)
    np.testing.assert_array_equal(batch.cost_matrix(0), local_costs(*big))


def test_random_legal_policies_terminate_within_n_plus_m_minus_2_steps():
    rng = np.random.default_rng(5)
    sizes = [(1, 6), (6, 1), (2, 2), (9, 4), (4, 9), (12, 12), (30, 7)]
    for band in (None, 0, 3):
        pairs = [_random_pair(rng, n, m, 2) for n, m in sizes if band is None or min_band(n, m) <= band]
        batch = WarpingBatch(window=2, band=band)
        batch.reset(pairs)
        n_plus_m = np.array([len(x) + len(y) for x, y in pairs])
        steps = np.zeros(len(pairs), dtype=int)
        for _ in range(n_plus_m.max()):
            if batch.done.all():
                break
            mask = batch.observation()["action_mask"].astype(bool)
            live = ~batch.done
            assert mask[live].any(axis=1).all()
            batch.step(np.argmax(rng.random(mask.shape) * mask, axis=1))
            assert not batch.replaced.any()
            steps += live
        assert batch.done.all()
        assert (steps <= n_plus_m - 2).all()
        for b, (path, (x, y)) in enumerate(zip(batch.paths(), pairs)):
            assert path_cost(x, y, path) == pytest.approx(batch.path_costs[b], rel=1e-12)  # validates the path
            assert in_band(len(x), len(y), band)[path[:, 0], path[:, 1]].all()


@pytest.mark.parametrize(
    "pairs, match",
    [
        ([(np.zeros((3, 2, 1)), np.zeros(3))], r"pairs\[0\]\[0\] must have shape"),
        ([(np.zeros(3), [0.0, np.nan])], r"pairs\[0\]\[1\] must be finite"),
        ([(np.zeros((3, 2)), np.zeros((4, 3)))], "same number of features"),
        ([(np.zeros(3), np.zeros(4), np.zeros(2))], r"pairs\[0\] must be an \(x, y\) pair"),
        ([(np.zeros(1), np.zeros(1))], "no move to make"),
        ([], "non-empty list"),
    ],
)
def test_bad_pairs_raise_naming_the_argument(pairs, match):
    with pytest.raises(ValueError, match=match):
        WarpingBatch().reset(pairs)


@pytest.mark.parametrize("position", [(1, 0, (2, 0)), (1, 1, (0, 0)), (0, 1, (3, 0))])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_plain_arrays_raise_naming_the_series_and_change_nothing(position, bad):
    """Plain float64 (n, d) arrays skip as_series; one pass over all packed values still finds a NaN or inf."""
    rng = np.random.default_rng(8)
    batch = WarpingBatch(window=3)
    batch.reset([(rng.standard_normal((4, 1)), rng.standard_normal((5, 1))) for _ in range(3)])
    _ = batch.step([0, 1, 2])
    before = batch.observation(), batch.positions, batch.scales
    pairs = [(rng.standard_normal((6, 1)), rng.standard_normal((5, 1))) for _ in range(2)]
    k, side, cell = position
    pairs[k][side][cell] = bad
    with pytest.raises(ValueError, match=rf"pairs\[{k}\]\[{side}\] must be finite"):
        batch.reset(pairs, indices=[2, 0])
    after = batch.observation(), batch.positions, batch.scales
    for key in before[0]:
        np.testing.assert_array_equal(before[0][key], after[0][key])
    np.testing.assert_array_equal(before[1], after[1])
    np.testing.assert_array_equal(before[2], after[2])


def test_pair_source_arrays_take_the_fast_path_and_other_byte_orders_are_converted():
    """Arrays numba returns (SyntheticPairs) carry their own float64 dtype object: still plain, so no per-series
    validation at a reset; a big-endian float64 series is not, and is converted by as_series."""
    x, y = SyntheticPairs()(np.random.default_rng(0))
    assert _is_plain_series(x) and _is_plain_series(y)
    swapped = x.astype(">f8")
    assert not _is_plain_series(swapped)
    batch = WarpingBatch(window=3)
    batch.reset([(swapped, y), (x, y)])
    np.testing.assert_array_equal(batch.cost_matrix(0), batch.cost_matrix(1))


def test_local_costs_that_overflow_raise_naming_the_pair():
    with pytest.raises(ValueError, match=r"pairs\[1\]: the local costs overflow"):
        WarpingBatch(window=3).reset(
            [(np.zeros((3, 1)), np.ones((4, 1))), (np.full((3, 1), 1e200), -np.ones((2, 1)) * 1e200)]
        )


@pytest.mark.parametrize("lookahead", [None, "corridor"])
def test_pair_scaled_rewards_of_underflowing_costs_raise_naming_the_pair(lookahead):
    """A mean local cost below the smallest normal float64 has no finite reciprocal: with reward_scale="pair" the
    rewards were -inf (or NaN); now the reset says so. Unscaled rewards stay finite, and tiny but normal scales
    give rewards of order one."""
    from envs.observation import corridor_lookahead

    kwargs = {} if lookahead is None else {"lookahead": corridor_lookahead(4)}
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((40, 1)), rng.standard_normal((30, 1))
    fine = (np.zeros((3, 1)), np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"pairs\[1\]: the local costs underflow float64 .*reward_scale='pair'"):
        WarpingBatch(window=3, reward_scale="pair", **kwargs).reset([fine, (x * 1e-160, y * 1e-160)])
    for scale, reward_scale in ((1e-160, 1.0), (1e-150, "pair"), (1e150, "pair")):
        batch = WarpingBatch(window=3, reward_scale=reward_scale, **kwargs)
        batch.reset([(x * scale, y * scale)])
        rewards = [batch.step([0]) for _ in range(29)]
        assert np.all(np.isfinite(rewards))
        if reward_scale == "pair":
            assert 1e-3 < np.abs(rewards).max() < 1e3


def test_a_grid_too_large_for_memory_is_refused_with_the_corridor_as_the_way_out(monkeypatch):
    """The dense observation's slabs hold every alignment's n x m grid: a reset that would not fit in the memory
    available raised OSError (or got the process killed); now a ValueError says why and what to use."""
    import dtwrl.memory

    monkeypatch.setattr(dtwrl.memory, "available_bytes", lambda: 1_000_000)
    monkeypatch.setattr(dtwrl.memory, "ALWAYS_FITS", 0)  # check these small grids too
    batch = WarpingBatch(window=3)
    batch.reset([(np.zeros(100), np.ones(90))])  # 102 x 92 cells, 17 bytes each with the default lookahead
    with pytest.raises(
        ValueError, match=r"pairs: .* 2 alignment\(s\) of up to 402 x 92 cells would take .*corridor_lookahead"
    ):
        batch.reset([(np.zeros(400), np.ones(90))] * 2)
    with pytest.raises(ValueError, match="GB available"):
        batch.reset([(np.zeros(100), np.ones(90))])
        batch.reset([(np.zeros(100), np.ones(1_000))], indices=[0])  # a longer pair grows the slabs
    monkeypatch.setattr(dtwrl.memory, "available_bytes", lambda: None)  # no /proc/meminfo: no check
    batch.reset([(np.zeros(400), np.ones(90))] * 2)


def test_bad_arguments_raise_naming_the_argument():
    with pytest.raises(ValueError, match="window must be an int >= 1"):
        WarpingBatch(window=0)
    with pytest.raises(TypeError, match="window must be an int"):
        WarpingBatch(window=2.5)
    with pytest.raises(ValueError, match="metric must be one of"):
        WarpingBatch(metric="cosine")
    with pytest.raises(ValueError, match="band"):
        WarpingBatch(band=-1)
    with pytest.raises(ValueError, match="reward_scale"):
        WarpingBatch(reward_scale=0.0)
    with pytest.raises(ValueError, match="band=0 is too narrow"):
        WarpingBatch(band=0).reset([(np.zeros(3), np.zeros(5))])
    batch = WarpingBatch()
    with pytest.raises(RuntimeError, match="reset"):
        batch.step([0])
    batch.reset([(np.zeros(3), np.zeros(3))] * 2)
    with pytest.raises(ValueError, match=r"actions\[1\] = 3"):
        batch.step([0, 3])
    assert batch.positions.tolist() == [[0, 0], [0, 0]]  # a bad batch of actions moves nobody
    with pytest.raises(ValueError, match="shape"):
        batch.step([0])
    with pytest.raises(ValueError, match="distinct"):
        batch.reset([(np.zeros(3), np.zeros(3))] * 2, indices=[1, 1])


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "abs"])
def test_costs_are_bitwise_dtwrl_cost_matrix(metric):
    rng = np.random.default_rng(6)
    sizes = [(9, 13, 1), (17, 4, 3), (2, 30, 5)]
    pairs = [(rng.standard_normal((n, d)) * 7, rng.standard_normal((m, d))) for n, m, d in sizes]
    batch = WarpingBatch(window=4, metric=metric)
    batch.reset(pairs)
    for b, (x, y) in enumerate(pairs):
        np.testing.assert_array_equal(batch.cost_matrix(b), cost_matrix(x, y, metric))
        assert batch.dtw_costs([b])[0] == dtw(x, y, metric=metric)


@pytest.mark.parametrize("band", [None, 1])
def test_dtw_cost_and_scale_are_bitwise_for_every_row_parity(band):
    """Rows two at a time (no band) or one at a time: the DTW cost is dtwrl.dtw's and the scale is the plain
    row-major mean of the band costs, bitwise, for odd and even n, length 1 and integer-valued ties."""
    rng = np.random.default_rng(9)
    pairs = []
    for n in range(1, 7):
        for m in (2, 5, 6):
            x, y = rng.standard_normal((n, 2)), rng.standard_normal((m, 2))
            pairs.append((np.round(x), np.round(y)) if n % 3 == 0 else (x, y))
    pairs = [(x, y) for x, y in pairs if band is None or abs(len(x) - len(y)) <= band]
    batch = WarpingBatch(window=3, band=band)
    batch.reset(pairs)
    for b, (x, y) in enumerate(pairs):
        assert batch.dtw_costs([b])[0] == dtw(x, y, band=band)
        C, total = cost_matrix(x, y), 0.0
        allowed = in_band(len(x), len(y), band)
        for value in C[allowed]:
            total += value
        assert batch.scales[b] == (total / allowed.sum() or 1.0)


def test_expert_actions_stay_legal_after_a_partial_reset_to_a_smaller_pair():
    """Cost-to-go left by a longer earlier pair must not leak past the new pair's grid."""
    rng = np.random.default_rng(3)
    batch = WarpingBatch(window=3)
    zeros = (np.zeros(9), np.zeros(9))  # cost-to-go 0 everywhere: stale zeros would win the argmin
    batch.reset([zeros, zeros])
    batch.expert_actions()
    batch.reset([(rng.normal(size=3), rng.normal(size=6))], indices=[0])
    while not batch.done[0]:
        action = batch.expert_actions()
        assert batch.observation()["action_mask"][0, action[0]] == 1
        batch.step(action)
    assert batch.path_costs[0] == pytest.approx(batch.dtw_costs()[0])


@pytest.mark.parametrize("band", [None, 3])
def test_a_pair_object_given_again_is_loaded_by_copy_with_the_same_state(band):
    """reset() loads the K-th repeat of one (x, y) object by copying the first's slabs: same state as computing it."""
    rng = np.random.default_rng(7)
    pairs = [_random_pair(rng, 9, 12, d=2), _random_pair(rng, 6, 5, d=2)]
    shared = [pairs[0], pairs[1], pairs[0], pairs[0], pairs[1]]
    copies = [(x.copy(), y.copy()) for x, y in shared]
    kwargs = dict(window=3, band=band, lookahead=[[2, 3], [4, 3]], reward_scale="pair")
    one, other = WarpingBatch(**kwargs), WarpingBatch(**kwargs)
    one.reset(shared)
    other.reset(copies)
    for b, (x, y) in enumerate(shared):
        np.testing.assert_array_equal(one.cost_matrix(b), other.cost_matrix(b))
        np.testing.assert_array_equal(one.cost_matrix(b), local_costs(x, y))
    for name in ("_allowed", "_terminal", "_scale", "_factor", "_dtw", "_lengths", "_band_den"):
        np.testing.assert_array_equal(getattr(one, name), getattr(other, name), err_msg=name)
    for key, value in one.observation().items():
        np.testing.assert_array_equal(value, other.observation()[key], err_msg=key)
    while not one.done.all():  # the same expert moves and rewards, step by step
        actions = one.expert_actions()
        np.testing.assert_array_equal(actions, other.expert_actions())
        np.testing.assert_array_equal(one.step(actions), other.step(actions))
    np.testing.assert_array_equal(one.path_costs, other.path_costs)
    # a partial reset may name the same object twice too
    one.reset([pairs[1], pairs[1]], indices=[3, 0])
    np.testing.assert_array_equal(one.cost_matrix(0), local_costs(*pairs[1]))
    np.testing.assert_array_equal(one.cost_matrix(3), local_costs(*pairs[1]))
    assert one.lengths.tolist()[0] == one.lengths.tolist()[3] == [6, 5]


@pytest.mark.parametrize("band", [None, 2])
def test_the_enterable_flags_are_filled_only_with_a_band(band):
    """With a band the flag slab holds each grid's band cells; without one no kernel reads it, and reset leaves it 0."""
    rng = np.random.default_rng(4)
    batch = WarpingBatch(window=3, band=band, lookahead=((2, 3),))
    batch.reset([_random_pair(rng, 7, 9), _random_pair(rng, 8, 6)])
    batch.reset([_random_pair(rng, 5, 6)], indices=[1])  # new lengths in a used slot
    for b, (n, m) in enumerate(batch.lengths.tolist()):
        expected = np.zeros(batch._allowed[b].shape, dtype=np.int8)
        if band is not None:
            expected[:n, :m] = in_band(n, m, band)
        np.testing.assert_array_equal(batch._allowed[b], expected)


def test_the_kernels_take_the_state_as_a_plain_tuple_of_the_batch_arrays():
    """An exact tuple (numba types it from a C fingerprint, a NamedTuple in Python), with BatchState's fields."""
    batch = WarpingBatch(window=3)
    batch.reset([_random_pair(np.random.default_rng(0), 5, 4)])
    assert type(batch._state) is tuple
    state = BatchState(*batch._state)
    assert state.raw is batch._flat_raw and state.done is batch.done and state.path_costs is batch.path_costs
    assert (state.rows, state.cols, state.banded) == (batch._rows, batch._cols, False)
