"""The shipped pretrained aligner, actor files, compiled greedy rollouts and beam decoding."""

import json
import os

import numpy as np
import pytest

import dtwrl
from agents.policy.actor import NumpyActor, probe_observations
from agents.policy.aligner import PRETRAINED, PRETRAINED_LONG, PolicyAligner
from agents.policy.rollouts import greedy_paths, make_core, rollout_paths
from agents.training.pretraining import build_actor
from dtwrl.datasets import gunpoint_pairs
from envs.observation import feature_count, network_keys


def _gunpoint_test_pairs(count, seed=11):
    rng = np.random.default_rng(seed)
    source = gunpoint_pairs("test")
    return [source(rng) for _ in range(count)]


def _valid(path, n, m):
    steps = np.diff(path, axis=0)
    return (
        path[0].tolist() == [0, 0]
        and path[-1].tolist() == [n - 1, m - 1]
        and bool(np.all((steps >= 0) & (steps <= 1)))
        and bool(np.all(steps.sum(axis=1) >= 1))
    )


def _ratios(pairs, paths):
    out = []
    for (x, y), path in zip(pairs, paths):
        C = dtwrl.cost_matrix(x, y)
        out.append(C[path[:, 0], path[:, 1]].sum() / dtwrl.dtw(x, y))
    return np.array(out)


@pytest.fixture(scope="module")
def pretrained():
    return PolicyAligner.pretrained()


def test_pretrained_loads_with_the_observation_it_was_trained_on(pretrained):
    assert PRETRAINED.is_file() and PRETRAINED.stat().st_size < 200_000
    core = make_core(pretrained.core_kwargs)
    actor = pretrained.numpy_actor()
    assert actor.keys == network_keys(core.window, core.lookahead)
    assert actor.input_size == feature_count(core.window, core.lookahead)
    assert "command" in pretrained.info and pretrained.backend == "numpy"


def test_pretrained_aligns_unseen_gunpoint_test_pairs_near_the_optimum(pretrained):
    pairs = _gunpoint_test_pairs(12)
    paths = pretrained.align_pairs(pairs)
    assert all(_valid(p, len(x), len(y)) for p, (x, y) in zip(paths, pairs))
    ratios = _ratios(pairs, paths)
    # a policy that ignores its observation (always diagonal) scores far above; FastDTW r=1 about 1.05 here
    assert ratios.min() >= 1.0 - 1e-12 and ratios.mean() < 1.05
    diagonal = _ratios(
        pairs,
        [np.array([[min(t, len(x) - 1), min(t, len(y) - 1)] for t in range(max(len(x), len(y)))]) for x, y in pairs],
    )
    assert diagonal.mean() > 1.2


def test_compiled_greedy_equals_stepwise_rollouts():
    core_kwargs = {"window": 5, "lookahead": [[2, 6], [4, 3]]}
    actor = NumpyActor.from_network(build_actor(core_kwargs, (16, 8), seed=3))
    rng = np.random.default_rng(0)
    pairs = [
        (rng.standard_normal((int(rng.integers(2, 40)), 2)), rng.standard_normal((int(rng.integers(2, 40)), 2)))
        for _ in range(9)
    ]
    fast = greedy_paths(actor, pairs, core_kwargs)
    slow = rollout_paths(actor.act, pairs, core_kwargs)
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)


