"""HeuristicAligner: the observation's own argmin, against exact DTW and as a registered aligner."""

import numpy as np
import pytest

from agents import HeuristicAligner, PolicyAligner
from agents.evaluation import lookahead_argmin_paths
from agents.policy.heuristic_aligner import candidate_rules
from dtwrl import dtw
from dtwrl.aligners import aligner_from_config, aligner_to_config, get_aligner
from dtwrl.exact_dtw import path_cost
from dtwrl.validation import check_path
from envs.observation import corridor_lookahead


def _pairs(seed, shapes):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(n, d)), rng.normal(size=(m, d))) for n, m, d in shapes]


SHAPES = [(12, 12, 1), (20, 9, 2), (1, 7, 1), (9, 1, 3), (30, 25, 1)]


@pytest.mark.parametrize("band", [None, 6])
def test_exact_cost_to_go_features_give_exact_dtw(band):
    pairs = _pairs(0, SHAPES if band is None else [s for s in SHAPES if min(s[:2]) > 1])
    aligner = HeuristicAligner({"lookahead": corridor_lookahead(64), "window": 3, "band": band})  # the whole grid
    for (x, y), path in zip(pairs, aligner.align_pairs(pairs)):
        check_path(path, len(x), len(y))
        assert path_cost(x, y, path) == pytest.approx(dtw(x, y, band=band), rel=1e-12)
    kwargs = {"lookahead": ((2, 4),), "window": 3, "band": band}  # the lookahead observation's own argmin
    for ours, theirs in zip(HeuristicAligner(kwargs).align_pairs(pairs), lookahead_argmin_paths(pairs, kwargs)):
        np.testing.assert_array_equal(ours, theirs)


def test_narrow_corridor_follows_the_corridor_optimum():
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(size=(400, 1)), axis=0)
    y = x[np.sort(rng.integers(0, 400, 300))]
    aligner = HeuristicAligner({"lookahead": corridor_lookahead(1)})
    path = aligner.align_pairs([(x, y)])[0]
    import envs.core

    core = envs.core.WarpingBatch(lookahead=corridor_lookahead(1))
    core.reset([(x, y)])
    assert path_cost(x, y, path) == pytest.approx(core.corridor(0).value(0, 0), rel=1e-12)
    assert path_cost(x, y, path) >= dtw(x, y) - 1e-9


def test_registered_like_and_selected():
    policy = PolicyAligner.pretrained()
    heuristic = HeuristicAligner.like(policy)
    assert heuristic.core_kwargs == policy.core_kwargs and heuristic.rule == {"lookahead[0]": 1.0}
    rebuilt = aligner_from_config(aligner_to_config(heuristic))
    assert isinstance(rebuilt, HeuristicAligner) and rebuilt.rule == heuristic.rule
    assert isinstance(get_aligner(aligner_to_config(heuristic)), HeuristicAligner)
    x = np.sin(np.linspace(0, 5, 30))[None, :, None]
    assert len(heuristic(x, x[:, ::3])) == 1
    pairs = _pairs(2, [(25, 20, 1), (18, 30, 1)])
    best, scores = HeuristicAligner.select(pairs, {"lookahead": ((2, 4),), "window": 3})
    assert [s for _, s in scores] == sorted(s for _, s in scores) and best.rule == scores[0][0]
    assert len(scores) == len(candidate_rules(["lookahead[0]", "window"]))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lookahead": corridor_lookahead(2)},
        {"lookahead": corridor_lookahead(0), "metric": "abs", "window": 3},
        {"lookahead": corridor_lookahead(3), "band": 40},
    ],
)
def test_the_default_rule_on_the_corridor_takes_the_rollouts_path_without_one(kwargs):
    """``_align`` skips the rollout for the argmin of the corridor's values (CorridorBatch.argmin_paths): the paths
    must be the compiled rollout's, bitwise, on pooled and unpooled, uni- and multivariate, 1-long and banded pairs."""
    rng = np.random.default_rng(4)
    shapes = [(300, 260, 1), (700, 650, 2), (1, 9, 1), (9, 1, 1), (140, 150, 1), (520, 500, 3)]
    pairs = [(np.cumsum(rng.normal(size=(n, d)), 0), np.cumsum(rng.normal(size=(m, d)), 0)) for n, m, d in shapes]
    pairs += [
        (rng.integers(0, 2, size=(n, 1)).astype(float), rng.integers(0, 2, size=(n + 7, 1)).astype(float))
        for n in (90, 400)
    ]  # ties
    if kwargs.get("band"):
        pairs = [(x, y) for x, y in pairs if abs(len(x) - len(y)) <= 40]
    aligner = HeuristicAligner(kwargs)
    assert aligner._argmin_of_values
    for (x, y), fast, rolled in zip(pairs, aligner.align_pairs(pairs), aligner._rollout(pairs)):
        np.testing.assert_array_equal(fast, rolled)
        check_path(fast, len(x), len(y))
    weighted = HeuristicAligner(kwargs, rule={"lookahead[0]": 1.0, "lookahead[1]": 0.5})  # another rule: a rollout
    assert not weighted._argmin_of_values


