"""Train a forecaster on the returns of an RL alignment policy, and compare it with DTW, FastDTW, soft-DTW and MSE.

Each round has two phases, on one step axis (the model's optimizer steps):

1. The model forecasts a batch of training inputs. The pairs (target, forecast)
   become the aligner's training pairs (``AlignerTrainer.set_pairs`` with
   ``dtwrl.datasets.ArrayPairs``) and PPO fine-tunes the policy on them for
   ``--aligner-iterations`` iterations. The policy starts from ``--aligner`` (a
   run folder of ``experiments/train_aligner.py``) or, without one, from a policy
   trained here first (behavioural-cloning warm start, then PPO).
2. The model trains for ``--model-steps`` steps with ``PathLoss(PolicyAligner)``:
   the local costs summed along the policy's greedy paths, i.e. minus the
   episode return, differentiated along the path.

The same model (same initial weights) is also trained for the same number of
steps with the exact-DTW path loss, the FastDTW path loss, soft-DTW and MSE.
Run::

    python experiments/rl_forecast.py --dataset GunPoint --seeds 0 1 2
    tensorboard --logdir results/rl_forecast

Writes ``results/rl_forecast/<run-name>/``: ``config.json``, ``metrics.csv`` (one
row per method and seed), ``table.md`` (mean ± std over seeds, best in bold),
``figures/forecasts.png``, ``checkpoints/`` (final weights), ``aligner/`` (the
pretrained and fine-tuned policies) and ``tb/<method>__<seed>/`` with
``losses/train``, ``losses/val``, ``eval/test_{mse,dtw,soft_dtw,tdi}`` and, for
the policy, ``charts/aligner_return`` and ``charts/aligner_cost_ratio_vs_dtw``
on the model's own forecasts.
"""
import dataclasses
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from experiments.common import (
    field, make_run_dir, parse_args, run_name, tensorboard_command, write_config)
from experiments.forecast import check_positive, dataset_label, load_task

METRICS = ("mse", "dtw", "soft_dtw", "tdi")
BASELINES = ("dtw_path", "fastdtw_path", "soft_dtw", "mse")
POLICY = "policy_path"


@dataclasses.dataclass
class Args:
    dataset: str = field("GunPoint", "GunPoint, synthetic_steps, a UCR/UEA folder, or its *_TRAIN.ts/.tsv file")
    model: str = field("mlp", "forecaster: mlp, gru or cnn")
    hidden_units: int = field(256, "hidden width of the mlp/cnn, state size of the gru")
    seeds: tuple[int, ...] = field((0,), "seeds, one comparison per seed")
    baselines: tuple[str, ...] = field(BASELINES, "losses trained beside the policy path loss (get_loss names)")
    gamma: float = field(1.0, "soft-DTW gamma of the soft_dtw baseline and of the soft-DTW test metric")
    rounds: int = field(30, "rounds of (aligner fine-tuning, model training)")
    model_steps: int = field(20, "model optimizer steps per round (every method)")
    batch_size: int = field(32, "series per model step")
    learning_rate: float = field(1e-3, "Adam step size of the model")
    validation_split: float = field(0.2, "share of the train split held out for losses/val")
    pairs_per_round: int = field(64, "training inputs whose forecasts become the aligner's pairs each round")
    aligner: str | None = field(None, "pretrained aligner run folder (train_aligner.py); none: train one here")
    aligner_env: str = field("dtwrl/SyntheticWarp-v0", "env the aligner is pretrained on when --aligner is none")
    pretrain_env_steps: int = field(65_536, "PPO env steps of the pretraining (after the BC warm start)")
    bc_env_steps: int = field(100_000, "behavioural-cloning states of the pretraining warm start")
    aligner_iterations: int = field(2, "PPO iterations per round on the model's forecasts (0: frozen policy)")
    aligner_num_envs: int = field(32, "alignments stepped together by PPO (pretraining and fine-tuning)")
    aligner_collect_steps: int = field(64, "steps per env per PPO iteration (pretraining and fine-tuning)")
    critic_warmup_iterations: int = field(2, "first fine-tuning iterations that train only the critic")
    input_fraction: float = field(0.6, "share of each series used as input")
    synthetic_series: int = field(500, "series per split of the synthetic_steps task")
    max_train: int = field(0, "use at most this many train series (0: all)")
    max_test: int = field(0, "score at most this many test series (0: all)")
    num_plot: int = field(3, "test series drawn in the forecast figure")
    exp_name: str = field("rl_forecast", "experiment name, the folder under out-dir")
    out_dir: str = field("results", "root folder of the run outputs")
    progress: bool = field(True, "show tqdm bars (--no-progress to hide)")


