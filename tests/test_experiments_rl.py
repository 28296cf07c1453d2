"""experiments/rl_forecast.py end to end on a shrunk config: the RL-returns loop against the other losses."""
import csv

import numpy as np
import pytest

from experiments import rl_forecast

TINY_ALIGNER = ["--aligner-num-envs", "4", "--aligner-collect-steps", "8", "--aligner-iterations", "1",
                "--critic-warmup-iterations", "0"]
TINY_MODEL = ["--rounds", "2", "--model-steps", "2", "--batch-size", "4", "--hidden-units", "8", "--max-train", "12",
              "--max-test", "6", "--pairs-per-round", "6", "--num-plot", "2", "--no-progress"]


def scalars(log_dir):
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"tensors": 0})
    acc.Reload()
    return {tag: [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
            for tag in acc.Tags()["tensors"]}


def test_rl_loop_pretrains_fine_tunes_and_compares(tmp_path):
    run_dir = rl_forecast.main(["--pretrain-env-steps", "32", "--bc-env-steps", "500", "--out-dir", str(tmp_path),
                                "--baselines", "dtw_path", "mse", *TINY_ALIGNER, *TINY_MODEL])
    assert (run_dir / "aligner" / "pretrained" / "policy" / "saved_model.pb").is_file()
    with open(run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    methods = ["policy_path", "dtw_path", "mse"]
    assert [r["method"] for r in rows] == methods
    assert all(r["steps"] == "4" for r in rows)  # 2 rounds x 2 steps for every method
    assert all(np.isfinite(float(r[m])) for r in rows for m in (*rl_forecast.METRICS, "epoch_seconds"))
    assert float(rows[0]["policy_ratio_on_test"]) >= 1.0 - 1e-9  # no path is cheaper than exact DTW

    table = (run_dir / "table.md").read_text()
    assert [line.split(" | ")[0][2:] for line in table.splitlines() if line.startswith("| ")][1:] == methods
    assert "Policy-path DTW / exact-DTW-path DTW" in table
    assert (run_dir / "figures" / "forecasts.png").is_file()
    assert len(list((run_dir / "checkpoints").glob("*.weights.h5"))) == 3

    policy = scalars(run_dir / "tb" / "policy_path__0")
    assert [s for s, _ in policy["eval/test_dtw"]] == [0, 2, 4]  # shared axis: model steps
    assert [s for s, _ in policy["losses/train"]] == [2, 4] and len(policy["losses/val"]) == 3
    assert [s for s, _ in policy["charts/aligner_return"]] == [0, 2]  # aligner phase before each model phase
    assert [v for _, v in policy["charts/aligner_env_steps"]] == [32, 64]  # 1 PPO iteration of 4 x 8 per round
    assert all(v >= 1.0 - 1e-9 for _, v in policy["charts/aligner_cost_ratio_vs_dtw"])
    assert all(v < 0 for _, v in policy["charts/aligner_return"])
    assert "charts/aligner_return" not in scalars(run_dir / "tb" / "dtw_path__0")


def test_policy_cost_ratio_is_one_for_exact_dtw():
    from dtwrl.aligners import ExactDTWAligner

    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(5, 9, 1)), rng.normal(size=(5, 9, 1))
    cost, ratio = rl_forecast.policy_cost_ratio(ExactDTWAligner(), y, p)
    assert ratio == pytest.approx(1.0) and cost > 0


@pytest.mark.parametrize("argv,message", [
    (["--baselines", "policy_path"], "policy_path is always trained"),
    (["--baselines", "mse", "l1"], "--baselines: name must be one of"),
    (["--aligner", "/no/such/run"], "--aligner: '/no/such/run' is not an aligner run folder"),
    (["--rounds", "0"], "--rounds must be >= 1"),
    (["--aligner-collect-steps", "1"], "--aligner-collect-steps must be >= 2"),
    (["--dataset", "/no/such/file_TRAIN.ts"], "--dataset: path"),
])
def test_bad_arguments(tmp_path, argv, message):
    with pytest.raises(SystemExit) as excinfo:
        rl_forecast.main([*argv, "--out-dir", str(tmp_path)])
    assert message in str(excinfo.value.code)