def test_like_reads_the_policys_observation_on_each_pair():
    """Like the policy, the heuristic reads the corridor observation past ``long_cells`` and its own below."""
    policy = PolicyAligner.pretrained(long_cells=300)
    heuristic = HeuristicAligner.like(policy)
    pairs = _pairs(3, [(60, 50, 1), (10, 12, 1), (25, 20, 1)])  # 3000 cells (long), 120 (short), 500 (long)
    long, short = HeuristicAligner(policy.long_kwargs), HeuristicAligner(policy.core_kwargs)
    for (x, y), path in zip(pairs, heuristic.align_pairs(pairs)):
        expected = (long if len(x) * len(y) > 300 else short).align_pairs([(x, y)])[0]
        np.testing.assert_array_equal(path, expected)
    assert not np.array_equal(long.align_pairs(pairs[:1])[0], short.align_pairs(pairs[:1])[0])  # they differ here
    rebuilt = aligner_from_config(aligner_to_config(heuristic))
    assert (rebuilt.long_kwargs, rebuilt.long_cells) == (policy.long_kwargs, 300)
    for ours, theirs in zip(rebuilt.align_pairs(pairs), heuristic.align_pairs(pairs)):
        np.testing.assert_array_equal(ours, theirs)
    no_route = PolicyAligner.pretrained(long_cells=None)
    assert HeuristicAligner.like(no_route).long_kwargs is None  # every pair on the policy's own observation
    with pytest.raises(ValueError, match="long_cells"):
        HeuristicAligner({}, long_kwargs={"lookahead": corridor_lookahead(2)}, long_cells=-1)
    everywhere = HeuristicAligner.like(PolicyAligner.pretrained())  # long_cells 0: every pair on the corridor
    np.testing.assert_array_equal(everywhere.align_pairs(pairs[:1])[0], long.align_pairs(pairs[:1])[0])


def test_bad_rules_name_the_problem():
    with pytest.raises(ValueError, match="unknown features"):
        HeuristicAligner({"lookahead": ()}, rule={"lookahead[0]": 1.0})
    with pytest.raises(ValueError, match="weight"):
        HeuristicAligner({}, rule={"window": float("nan")})
    with pytest.raises(TypeError, match="core_kwargs"):
        HeuristicAligner([1])
    # select had nothing to score: NaN scores and a RuntimeWarning, or an IndexError deep inside
    with pytest.raises(ValueError, match="pairs must hold at least one"):
        HeuristicAligner.select([], {})
    with pytest.raises(ValueError, match="rules must be None .* or a non-empty list"):
        HeuristicAligner.select([(np.zeros(3), np.ones(4))], {}, rules=[])