def check_args(args):
    from dtwrl.losses import get_loss
    from dtwrl.forecasting.models import FORECASTERS

    if args.model not in FORECASTERS:
        raise ValueError(f"--model must be one of {sorted(FORECASTERS)}, got {args.model!r}")
    if not args.seeds or len(set(args.seeds)) != len(args.seeds):
        raise ValueError(f"--seeds must be distinct and at least one, got {args.seeds}")
    for name in args.baselines:
        if name == POLICY:
            raise ValueError("--baselines: policy_path is always trained; list only the other losses")
        try:
            get_loss(name, **({"gamma": args.gamma} if name == "soft_dtw" else {}))
        except ValueError as err:
            raise ValueError(f"--baselines: {err}") from None
    if not args.gamma > 0:
        raise ValueError(f"--gamma must be > 0, got {args.gamma}")
    if args.aligner is not None and not (Path(args.aligner) / "config.json").is_file():
        raise ValueError(f"--aligner: {args.aligner!r} is not an aligner run folder (no config.json)")
    check_positive(args, ("hidden_units", "rounds", "model_steps", "batch_size", "pairs_per_round",
                          "pretrain_env_steps", "bc_env_steps", "aligner_num_envs", "num_plot", "synthetic_series"),
                   ("aligner_iterations", "critic_warmup_iterations", "max_train", "max_test"))
    if args.aligner_collect_steps < 2:
        raise ValueError(f"--aligner-collect-steps must be >= 2, got {args.aligner_collect_steps}")
    if not 0.0 < args.validation_split < 1.0:
        raise ValueError(f"--validation-split must be in (0, 1), got {args.validation_split}")


def pretrain_aligner(out_dir, env_id, env_steps, bc_env_steps, seed, num_envs=32, collect_steps=64, eval_pairs=16):
    """Train a policy (BC warm start, then PPO) into ``<out_dir>/pretrained``; returns (run folder, metrics)."""
    from agents import AlignerConfig, train_aligner

    config = AlignerConfig(env_id=env_id, seed=seed, total_env_steps=env_steps, bc_warmstart=True,
                           bc_env_steps=bc_env_steps, num_envs=num_envs, collect_steps=collect_steps,
                           eval_pairs=eval_pairs, out_dir=str(out_dir), run_name="pretrained", exp_name="pretrained")
    return train_aligner(config)


def policy_cost_ratio(aligner, y_true, y_pred):
    """Mean path cost of ``aligner`` on the pairs and its mean ratio to exact DTW (pairs with DTW = 0 count as 1)."""
    import dtwrl

    paths = aligner(y_true, y_pred)
    costs = np.array([dtwrl.path_cost(a, b, p) for a, b, p in zip(y_true, y_pred, paths)])
    exact = np.array([dtwrl.dtw(a, b) for a, b in zip(y_true, y_pred)])
    ratio = np.where(exact > 0, costs / np.maximum(exact, 1e-300), np.where(costs > 0, np.inf, 1.0))
    return float(costs.mean()), float(ratio.mean())


