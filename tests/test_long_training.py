"""Training on long pairs: the long recordings' train / test split, corridor labels, seeded reproducibility."""

import numpy as np
import pytest

from agents.training.imitation import corridor_labels, labelled_rollouts
from dtwrl.datasets import SyntheticPairs
from dtwrl.datasets.long_recordings import TRAIN_FRACTION, load_long_recordings, split_bounds
from envs.observation import corridor_lookahead

CORRIDOR_KWARGS = {"window": 7, "metric": "sqeuclidean", "band": None, "lookahead": corridor_lookahead(4)}


def _indexed_recordings(folder, lengths):
    """Recordings whose value is their sample index, so every value says where it came from."""
    folder.mkdir()
    for name, n in lengths.items():
        (folder / f"{name}.csv").write_text("".join(f"{i},{i}\n" for i in range(n)))
    return folder


@pytest.mark.parametrize("n", [2, 3, 10, 11_532])
def test_split_bounds_cut_every_recording_once_without_overlap(n):
    train, test = split_bounds(n, "train"), split_bounds(n, "test")
    assert train[0] == 0 and train[1] == test[0] and test[1] == n and split_bounds(n, "all") == (0, n)
    assert train[1] >= 1 and test[1] - test[0] >= 1
    if n >= 10:
        assert train[1] == int(TRAIN_FRACTION * n)
    with pytest.raises(ValueError, match="split"):
        split_bounds(n, "validation")
    with pytest.raises(ValueError, match="n must"):
        split_bounds(1, "train")


def test_benchmark_reads_only_the_test_split_and_the_corpus_only_the_train_split(tmp_path):
    """Every sample the long benchmark aligns comes from the test split, every one the corpus trains on from the
    train split: the recordings hold their own indices, so a value names its sample."""
    from experiments.long_benchmark import pair_sets

    lengths = {"ElectricDevices": 3_000, "ecg-a": 2_000, "ecg-b": 2_500}
    root = _indexed_recordings(tmp_path / "long", lengths)
    cut = {name: split_bounds(n, "train")[1] for name, n in lengths.items()}
    sets = pair_sets([1_000], 2, 1, tmp_path / "no-ucr", root, seed=0)
    generated = ("synthetic", "test", "random walks")  # drawn, not read from the recordings
    real = {name: pairs for name, pairs in sets.items() if not any(word in name for word in generated)}
    walks = sets["unrelated random walks n=1000"]
    assert len(walks) == 2 and all(x.shape == y.shape == (1_000, 1) and not np.allclose(x, y) for x, y in walks)
    assert sorted(real) == [
        "long recordings: different ECG recordings",
        "long recordings: halves",
        "tiled+warped ElectricDevices n=1000",
    ]
    for name, pairs in real.items():
        for x, y in pairs:
            for series in (x,) if name.startswith("tiled") else (x, y):  # the tiled set's y is a warped noisy copy
                assert series.min() >= min(cut.values()), name
    assert {len(x) + len(y) for x, y in sets["long recordings: halves"]} == {
        n - cut[name] for name, n in lengths.items()
    }
    train = load_long_recordings(root, "train")
    assert [len(s) for s in train.values()] == [cut[name] for name in sorted(lengths)]
    assert all(s.max() < cut[name] for name, s in train.items())


@pytest.mark.parametrize(
    "text, values",
    [
        ("0,1.5\n1,2.5\n2,0.5\n", [1.5, 2.5, 0.5]),  # index, value
        ("timestamp,value-0,is_anomaly\n0,1.0,0\n1,3.0,1\n", [1.0, 3.0]),  # header and a label column
        ("2020-01-01 00:00:00,4\n2020-01-01 00:01:00,5\n", [4.0, 5.0]),  # dates: the first column is not read
        ("7\n8\n\n# a comment\n9\n", [7.0, 8.0, 9.0]),  # one column: the values alone
        ("t,v\n0,nan\n1,2\n2,\n3,?\n4,8\n5,NA\n", [2.0, 2.0, 4.0, 6.0, 8.0, 8.0]),  # missing: interpolated
    ],
)
def test_a_recording_is_its_value_column_whatever_its_index(tmp_path, text, values):
    """Recordings others bring: ISO timestamps, one column, gaps. Before, a date in the index column or a lone
    value column was refused, and a gap was refused as non-finite."""
    from dtwrl.datasets.long_recordings import read_recording

    path = tmp_path / "r.csv"
    path.write_text(text)
    series = read_recording(path)
    assert series.shape == (len(values), 1) and series.dtype == np.float64 and series.ravel().tolist() == values


