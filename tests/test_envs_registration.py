"""envs.register_env: every kind of pair source, then make and make_vec; the README snippet."""

import pickle

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import dtwrl
import envs
from dtwrl.datasets import DatasetPairs, SyntheticPairs

# The README's "your own sequences" example, verbatim (run from the folder holding the file).
README_SNIPPET = """
import numpy as np, gymnasium as gym, envs

series = np.loadtxt("my_series.csv", delimiter=",")  # one series per row: (N, n)
# series = np.load("my_series.npy")                  # or an (N, n) / (N, n, d) array
envs.register_env("my/Sensors-v0", pairs=series, window=7, band=10)

env = gym.make("my/Sensors-v0")                      # one pair of distinct series per episode
venv = gym.make_vec("my/Sensors-v0", num_envs=256)   # the natively batched twin
obs, info = env.reset(seed=0)
"""


@pytest.fixture
def fresh_ids():
    """Ids registered by a test are removed afterwards."""
    before = set(gymnasium.registry)
    yield
    for env_id in set(gymnasium.registry) - before:
        del gymnasium.registry[env_id]
    gymnasium.registry.pop("my/Sensors-v0", None)


def _draw_pair(rng):
    """A module-level (picklable) pair source."""
    return rng.standard_normal(int(rng.integers(5, 9))), rng.standard_normal(7)


def _roll(env_id):
    env = gymnasium.make(env_id)
    obs, _ = env.reset(seed=0)
    terminated, steps = False, 0
    while not terminated:
        obs, _, terminated, _, info = env.step(int(np.argmax(obs["action_mask"])))
        steps += 1
    venv = gymnasium.make_vec(env_id, num_envs=3)
    assert isinstance(venv, envs.WarpingPathVectorEnv)
    venv.reset(seed=0)
    venv.step(np.zeros(3, dtype=np.int64))
    return info


def test_readme_snippet_runs_from_csv_and_npy(tmp_path, monkeypatch, fresh_ids):
    rng = np.random.default_rng(0)
    np.savetxt(tmp_path / "my_series.csv", rng.standard_normal((12, 40)), delimiter=",")
    np.save(tmp_path / "my_series.npy", rng.standard_normal((12, 40, 2)))
    monkeypatch.chdir(tmp_path)
    lines = [line for line in README_SNIPPET.strip().splitlines() if line]
    assert len(lines) < 10
    from_npy = README_SNIPPET.replace("series = np.loadtxt", "# ").replace("# series = np.load", "series = np.load")
    for snippet in (README_SNIPPET, from_npy):
        gymnasium.registry.pop("my/Sensors-v0", None)
        namespace = {}
        exec(compile(snippet, "README", "exec"), namespace)
        assert namespace["obs"]["window"].shape == (7, 7)
        assert namespace["venv"].num_envs == 256
        assert isinstance(namespace["env"].unwrapped, envs.WarpingPathEnv)
        _roll("my/Sensors-v0")
    assert namespace["series"].shape == (12, 40, 2)


@pytest.mark.parametrize(
    "make_pairs",
    [
        lambda tmp: SyntheticPairs(n=(10, 20)),  # a pair source
        lambda tmp: [(np.arange(5.0), np.arange(7.0)), (np.ones(6), np.zeros(4))],  # a list of (x, y)
        lambda tmp: np.random.default_rng(1).standard_normal((5, 12, 3)),  # arrays (N, n, d)
        lambda tmp: _draw_pair,  # any seedable callable
        lambda tmp: _write_tsv(tmp),  # a UCR/UEA file path
        lambda tmp: "GunPoint",  # a built-in dataset name
    ],
    ids=["source", "pair-list", "array", "callable", "tsv-file", "dataset-name"],
)
def test_register_env_accepts_every_kind_of_pairs(make_pairs, tmp_path, fresh_ids):
    spec = envs.register_env("test/Custom-v0", pairs=make_pairs(tmp_path), window=3)
    assert spec.kwargs["window"] == 3
    env = gymnasium.make("test/Custom-v0")
    check_env(env.unwrapped)
    info = _roll("test/Custom-v0")
    assert info["cost_ratio"] >= 1.0
    pickle.loads(pickle.dumps(spec.kwargs["pairs"]))  # AsyncVectorEnv and subprocesses need this


def _write_tsv(folder):
    rng = np.random.default_rng(2)
    rows = [f"{k % 2}\t" + "\t".join(f"{v:.6f}" for v in rng.standard_normal(15)) for k in range(6)]
    path = folder / "Mine_TRAIN.tsv"
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def test_make_kwargs_override_registered_defaults(fresh_ids):
    envs.register_env("test/Band-v0", pairs=SyntheticPairs(n=30), window=3, band=4)
    assert gymnasium.make("test/Band-v0").unwrapped.batch.band == 4
    assert gymnasium.make("test/Band-v0", band=None).unwrapped.batch.band is None
    assert gymnasium.make_vec("test/Band-v0", num_envs=2, window=5).batch.window == 5


def test_register_env_fails_early_on_bad_input(tmp_path, fresh_ids):
    with pytest.raises(TypeError, match="pairs must be a pair source"):
        envs.register_env("test/Bad-v0", pairs=42)
    with pytest.raises(ValueError, match="window must be an int >= 1"):
        envs.register_env("test/Bad-v0", pairs=SyntheticPairs(), window=0)
    with pytest.raises(ValueError, match="metric must be one of"):
        envs.register_env("test/Bad-v0", pairs=SyntheticPairs(), metric="cosine")
    with pytest.raises((ValueError, FileNotFoundError, OSError)):
        envs.register_env("test/Bad-v0", pairs=str(tmp_path / "missing_TRAIN.tsv"))
    assert "test/Bad-v0" not in gymnasium.registry


def test_register_env_refuses_a_band_too_narrow_for_a_pair_it_can_draw(fresh_ids):
    """It used to register and fail in the first episode (issue 21)."""
    long, short = np.linspace(0.0, 1.0, 10), np.linspace(0.0, 1.0, 3)
    with pytest.raises(ValueError, match=r"^band=0 is too narrow .* works is 2 \(lengths of pairs\[1\]\)$"):
        envs.register_env("test/Narrow-v0", pairs=[(long, long), (long, short)], band=0)
    with pytest.raises(ValueError, match=r"^band=1 is too narrow .* works is 2 \(lengths of two of its series\)$"):
        envs.register_env("test/Narrow-v0", pairs=[long, short, long], band=1)
    assert "test/Narrow-v0" not in gymnasium.registry
    # within classes only: the 10- and 3-step series are never paired, so band 0 fits every pair drawn
    same_class = DatasetPairs([long, long, short, short], labels=[0, 0, 1, 1], same_class=True)
    gymnasium.make(envs.register_env("test/Narrow-v0", pairs=same_class, band=0).id).reset(seed=0)
    gymnasium.make(envs.register_env("test/Wide-v0", pairs=[(long, short)], band=2).id).reset(seed=0)
    # min_band(n, m) <= |n - m|, the bound that lets registration skip most length pairs
    assert all(dtwrl.min_band(n, m) <= abs(n - m) for n in range(1, 40) for m in range(1, 40))