class Comparison:
    """Trains one model per method for the same rounds and steps, logging on a shared step axis.

    Parameters
    ----------
    task : ((X_train, Y_train), (X_val, Y_val), (X_test, Y_test))
        Arrays ``(N, n, d)``.
    args : Args
        Model, budget and optimisation settings.
    run_dir : pathlib.Path
        The run folder (``tb/``, ``checkpoints/``, ``aligner/`` go there).
    """

    def __init__(self, task, args, run_dir):
        self.task, self.args, self.run_dir = task, args, Path(run_dir)

    def build_model(self, seed):
        import tensorflow as tf

        from dtwrl.forecasting.models import build_forecaster

        (X, Y), _, _ = self.task
        tf.keras.utils.set_random_seed(seed)  # the one place seeds are set: weights, batches, pairs
        key = "units" if self.args.model == "gru" else "hidden_units"
        return build_forecaster(self.args.model, X.shape[1], Y.shape[1], X.shape[2], **{key: self.args.hidden_units})

    def _evaluate(self, trainer, writer, rows_by_step):
        import tensorflow as tf

        from dtwrl.forecasting.metrics import evaluate_forecasts
        from dtwrl.forecasting.training import predict

        _, (X_val, Y_val), (X_test, Y_test) = self.task
        scores = evaluate_forecasts(Y_test, predict(trainer.model, X_test), gamma=self.args.gamma)
        val_loss = trainer.evaluate(X_val, Y_val)
        with writer.as_default(step=trainer.steps):
            tf.summary.scalar("losses/val", val_loss)
            for metric in METRICS:
                tf.summary.scalar(f"eval/test_{metric}", scores[metric])
        rows_by_step.append({"step": trainer.steps, "val_loss": val_loss, **scores})
        return scores

    def run(self, method, seed, aligner_trainer=None, on_round=None):
        """Train ``method`` (a baseline loss name, or ``"policy_path"`` with ``aligner_trainer``).

        Returns ``(row, model, curve)``: final test metrics and timings, the
        trained model, and the evaluation after every round.
        """
        import tensorflow as tf

        from dtwrl.datasets import ArrayPairs
        from dtwrl.losses import PathLoss
        from dtwrl.forecasting.training import ForecasterTrainer, predict

        args = self.args
        (X, Y), _, _ = self.task
        model = self.build_model(seed)
        rng = np.random.default_rng(seed)
        if method == POLICY:
            from agents import PolicyAligner

            aligner = PolicyAligner(aligner_trainer.agent.policy, core_kwargs=aligner_trainer.settings.core_kwargs,
                                    batch_size=max(args.batch_size, args.pairs_per_round))
            trainer = ForecasterTrainer(model, PathLoss(aligner), learning_rate=args.learning_rate)
        else:
            trainer = ForecasterTrainer(model, method, learning_rate=args.learning_rate,
                                        **({"gamma": args.gamma} if method == "soft_dtw" else {}))
        writer = tf.summary.create_file_writer(str(self.run_dir / "tb" / f"{method}__{seed}"))
        curve, step_seconds, aligner_seconds = [], [], 0.0
        self._evaluate(trainer, writer, curve)
        for round_index in range(args.rounds):
            if method == POLICY:
                start = time.perf_counter()
                idx = rng.choice(len(X), size=min(args.pairs_per_round, len(X)), replace=False)
                forecasts = predict(trainer.model, X[idx])
                if args.aligner_iterations:
                    aligner_trainer.set_pairs(ArrayPairs(list(zip(Y[idx], forecasts))))
                    aligner_trainer.train(num_iterations=args.aligner_iterations)
                cost, ratio = policy_cost_ratio(aligner, Y[idx], forecasts)
                aligner_seconds += time.perf_counter() - start
                with writer.as_default(step=trainer.steps):
                    tf.summary.scalar("charts/aligner_return", -cost)
                    tf.summary.scalar("charts/aligner_cost_ratio_vs_dtw", ratio)
                    tf.summary.scalar("charts/aligner_env_steps", aligner_trainer.env_steps)
            start = time.perf_counter()
            train_loss = trainer.run_steps(X, Y, args.model_steps, args.batch_size, rng)
            step_seconds.append((time.perf_counter() - start) / args.model_steps)
            with writer.as_default(step=trainer.steps):
                tf.summary.scalar("losses/train", train_loss)
                tf.summary.scalar("charts/seconds_per_model_step", step_seconds[-1])
            scores = self._evaluate(trainer, writer, curve)
            if on_round is not None:
                on_round(method, round_index, scores)
        writer.close()
        (self.run_dir / "checkpoints").mkdir(exist_ok=True)
        model.save_weights(str(self.run_dir / "checkpoints" / f"{method}__{seed}.weights.h5"))
        steps_per_epoch = math.ceil(len(X) / min(args.batch_size, len(X)))
        # the first round includes tracing; the median of the others is the steady-state speed
        per_step = float(np.median(step_seconds[1:] or step_seconds))
        row = {"method": method, "seed": seed, "steps": trainer.steps, **{m: curve[-1][m] for m in METRICS},
               "epoch_seconds": per_step * steps_per_epoch, "aligner_seconds": aligner_seconds,
               "policy_ratio_on_test": ""}
        if method == POLICY:
            X_test, Y_test = self.task[2]
            row["policy_ratio_on_test"] = policy_cost_ratio(aligner, Y_test, predict(trainer.model, X_test))[1]
        return row, model, curve