def test_actor_file_round_trip_and_assign(tmp_path):
    core_kwargs = {"window": 3, "lookahead": [[2, 4]]}
    net = build_actor(core_kwargs, (8,), seed=1)
    actor = NumpyActor.from_network(net)
    actor.save(tmp_path / "a.npz", core_kwargs, {"note": "test"})
    loaded, kwargs, info = NumpyActor.load(tmp_path / "a.npz")
    probes = probe_observations(3, ((2, 4),), count=64)
    np.testing.assert_array_equal(loaded.logits(probes), actor.logits(probes))
    assert kwargs == core_kwargs and info == {"note": "test"}
    other = build_actor(core_kwargs, (8,), seed=2)
    loaded.assign_to(other)
    np.testing.assert_allclose(NumpyActor.from_network(other).logits(probes), actor.logits(probes), rtol=1e-6)
    with pytest.raises(ValueError, match="layouts differ"):
        loaded.assign_to(build_actor(core_kwargs, (4,), seed=2))
    (tmp_path / "bad.npz").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="not an actor file"):
        NumpyActor.load(tmp_path / "bad.npz")
    aligner = PolicyAligner(str(tmp_path / "a.npz"))
    assert aligner.get_config()["policy"] == str(tmp_path / "a.npz")
    assert json.loads(json.dumps(aligner.get_config()))["core_kwargs"] == core_kwargs


def test_beam_paths_are_valid_and_exact_without_pruning(pretrained):
    pairs = _gunpoint_test_pairs(4, seed=5) + [(np.sin(np.linspace(0, 3, 17)), np.cos(np.linspace(0, 3, 23)))]
    beam = PolicyAligner.pretrained(decode="beam", beam_width=3)
    paths = beam.align_pairs(pairs)
    assert all(_valid(p, len(x), len(y)) for p, (x, y) in zip(paths, pairs))
    # every cell of an anti-diagonal kept and every move tried: merging makes it the exact DP
    rng = np.random.default_rng(2)
    small = [
        (rng.standard_normal((int(rng.integers(2, 20)), 2)), rng.standard_normal((int(rng.integers(2, 20)), 2)))
        for _ in range(6)
    ]
    exhaustive = PolicyAligner.pretrained(decode="beam", beam_width=40, min_prob=0.0)
    np.testing.assert_allclose(_ratios(small, exhaustive.align_pairs(small)), 1.0, rtol=1e-12)


def test_decode_arguments_are_checked():
    with pytest.raises(ValueError, match="decode"):
        PolicyAligner.pretrained(decode="sample")
    with pytest.raises(ValueError, match="beam_width"):
        PolicyAligner.pretrained(decode="beam", beam_width=0)
    with pytest.raises(ValueError, match="min_prob"):
        PolicyAligner.pretrained(min_prob=1.0)
    with pytest.raises(ValueError, match="does not exist"):
        PolicyAligner("/nonexistent/actor.npz")


def test_validation_ratios_score_the_shipped_actor_on_named_sets():
    """pretrain_aligner.py keeps the epoch with the best of these; exact DTW is the floor of every ratio."""
    from agents.training.pretraining import validation_ratios
    from dtwrl.datasets import SyntheticPairs

    ratios = validation_ratios(PRETRAINED, {"synthetic": SyntheticPairs(n=30)}, num_pairs=4, seed=0)
    assert list(ratios) == ["synthetic"] and 1.0 - 1e-12 <= ratios["synthetic"] < 1.5