@pytest.mark.parametrize(
    "text, message",
    [
        ("0,1\n1,x\n", r"r.csv, line 2: the value 'x' is not a number"),
        ("t;v\n0;1\n1;2\n", r"line 2: the value '0;1' is not a number"),  # not comma-separated: said, by line
        ("0,1\n1,inf\n", r"line 2: the value must be finite"),
        ("t,v\n0,1\n", r"at least 2 samples; got 1"),
        ("0,nan\n1,\n", r"r.csv: every value is missing"),
    ],
)
def test_a_bad_recording_names_the_file_and_line(tmp_path, text, message):
    from dtwrl.datasets.long_recordings import read_recording

    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_recording(path)


def test_the_long_benchmark_pairs_different_recordings_of_one_kind_only(tmp_path):
    """Recordings named otherwise than the shared ones: those of one kind (leading letters) are paired, a lone
    one is not. Before, a folder without "ecg" recordings made an empty set, and the benchmark failed on it."""
    from experiments.long_benchmark import pair_sets

    root = _indexed_recordings(tmp_path / "long", {"power": 1_000, "chf01_a": 900, "chf13_b": 800, "chf44": 700})
    sets = pair_sets([100], 1, 1, tmp_path / "no-ucr", root, seed=0)
    real = {name: pairs for name, pairs in sets.items() if name.startswith("long recordings")}
    assert sorted(real) == ["long recordings: different CHF recordings", "long recordings: halves"]
    assert len(real["long recordings: halves"]) == 4 and len(real["long recordings: different CHF recordings"]) == 3
    assert all(len(pairs) > 0 for pairs in sets.values())


def test_the_corpus_long_families_read_the_train_split(ucr_root, tmp_path):
    from agents.training.pretraining import MixedCorpus, _znorm

    lengths = {"ecg-a": 2_000, "ecg-b": 2_500}
    root = _indexed_recordings(tmp_path / "long", lengths)
    corpus = MixedCorpus(ucr_root, max_length=3_000, long_root=root)
    assert {"long-real", "synthetic-longest", "unrelated-long"} <= set(corpus.families)
    rng = np.random.default_rng(0)
    for _ in range(6):  # both kinds: independent synthetic draws and crops of corpus.long (the train split)
        x, y = corpus.families["unrelated-long"][0](rng)
        assert all(1_200 <= len(s) <= 3_000 and abs(s.mean()) < 1e-9 and abs(s.std() - 1) < 1e-9 for s in (x, y))
    for series, n in zip(corpus.long, [lengths[name] for name in sorted(lengths)]):
        np.testing.assert_array_equal(series, _znorm(np.arange(split_bounds(n, "train")[1], dtype=float)[:, None]))
    assert "long-real" not in MixedCorpus(ucr_root, max_length=3_000, long_root=tmp_path / "none").families
    assert set(MixedCorpus(ucr_root).families) == {"synthetic", "synthetic-long", "warped-real", "real-pairs"}
    with pytest.raises(ValueError, match="max_length"):
        MixedCorpus(ucr_root, max_length=500)


def test_the_shared_recordings_split_into_disjoint_parts(ucr_root):
    long_root = ucr_root.parent / "long"
    if not long_root.is_dir():
        pytest.skip(f"no long recordings beside the UCR data ({long_root})")
    full = load_long_recordings(long_root, "all")
    train, test = load_long_recordings(long_root, "train"), load_long_recordings(long_root, "test")
    assert sorted(full) == sorted(train) == sorted(test) and len(full) == 4
    for name, series in full.items():
        np.testing.assert_array_equal(np.concatenate([train[name], test[name]]), series)