def fine_tuner(args, pretrained_dir, seed, run_dir):
    """An ``agents.AlignerTrainer`` starting from ``pretrained_dir``, for fine-tuning on forecasts."""
    import json

    from agents import AlignerConfig, AlignerTrainer

    env_id = json.loads((Path(pretrained_dir) / "config.json").read_text())["env_id"]
    steps = max(1, args.rounds * args.aligner_iterations) * args.aligner_num_envs * args.aligner_collect_steps
    config = AlignerConfig(env_id=env_id, seed=seed, num_envs=args.aligner_num_envs,
                           collect_steps=args.aligner_collect_steps, total_env_steps=steps, bc_warmstart=False,
                           critic_warmup_iterations=args.critic_warmup_iterations, eval_pairs=16,
                           eval_interval=10_000, checkpoint_interval=10_000, init_from=str(pretrained_dir),
                           out_dir=str(Path(run_dir) / "aligner"), run_name=f"finetune__{seed}", exp_name="finetune")
    return AlignerTrainer(config)


def split_validation(train, fraction, seed):
    """Seeded random split of ``(X, Y)`` into training and validation parts."""
    X, Y = train
    order = np.random.default_rng(seed).permutation(len(X))
    n_val = max(1, int(round(fraction * len(X))))
    if n_val >= len(X):
        raise ValueError(f"--validation-split {fraction} leaves no training series out of {len(X)}")
    return (X[order[n_val:]], Y[order[n_val:]]), (X[order[:n_val]], Y[order[:n_val]])


