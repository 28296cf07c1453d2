"""experiments/rl_forecast.py and agents.forecasting.rl_forecasting end to end on a shrunk config."""

import csv
import json
import math
import shlex

import numpy as np
import pytest

from agents.forecasting import policy_rounds, rl_forecasting
from experiments import rl_forecast
from tests.script_checks import refusals_test

TINY_ALIGNER = shlex.split(
    "--aligner-num-envs 4 --aligner-collect-steps 8 --aligner-iterations 1 --critic-warmup-iterations 0 --samples 3"
)
TINY_MODEL = shlex.split(
    "--rounds 2 --model-steps 2 --batch-size 4 --hidden-units 8 --max-train 12 --max-test 6"
    " --pairs-per-round 6 --num-plot 2 --no-progress"
)
METHODS = ["greedy_path", "sampled_path", "dtw_path", "soft_dtw"]


def scalars(log_dir):
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"tensors": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["tensors"]:
        values = [(e.step, tf.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
        out[tag] = [(step, float(v) if v.ndim == 0 and v.dtype.kind == "f" else v) for step, v in values]
    return out


def hparams_plugin_tags(log_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir))
    acc.Reload()
    return set(acc.PluginTagToContent("hparams"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rl")
    run_dir = rl_forecast.main(
        [
            "--aligner",
            "train",
            "--pretrain-env-steps",
            "32",
            "--bc-env-steps",
            "500",
            "--out-dir",
            str(out),
            "--methods",
            *METHODS,
            "--gammas",
            "1",
            "0.1",
            *TINY_ALIGNER,
            *TINY_MODEL,
        ]
    )
    with open(run_dir / "metrics.csv") as f:
        return run_dir, list(csv.DictReader(f))


def test_every_method_trains_the_same_steps_and_soft_dtw_keeps_its_best_validation_gamma(run):
    run_dir, rows = run
    assert (run_dir / "aligner" / "pretrained" / "policy" / "saved_model.pb").is_file()
    assert [(r["method"], r["gamma"]) for r in rows] == [
        ("mse", ""),  # the start of the others (--init mse, the default), though --methods does not name it
        ("greedy_path", ""),
        ("sampled_path", ""),
        ("dtw_path", ""),
        ("soft_dtw", "1.0"),
        ("soft_dtw", "0.1"),
    ]
    assert all(r["steps"] == "4" for r in rows)  # 2 rounds x 2 steps for every model
    assert all(math.isfinite(float(r[m])) for r in rows for m in (*rl_forecasting.METRICS, "val_dtw", "epoch_seconds"))
    soft = [r for r in rows if r["method"] == "soft_dtw"]
    best = min(soft, key=lambda r: float(r["val_dtw"]))
    assert [r["selected"] for r in soft] == [str(r is best) for r in soft]
    assert all(r["selected"] == "True" for r in rows if r["method"] != "soft_dtw")
    for r in rows[1:3]:  # no path is cheaper than exact DTW
        assert float(r["policy_ratio_on_test"]) >= 1.0 - 1e-9

    table = (run_dir / "table.md").read_text()
    assert [line.split(" | ")[0][2:] for line in table.splitlines() if line.startswith("| ")][1:] == ["mse", *METHODS]
    assert "mean test DTW, sampled_path / soft_dtw" in table and "mean test DTW, greedy_path / dtw_path" in table
    assert table.count("**Target ") == 1 and "sampled_path / soft_dtw = " in table
    assert "- sampled_path: K=3, t=1, mean" in table and "- dtw_path, seeds [0]: test DTW " in table
    assert f"soft-DTW γ kept per seed (lowest validation DTW among [1.0, 0.1]): {{0: {float(best['gamma'])}}}" in table
    assert (run_dir / "figures" / "forecasts.png").stat().st_size > 10_000
    assert len(list((run_dir / "checkpoints").glob("*.weights.h5"))) == 6
    assert json.loads((run_dir / "config.json").read_text())["methods"] == METHODS


def test_each_policy_method_fine_tunes_its_own_policy_with_figures(run):
    run_dir, _ = run
    for method in ("greedy_path", "sampled_path"):
        tuned = run_dir / "aligner" / f"finetune-{method}__0"
        assert (tuned / "policy" / "saved_model.pb").is_file()
        assert list((tuned / "figures").glob("*.png"))


def test_tensorboard_tags_hparams_and_config(run):
    run_dir, _ = run
    assert "_hparams_/experiment" in hparams_plugin_tags(run_dir / "tb")
    for trial in ("greedy_path__0", "sampled_path__0", "dtw_path__0", "soft_dtw_g1__0", "soft_dtw_g0.1__0"):
        tags = scalars(run_dir / "tb" / trial)
        method = trial.split("__")[0].split("_g")[0]
        assert [s for s, _ in tags["eval/test_dtw"]] == [0, 2, 4]  # shared axis: model steps
        assert [s for s, _ in tags[f"losses/{method}/train"]] == [2, 4]  # each loss on its own chart
        assert len(tags[f"losses/{method}/val"]) == 3 and len(tags["eval/val_dtw"]) == 1
        assert not any(tag.startswith("losses/") and method not in tag for tag in tags)
        assert "config" in {tag.split("/")[0] for tag in tags}
        assert "_hparams_/session_start_info" in hparams_plugin_tags(run_dir / "tb" / trial)
        policy = method in rl_forecasting.POLICY_METHODS
        assert ("charts/aligner_return" in tags) == policy
        if policy:
            assert [s for s, _ in tags["charts/aligner_return"]] == [0, 2]  # aligner phase before each model phase
            assert [v for _, v in tags["charts/aligner_env_steps"]] == [32, 64]  # 1 PPO iteration of 4 x 8
            assert all(v >= 1.0 - 1e-9 for _, v in tags["charts/aligner_cost_ratio_vs_dtw"])
            assert all(v < 0 for _, v in tags["charts/aligner_return"])


def test_a_frozen_policy_from_aligner_skips_fine_tuning(run, tmp_path):
    pretrained = run[0] / "aligner" / "pretrained"
    run_dir = rl_forecast.main(
        [
            "--aligner",
            str(pretrained),
            "--aligner-iterations",
            "0",
            "--methods",
            "sampled_path",
            "mse",
            "--out-dir",
            str(tmp_path),
            "--samples",
            "2",
            "--temperature",
            "0.5",
            *TINY_MODEL,
        ]
    )
    assert not (run_dir / "aligner").exists()
    tags = scalars(run_dir / "tb" / "sampled_path__0")
    assert "charts/aligner_return" in tags and "charts/aligner_env_steps" not in tags


def test_policy_cost_ratio_takes_the_mean_over_a_group_of_paths():
    from dtwrl.aligners import ExactDTWAligner

    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(5, 9, 1)), rng.normal(size=(5, 9, 1))
    cost, ratio = policy_rounds.policy_cost_ratio(ExactDTWAligner(), y, p)
    assert ratio == pytest.approx(1.0) and cost > 0
    diagonal = np.stack([np.arange(9)] * 2, axis=1)

    def exact_and_diagonal(a, b):
        return [[path, diagonal] for path in ExactDTWAligner()(a, b)]

    import dtwrl

    mixed, _ = policy_rounds.policy_cost_ratio(exact_and_diagonal, y, p)
    expected = np.mean([(dtwrl.dtw(a, b) + dtwrl.path_cost(a, b, diagonal)) / 2 for a, b in zip(y, p)])
    assert mixed == pytest.approx(expected)


test_bad_arguments_fail_in_one_line_before_any_folder = refusals_test(
    "experiments.rl_forecast",
    [
        ("--methods policy_path", "--methods: must be among greedy_path, sampled_path"),
        ("--methods mse mse", "--methods: must be distinct"),
        ("--gammas 0", "--gammas: must be finite and > 0; got 0.0"),
        ("--gammas nan", "--gammas: must be finite and > 0; got nan"),
        ("--seeds -1", "--seeds: must be distinct ints >= 0"),
        ("--seeds 1 1", "--seeds: must be distinct ints >= 0"),
        ("--samples 0", "--samples: must be >= 1; got 0"),
        ("--temperature 0", "--temperature: must be finite and > 0"),
        ("--final-temperature -1", "--final-temperature: must be finite and > 0"),
        ("--path-reduction max", "--path-reduction: must be one of mean, softmin, lattice; got 'max'"),
        ("--path-reduction softmin", "--path-gamma: is required by path_reduction 'softmin'"),
        ("--path-reduction softmin --path-gamma 0", "--path-gamma: must be finite and > 0"),
        ("--path-gamma 0.1", "--path-gamma: is not used by path_reduction 'mean'"),
        ("--lattice-every 2", "--lattice-every: applies to path_reduction 'lattice' only; got 'mean'"),
        (
            "--path-reduction lattice --path-gamma 0.1 --lattice-every 0",
            "--lattice-every: must be >= 1; got 0",
        ),
        ("--learning-rate nan", "--learning-rate: must be finite and > 0"),
        ("--model lstm", "--model: must be one of"),
        ("--aligner /no/such/run", "--aligner: '/no/such/run' is neither pretrained, train nor an aligner run folder"),
        (
            "--aligner train --aligner-env nope/Nothing-v0",
            "--aligner-env: 'nope/Nothing-v0' is not a registered env id",
        ),
        ("--methods mse --aligner-env nope/Nope-v0", "--aligner-env: 'nope/Nope-v0' is not a registered env id"),
        ("--rounds 0", "--rounds: must be >= 1; got 0"),
        ("--aligner-collect-steps 1", "--aligner-collect-steps: must be >= 2"),
        ("--validation-split 1.5", "--validation-split: must be in (0, 1)"),
        ("--validation-split nan", "--validation-split: must be in (0, 1)"),
        ("--max-train -1", "--max-train: must be >= 0"),
        ("--max-train 1", "--validation-split: validation_split 0.2 leaves no training series out of 1"),
        ("--dataset /no/such/file_TRAIN.ts", "--dataset: path '/no/such/file_TRAIN.ts' does not exist"),
    ],
)


def test_comparison_config_names_the_field():
    with pytest.raises(ValueError, match="aligner_iterations must be >= 0; got -1"):
        rl_forecasting.ComparisonConfig(aligner_iterations=-1)
    with pytest.raises(ValueError, match="hidden_units must be an int; got 2.5"):
        rl_forecasting.ComparisonConfig(hidden_units=2.5)
    with pytest.raises(ValueError, match="gammas must be distinct"):
        rl_forecasting.check_methods(["soft_dtw"], [1.0, 1.0])


def test_the_shipped_pretrained_policy_is_the_default_and_is_fine_tuned(tmp_path):
    run_dir = rl_forecast.main(["--methods", "sampled_path", "--out-dir", str(tmp_path), *TINY_ALIGNER, *TINY_MODEL])
    assert json.loads((run_dir / "config.json").read_text())["aligner"] == "pretrained"
    tuned = run_dir / "aligner" / "finetune-sampled_path__0"
    assert (tuned / "policy" / "saved_model.pb").is_file() and list((tuned / "figures").glob("*.png"))
    with open(run_dir / "metrics.csv") as f:
        (row,) = [r for r in csv.DictReader(f) if r["method"] != "mse"]
    assert float(row["policy_ratio_on_test"]) >= 1.0 - 1e-9


def test_softmin_of_sampled_and_greedy_paths_with_an_annealed_temperature(tmp_path):
    """The frozen shipped policy: K samples + the greedy path, reduced by their soft minimum, temperature 4 -> 1."""
    argv = ["--methods", "sampled_path", "--out-dir", str(tmp_path), "--aligner-iterations", "0", "--samples", "2"]
    argv += ["--path-reduction", "softmin", "--path-gamma", "0.1", "--include-greedy"]
    run_dir = rl_forecast.main([*argv, "--temperature", "4", "--final-temperature", "1", *TINY_MODEL])
    tags = scalars(run_dir / "tb" / "sampled_path__0")
    assert [v for _, v in tags["charts/sampling_temperature"]] == pytest.approx([4.0, 1.0])
    assert "- sampled_path: K=2 + greedy, t=4->1, softmin γ=0.1" in (run_dir / "table.md").read_text()
    with open(run_dir / "metrics.csv") as f:
        (row,) = [r for r in csv.DictReader(f) if r["method"] != "mse"]
    assert math.isfinite(float(row["dtw"])) and float(row["policy_ratio_on_test"]) >= 1.0 - 1e-9


def test_lattice_of_sampled_paths_reports_its_coverage(tmp_path):
    """path_reduction lattice trains end to end and the row says how much of the grid its samples cover."""
    argv = ["--methods", "sampled_path", "--out-dir", str(tmp_path), "--aligner-iterations", "0", "--samples", "3"]
    argv += ["--path-reduction", "lattice", "--path-gamma", "0.1", "--temperature", "8", "--lattice-radius", "1"]
    run_dir = rl_forecast.main([*argv, *TINY_MODEL])
    with open(run_dir / "metrics.csv") as f:
        (row,) = [r for r in csv.DictReader(f) if r["method"] != "mse"]
    assert math.isfinite(float(row["dtw"])) and 0.0 < float(row["lattice_coverage_on_test"]) <= 1.0
    table = (run_dir / "table.md").read_text()
    assert "- sampled_path: K=3, t=8, lattice γ=0.1, radius 1" in table and "lattice of a pair's sampled paths" in table


LATTICE = ["--methods", "sampled_path", "--aligner-iterations", "0", "--samples", "3", "--temperature", "8"]
LATTICE += ["--path-reduction", "lattice", "--path-gamma", "0.1", "--lattice-radius", "1"]


def _rows(run_dir):
    with open(run_dir / "metrics.csv") as f:
        return [r for r in csv.DictReader(f) if r["method"] != "mse"]


def test_lattice_every_1_trains_bitwise_as_without_the_flag(tmp_path):
    """--lattice-every 1 is today's loss: the same seeds give the same figures to the last digit."""
    today = _rows(rl_forecast.main([*LATTICE, *TINY_MODEL, "--out-dir", str(tmp_path / "a")]))
    every = _rows(rl_forecast.main([*LATTICE, *TINY_MODEL, "--lattice-every", "1", "--out-dir", str(tmp_path / "b")]))
    for metric in (*rl_forecasting.METRICS, "val_dtw", "lattice_coverage_on_test", "policy_ratio_on_test"):
        assert every[0][metric] == today[0][metric], metric


def test_lattice_every_k_reuses_the_samples_and_says_so(tmp_path, monkeypatch):
    """--lattice-every 3 trains end to end, sampling each training pair on about one step in 3."""
    from dtwrl.aligners import ReusedPaths

    wrappers = []
    original = ReusedPaths.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        wrappers.append(self)

    monkeypatch.setattr(ReusedPaths, "__init__", spy)
    argv = [*LATTICE, *TINY_MODEL, "--model-steps", "6", "--lattice-every", "3", "--out-dir", str(tmp_path)]
    run_dir = rl_forecast.main(argv)
    (row,) = _rows(run_dir)
    assert math.isfinite(float(row["dtw"])) and float(row["epoch_seconds_mean"]) > 0
    assert (
        "- sampled_path: K=3, t=8, lattice γ=0.1, radius 1, sampled every 3 steps" in (run_dir / "table.md").read_text()
    )
    (reused,) = wrappers
    # 12 training steps of 4 pairs and 3 validation calls of 2 pairs: 54 pairs asked; fresh ones only for stale pairs
    assert reused.every == 3 and reused.calls == 15 and 0 < reused.aligned < 54


def test_lattice_coverage_counts_the_row_hull_of_a_group_that_the_loss_runs_on():
    two_paths = [[np.array([[0, 0], [1, 1], [2, 2]]), np.array([[0, 0], [1, 0], [2, 1], [2, 2]])]]
    assert policy_rounds.lattice_coverage(two_paths, 3, 3) == pytest.approx(5 / 9)
    assert policy_rounds.lattice_coverage(two_paths, 3, 3, radius=1) == pytest.approx(1.0)
    # row 1: one path at column 0, the other at column 3; the hull holds the gap (10 cells, the union 8)
    apart = [[np.array([[0, 0], [1, 0], [2, 1], [2, 2], [2, 3]]), np.array([[0, 0], [0, 1], [0, 2], [1, 3], [2, 3]])]]
    assert policy_rounds.lattice_coverage(apart, 3, 4) == pytest.approx(10 / 12)
    # two pairs: the mean of their shares
    assert policy_rounds.lattice_coverage([*apart, two_paths[0][:1]], 3, 4) == pytest.approx((10 / 12 + 3 / 12) / 2)


def test_lattice_radius_needs_the_lattice_reduction():
    with pytest.raises(ValueError, match="lattice_radius applies to path_reduction 'lattice' only"):
        rl_forecasting.ComparisonConfig(lattice_radius=2)
    with pytest.raises(ValueError, match="lattice_radius must be >= 0"):
        rl_forecasting.ComparisonConfig(path_reduction="lattice", path_gamma=0.1, lattice_radius=-1)
    config = rl_forecasting.ComparisonConfig(
        samples=16, temperature=8, path_reduction="lattice", path_gamma=0.1, lattice_radius=3
    )
    assert config.sampling_label() == "K=16, t=8, lattice γ=0.1, radius 3"


def test_greedy_plus_samples_puts_the_greedy_path_first():
    from dtwrl.aligners import ExactDTWAligner

    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(3, 5, 1)), rng.normal(size=(3, 4, 1))
    diagonal_then_down = np.array([[0, 0], [1, 1], [2, 2], [3, 3], [4, 3]])

    def two_diagonals(a, b):
        return [[diagonal_then_down, diagonal_then_down] for _ in range(len(a))]

    groups = policy_rounds.GreedyPlusSamples(ExactDTWAligner(), two_diagonals)(y, p)
    exact = ExactDTWAligner()(y, p)
    assert [len(group) for group in groups] == [3, 3, 3]
    for group, best in zip(groups, exact):
        np.testing.assert_array_equal(group[0], best)
        np.testing.assert_array_equal(group[2], diagonal_then_down)


@pytest.mark.parametrize("init", ["mse", "random"])
def test_init_mse_starts_every_method_from_the_mse_model_of_its_seed(tmp_path, init):
    rng = np.random.default_rng(0)
    split = lambda n: (rng.normal(size=(n, 10, 1)), rng.normal(size=(n, 6, 1)))  # noqa: E731
    config = rl_forecasting.ComparisonConfig(hidden_units=4, rounds=1, model_steps=2, batch_size=4, init=init)
    comparison = rl_forecasting.Comparison((split(8), split(4), split(4)), config, tmp_path)
    rows, models = comparison.run_all(["soft_dtw"], [0], [1.0])
    assert [r["method"] for r in rows] == (["mse", "soft_dtw"] if init == "mse" else ["soft_dtw"])
    start = comparison.build_model(0).get_weights()
    if init == "mse":
        trained_mse = models["mse"].get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(start, trained_mse))
    else:
        assert comparison.starts == {}


def test_a_bad_init_names_its_flag(tmp_path, capsys):
    with pytest.raises(SystemExit):
        rl_forecast.main(["--init", "zeros", "--out-dir", str(tmp_path)])
    assert "--init: must be one of mse, random; got 'zeros'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