def test_long_pairs_are_aligned_greedily_on_the_corridor_observation():
    from dtwrl.datasets import SyntheticPairs
    from envs.observation import corridor_lookahead

    rng = np.random.default_rng(3)
    long_pair, short_pair = SyntheticPairs(n=400, m=360)(rng), SyntheticPairs(n=40, m=50)(rng)
    routed = PolicyAligner.pretrained(long_cells=20_000)  # 400 x 360 cells are "long", 40 x 50 are not
    assert tuple(map(tuple, routed.long_kwargs["lookahead"])) == corridor_lookahead(16)  # saved with PRETRAINED_LONG
    assert routed.long_actor_file == PRETRAINED_LONG
    on_corridor = PolicyAligner(PRETRAINED_LONG, long_cells=None)  # the long-pair network, trained on the corridor
    own = PolicyAligner.pretrained(long_cells=None)
    paths = routed.align_pairs([long_pair, short_pair])
    np.testing.assert_array_equal(paths[0], on_corridor.align_pairs([long_pair])[0])
    np.testing.assert_array_equal(paths[1], own.align_pairs([short_pair])[0])
    assert dtwrl.path_cost(*long_pair, paths[0]) <= 1.02 * dtwrl.dtw(*long_pair)
    # other core_kwargs: the short-pair network itself reads the corridor for long pairs
    other = PolicyAligner.pretrained(core_kwargs={**own.core_kwargs, "window": 7, "band": None}, long_cells=20_000)
    assert other.long_actor_file == PRETRAINED_LONG  # the same settings as saved: still the shipped pair
    changed = PolicyAligner.pretrained(core_kwargs={**own.core_kwargs, "reward_scale": 2.0}, long_cells=20_000)
    assert changed.long_actor_file is None and changed.long_kwargs["reward_scale"] == 2.0
    same_net = PolicyAligner.pretrained(core_kwargs=changed.long_kwargs, long_cells=None)
    np.testing.assert_array_equal(changed.align_pairs([long_pair])[0], same_net.align_pairs([long_pair])[0])
    # beam search and sampling keep the policy's own observation; get_config round-trips the threshold
    assert PolicyAligner.pretrained(decode="beam").long_kwargs is None
    assert PolicyAligner.pretrained(samples=2).long_kwargs is None
    rebuilt = PolicyAligner.from_config(routed.get_config())
    assert rebuilt.long_cells == 20_000 and rebuilt.long_actor_file == PRETRAINED_LONG
    with pytest.raises(ValueError, match="long_cells"):
        PolicyAligner.pretrained(long_cells=-1)


def test_the_shipped_aligner_reads_every_pair_with_its_corridor_network(pretrained):
    """``pretrained()`` routes every greedy pair to the corridor network (``long_cells=0``), as does the loss that
    names it; ``PolicyAligner("pretrained")``, the network PPO fine-tunes, keeps its own observation below 2**20."""
    from dtwrl.losses import get_loss

    pairs = _gunpoint_test_pairs(12)
    on_corridor = PolicyAligner(PRETRAINED_LONG, long_cells=None)
    assert pretrained.long_cells == 0 and pretrained.long_actor_file == PRETRAINED_LONG
    for ours, theirs in zip(pretrained.align_pairs(pairs), on_corridor.align_pairs(pairs)):
        np.testing.assert_array_equal(ours, theirs)
    assert get_loss("policy_path").aligner.get_config() == pretrained.get_config()
    short = PolicyAligner("pretrained")
    assert short.long_cells == 2**20 and short.core_kwargs == pretrained.core_kwargs
    # on these unseen GunPoint pairs the corridor network is closer to the optimum than the short-pair network
    assert _ratios(pairs, pretrained.align_pairs(pairs)).mean() < _ratios(pairs, short.align_pairs(pairs)).mean()
    given = PolicyAligner.pretrained(core_kwargs=pretrained.core_kwargs)  # given core_kwargs: the usual threshold
    assert given.long_cells == 2**20


def test_the_policy_path_loss_takes_one_step_series_as_dtw_path_does():
    """Horizon 1: both series of each pair have length 1, which no env episode can hold (no move to make); the
    aligners return the one path [(0, 0)] without one (greedy and K samples), so the loss equals dtw_path's."""
    import tensorflow as tf

    from dtwrl.losses import get_loss

    y_true = np.array([[[1.0]], [[-2.0]]], dtype=np.float32)
    y_pred = tf.Variable([[[0.5]], [[1.0]]], dtype=tf.float32)
    for loss in (get_loss("policy_path"), get_loss("policy_path", aligner=PolicyAligner("pretrained", samples=2))):
        with tf.GradientTape() as tape:
            value = loss(y_true, y_pred)
        assert float(value) == pytest.approx(float(get_loss("dtw_path")(y_true, y_pred)))
        np.testing.assert_allclose(tf.convert_to_tensor(tape.gradient(value, y_pred)).numpy(), [[[-0.5]], [[3.0]]])