def main(argv=None):
    args = parse_args(Args, argv, description=__doc__.split("\n\n")[0])
    try:
        check_args(args)
        train, test = load_task(args.dataset, args.input_fraction, args.synthetic_series, args.max_train, args.max_test)
        train, val = split_validation(train, args.validation_split, args.seeds[0])
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    from tqdm.auto import tqdm

    from dtwrl.forecasting.training import predict
    from dtwrl.runs import atomic_write_text, write_csv
    from experiments.reporting import plot_forecasts, summarize, summary_table

    name = dataset_label(args.dataset)
    run_dir = make_run_dir(args.exp_name, run_name(name, f"{args.exp_name}-{args.model}",
                                                   "-".join(map(str, args.seeds))), root=args.out_dir)
    write_config(run_dir, args)
    print(f"{run_dir.name}: train {train[0].shape} -> {train[1].shape}, test {test[0].shape} -> {test[1].shape}",
          flush=True)
    pretrained = args.aligner
    if pretrained is None:
        print(f"pretraining an aligner on {args.aligner_env} (BC {args.bc_env_steps:,} states, "
              f"PPO {args.pretrain_env_steps:,} env steps) ...", flush=True)
        pretrained, metrics = pretrain_aligner(run_dir / "aligner", args.aligner_env, args.pretrain_env_steps,
                                               args.bc_env_steps, args.seeds[0], num_envs=args.aligner_num_envs,
                                               collect_steps=args.aligner_collect_steps)
        print(f"  pretrained aligner: cost ratio vs exact DTW {metrics['cost_ratio_vs_dtw']:.4f} "
              f"(FastDTW r=1: {metrics['fastdtw_ratio_vs_dtw']:.4f})", flush=True)

    comparison = Comparison((train, val, test), args, run_dir)
    methods = (POLICY,) + tuple(args.baselines)
    rows, shown = [], {}
    bar = tqdm(total=len(methods) * len(args.seeds) * args.rounds, desc="rounds", disable=not args.progress,
               dynamic_ncols=True)

    def on_round(method, round_index, scores):
        bar.set_postfix(method=method, dtw=f"{scores['dtw']:.4g}")
        bar.update(1)

    for seed in args.seeds:
        for method in methods:
            aligner_trainer = fine_tuner(args, pretrained, seed, run_dir) if method == POLICY else None
            row, model, _ = comparison.run(method, seed, aligner_trainer, on_round)
            rows.append(row)
            if method not in shown:
                shown[method] = predict(model, test[0][:args.num_plot])
            tqdm.write(f"  {method:<13} seed {seed}: " + "  ".join(f"{m}={row[m]:.4g}" for m in METRICS)
                       + f"  ({row['epoch_seconds'] * 1e3:.0f} ms/epoch)")
    bar.close()

    columns = METRICS + ("epoch_seconds",)
    write_csv(run_dir / "metrics.csv", rows)
    if not all(np.isfinite(row[m]) for row in rows for m in METRICS):
        raise FloatingPointError(f"a test metric is not finite; see {run_dir / 'metrics.csv'}")
    summary = summarize(rows, "method", columns)
    table = summary_table(summary, "method", columns, labels={
        "mse": "MSE", "dtw": "DTW", "soft_dtw": f"soft-DTW (γ={args.gamma:g})", "tdi": "TDI",
        "epoch_seconds": "s / epoch"})
    means = {entry["method"]: entry for entry in summary}
    lines = [table, ""]
    if "dtw_path" in means:
        ratio = means[POLICY]["dtw"][0] / means["dtw_path"]["dtw"][0]
        lines.append(f"Policy-path DTW / exact-DTW-path DTW: {ratio:.3f}")
    if "soft_dtw" in means:
        lines.append(f"Policy-path epoch / soft-DTW epoch: "
                     f"{means[POLICY]['epoch_seconds'][0] / means['soft_dtw']['epoch_seconds'][0]:.2f}x")
    lines.append("Policy cost ratio vs exact DTW on the final test forecasts: "
                 + ", ".join(f"{r['policy_ratio_on_test']:.4f}" for r in rows if r["method"] == POLICY))
    command = "python experiments/rl_forecast.py " + " ".join(sys.argv[1:] if argv is None else argv)
    report = "\n".join(lines)
    atomic_write_text(run_dir / "table.md", 
        f"## {name}, {args.model} forecaster: policy-path loss against the other losses "
        f"({args.rounds} rounds x {args.model_steps} steps), mean ± std over seeds {list(args.seeds)}\n\n"
        f"Lower is better; best mean in bold. Produced by `{command}`.\n\n{report}\n")
    plot_forecasts(test[0], test[1], shown, run_dir / "figures" / "forecasts.png", num_series=args.num_plot,
                   title=f"{name}: {args.model} forecasts (seed {args.seeds[0]})")
    print(f"\n{report}\n\nwrote {run_dir}\nwatch: {tensorboard_command(run_dir / 'tb')}")
    return run_dir


if __name__ == "__main__":
    main()