def test_a_pair_that_is_not_two_series_is_named():
    """``align_pairs([array])`` said "too many values to unpack (expected 2)"."""
    from agents import PolicyAligner

    for aligner in (HeuristicAligner(), PolicyAligner.pretrained()):
        with pytest.raises(ValueError, match=r"pairs\[1\] must be an \(x, y\) pair of series; got ndarray"):
            aligner.align_pairs([(np.zeros(3), np.ones(4)), np.zeros(3)])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lookahead": corridor_lookahead(2), "window": 3},
        {"lookahead": corridor_lookahead(1), "window": 5, "band": 4},
        {"lookahead": ((2, 4),), "window": 3},
        {"lookahead": ((2, 4), (1, 1)), "window": 3, "band": 4},
    ],
)
def test_rollout_without_the_window_takes_the_same_paths(kwargs):
    """``run_policy(window=False)`` (the rules that ignore the window) walks exactly the paths of a full rollout."""
    from agents.policy.heuristic_aligner import _njit_rule_policy
    from agents.policy.rollouts import make_core

    pairs = _pairs(3, [(30, 22, 1), (17, 40, 2), (12, 12, 1)]) + [(np.zeros((15, 1)), np.zeros((11, 1)))]  # ties
    params = HeuristicAligner(kwargs)._params
    walked = []
    for window in (True, False):
        core = make_core(kwargs)
        core.reset(pairs)
        core.run_policy(_njit_rule_policy, params, window=window)
        walked.append((core.paths(), core.path_costs.copy()))
    for ours, theirs in zip(*(paths for paths, _ in walked)):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(walked[0][1], walked[1][1])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lookahead": corridor_lookahead(2), "window": 3},
        {"lookahead": corridor_lookahead(1), "window": 5, "band": 6, "metric": "abs"},
        {"lookahead": ((2, 4), (1, 1)), "window": 3},
    ],
)
def test_the_compiled_rollout_walks_the_paths_of_python_steps(kwargs):
    """``run_policy`` of the default rule (compiled loop; ``_nrt=False`` for the corridor) against ``step`` called
    from Python with the rule's argmin computed in NumPy: the lowest ``lookahead[0]`` among legal moves, ties broken
    by the next rows in order, then by the move's index."""
    from agents.policy.heuristic_aligner import _njit_rule_policy
    from agents.policy.rollouts import make_core

    shapes = [(30, 22, 1), (17, 40, 2), (12, 12, 1), (1, 7, 1), (9, 1, 1)]
    pairs = _pairs(5, shapes) + [(np.zeros((15, 1)), np.zeros((11, 1)))]  # lengths 1 and ties
    if kwargs.get("band") is not None:  # a band needs |n - m| <= band
        pairs = [(x, y) for x, y in pairs if abs(len(x) - len(y)) <= kwargs["band"]]
    compiled = make_core(kwargs)
    compiled.reset(pairs)
    compiled.run_policy(_njit_rule_policy, HeuristicAligner(kwargs)._params, window=False)
    stepped = make_core(kwargs)
    stepped.reset(pairs)
    while not stepped.done.all():
        obs = stepped.observation()
        look, mask = obs["lookahead"], obs["action_mask"]
        actions = []
        for r in range(len(look)):
            legal = [a for a in range(3) if mask[r, a]] or [0]
            actions.append(min(legal, key=lambda a: (*look[r, :, a], a)))
        stepped.step(np.where(stepped.done, 0, actions))
    for ours, theirs in zip(compiled.paths(), stepped.paths()):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(compiled.path_costs, stepped.path_costs)


def test_long_pairs_are_rolled_out_one_at_a_time_so_memory_does_not_grow_with_the_batch():
    """On the corridor observation, 6 pairs peak above 1 by little more than the 5 more paths they return (each
    pair's corridor is dropped after its path; 6 corridors held at once would add 5 times one's values)."""
    import tracemalloc

    rng = np.random.default_rng(3)
    t = np.linspace(0, 30, 3000)
    pairs = [(np.sin(t + rng.normal())[:, None], np.sin(1.05 * t + rng.normal())[:, None]) for _ in range(6)]
    aligner = HeuristicAligner({"lookahead": corridor_lookahead(8)})
    aligner.align_pairs(pairs[:1])  # compiled outside the measurement
    peaks = []
    for some in (pairs[:1], pairs):
        tracemalloc.start()
        paths = aligner.align_pairs(some)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    returned = sum(16 * (len(x) + len(y) - 1) for x, y in pairs[1:])  # the paths' buffers: (n + m - 1, 2) int64
    assert peaks[1] - peaks[0] < 3 * returned, (peaks, returned)
    for ours, alone in zip(paths, [aligner.align_pairs([pair])[0] for pair in pairs]):
        np.testing.assert_array_equal(ours, alone)