def test_corridor_labels_never_leave_the_corridor_and_keep_exact_moves_inside_it():
    rng = np.random.default_rng(0)
    pairs = [SyntheticPairs(n=(150, 300), m=(150, 300))(rng) for _ in range(4)]
    exact = labelled_rollouts(lambda: pairs, np.random.default_rng(1), CORRIDOR_KWARGS, 2_000, 0.3)
    data = labelled_rollouts(lambda: pairs, np.random.default_rng(1), CORRIDOR_KWARGS, 2_000, 0.3, expert="corridor")
    look, mask, labels = data["lookahead"], data["action_mask"].astype(bool), data["expert_action"]
    rows = np.arange(len(labels))
    can_stay = ((look[:, 1, :] == 0) & mask).any(axis=1)
    assert np.all(look[rows, 1, labels][can_stay] == 0)  # never a move out while one stays in
    assert np.all(mask[rows, labels])
    relabelled = corridor_labels(exact["expert_action"], exact["lookahead"], exact["action_mask"])
    inside = exact["lookahead"][rows, 1, exact["expert_action"]] == 0
    np.testing.assert_array_equal(relabelled[inside], exact["expert_action"][inside])
    assert (~inside).any()  # the exact path does leave the corridor on these pairs: the relabelling matters
    with pytest.raises(ValueError, match="expert"):
        labelled_rollouts(lambda: pairs, rng, CORRIDOR_KWARGS, 10, 0.0, expert="oracle")
    with pytest.raises(ValueError, match="corridor observation"):
        labelled_rollouts(lambda: pairs, rng, {"window": 7}, 10, 0.0, expert="corridor")


class _LongSyntheticCorpus:
    """A shrunk corpus: synthetic pairs of 200 to 600 samples (no shared data)."""

    families = {"synthetic-longest": None}

    def batch(self, rng, weights=None):
        return "synthetic-longest", [SyntheticPairs(n=(200, 600), m=(200, 600))(rng) for _ in range(2)]


def test_imitation_on_the_corridor_is_seeded_and_reproducible():
    from agents.policy.actor import NumpyActor
    from agents.training.pretraining import ImitationConfig, imitate

    config = ImitationConfig(
        seed=3, hidden=(16,), bc_env_steps=500, bc_epochs=1, dagger_rounds=1, dagger_states=300, expert="corridor"
    )
    kwargs = {**CORRIDOR_KWARGS, "reward_scale": "pair"}
    runs = [imitate(_LongSyntheticCorpus(), kwargs, config, log=lambda line: None) for _ in range(2)]
    weights = [NumpyActor.from_network(net) for net, _ in runs]
    for a, b in zip(weights[0].dense, weights[1].dense):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    assert [row["cross_entropy"] for row in runs[0][1]] == [row["cross_entropy"] for row in runs[1][1]]
    assert runs[0][1][-1]["states"] == 800
    data = [
        labelled_rollouts(
            lambda rng=rng: _LongSyntheticCorpus().batch(rng)[1], rng, CORRIDOR_KWARGS, 600, 0.2, expert="corridor"
        )
        for rng in (np.random.default_rng(5), np.random.default_rng(5))
    ]
    for key in data[0]:
        np.testing.assert_array_equal(data[0][key], data[1][key])
    with pytest.raises(ValueError, match="expert"):
        ImitationConfig(expert="oracle")


@pytest.mark.slow
def test_pretrain_script_with_max_length_is_reproducible(ucr_root, tmp_path):
    from experiments.pretrain_aligner import main

    long_root = _indexed_recordings(tmp_path / "long", {"ecg-a": 3_000, "ecg-b": 2_500})
    argv = [
        *("--data-root", str(ucr_root), "--long-root", str(long_root), "--lookahead", "0x4"),
        *("--max-length", "2000", "--expert", "corridor", "--hidden", "16", "--bc-steps", "1500"),
        *("--dagger-rounds", "0", "--epochs", "1", "--ppo-steps", "0", "--seed", "4"),
    ]
    files = [main([*argv, "--out", str(tmp_path / f"{k}.npz")]) for k in range(2)]
    with np.load(files[0]) as a, np.load(files[1]) as b:
        for key in a.files:
            if key != "meta":
                np.testing.assert_array_equal(a[key], b[key])