def test_pretrained_aligns_a_30000_step_pair_with_its_long_network_in_bounded_memory():
    """The long-pair network (corridor observation): a valid path that does not wander, memory O((n + m) r)."""
    from agents import HeuristicAligner
    from dtwrl.datasets import SyntheticPairs
    from envs.observation import is_corridor
    from experiments.long_benchmark import measure

    actor, kwargs, info = NumpyActor.load(PRETRAINED_LONG)
    assert is_corridor([tuple(row) for row in kwargs["lookahead"]]) and "--max-length" in info["command"]
    x, y = SyntheticPairs(n=19_000, m=19_000)(np.random.default_rng(0))
    aligner = PolicyAligner.pretrained()
    aligner.align_pairs([(x[:2000], y[:2000])])  # compile outside the measure
    path, _, peak_mb = measure(lambda: aligner.align_pairs([(x, y)])[0])
    assert _valid(path, len(x), len(y)) and len(path) >= 28_000  # a rollout of about 30,000 steps
    assert np.isnan(peak_mb) or peak_mb < 300  # the 19,000 x 19,000 cost matrix alone would take 2,900 MB
    # it follows the corridor's optimum (the heuristic's path) instead of wandering off it
    heuristic = HeuristicAligner.like(PolicyAligner(PRETRAINED_LONG)).align_pairs([(x, y)])[0]
    assert dtwrl.path_cost(x, y, path) <= 1.01 * dtwrl.path_cost(x, y, heuristic)


def test_a_fresh_process_aligns_its_first_pair_on_the_corridor(tmp_path):
    """With an empty numba cache, the first rollout of a process may be the corridor's: its loop is compiled without
    reference counts, and the policy it calls (which allocates its feature rows) must be compiled on its own first."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import numpy as np\n"
        "from agents import PolicyAligner\n"
        "x = np.sin(np.linspace(0, 6, 40))[:, None]\n"
        "print(PolicyAligner.pretrained().align_pairs([(x, x[::2])])[0][-1].tolist())\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[39, 19]"


@pytest.mark.parametrize(
    "shape_x, shape_y, scale, dtype",
    [
        ((1, 1), (7, 1), 1.0, np.float64),
        ((1, 2), (1, 2), 1.0, np.float64),  # one cell: no env episode, the path [(0, 0)] (was a ValueError)
        ((9, 2), (1, 2), 1.0, np.float64),
        ((2, 3), (2, 3), 1.0, np.float64),
        ((3, 2), (40, 2), 1e8, np.float64),
        ((30, 1), (25, 1), 1e-9, np.float64),
        ((30, 1), (25, 1), 1e-155, np.float64),  # subnormal costs: no "pair" reward factor, and none needed
        ((50, 1), (3, 1), 1.0, np.float32),
        ((120, 4), (97, 4), 1.0, np.float64),
        ((128, 1), (110, 1), "walk", np.float64),  # random walks: the short-pair network's route missed by 0.8%
    ],
)
def test_the_shipped_route_is_exact_on_pairs_its_corridor_covers(pretrained, shape_x, shape_y, scale, dtype):
    """Up to 128 samples the corridor's top level is the whole grid, so its value feature is the exact cost-to-go:
    ``HeuristicAligner.like`` the shipped aligner returns an optimal path, and the network follows it here
    (unequal lengths, length 1, multivariate, huge and tiny scales, float32, random walks)."""
    from agents import HeuristicAligner

    rng = np.random.default_rng(0 if scale == "walk" else sum(shape_x) + sum(shape_y))
    if scale == "walk":
        x, y = np.cumsum(rng.standard_normal(shape_x), axis=0), np.cumsum(rng.standard_normal(shape_y), axis=0)
    else:
        x = (scale * rng.standard_normal(shape_x)).astype(dtype)
        y = (scale * rng.standard_normal(shape_y)).astype(dtype)
    exact = dtwrl.dtw(x, y)
    for aligner in (HeuristicAligner.like(pretrained), pretrained):
        path = aligner.align_pairs([(x, y)])[0]
        assert _valid(path, len(x), len(y))
        assert dtwrl.path_cost(x, y, path) == pytest.approx(exact, rel=1e-9)
