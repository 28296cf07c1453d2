"""TensorBoard summaries of the aligner trainer: one tag scheme, one step axis.

Every scalar except the ``bc/`` ones is logged against PPO env steps:

======================================  ==========================================================
tag                                     meaning
======================================  ==========================================================
``losses/total``                        PPO loss of the iteration
``losses/policy_gradient``              its clipped surrogate part
``losses/value_estimation``             its critic part
``losses/entropy_regularization``       its entropy part (only when ``entropy > 0``)
``losses/dagger_cross_entropy``         the DAgger anchor's cross-entropy (when it runs)
``Metrics/AverageReturn``               TF-Agents' name: mean return of the last ``num_envs``
                                        finished training episodes
``Metrics/AverageEpisodeLength``        TF-Agents' name: their mean length
``charts/train_cost_ratio``             mean cost ratio vs exact DTW of those episodes
``eval/cost_ratio_vs_dtw``              greedy policy on the fixed held-out set: mean ratio
``eval/cost_ratio_vs_dtw_p90``          its 90th percentile
``eval/cost_ratio_vs_fastdtw``          mean ratio vs FastDTW (r=1) on the same pairs
``eval/cost_ratio_vs_heuristic``        mean ratio vs ``HeuristicAligner`` on the same observation
                                        and pairs: below 1, the network adds to its features
``eval/frac_optimal``                   fraction of pairs at the optimum (once it is above 0)
``eval/best_cost_ratio_vs_dtw``         the best mean ratio so far (the actor ``keep_best`` saves)
``eval/alignment``                      image: eval pair 0 with the policy, FastDTW and exact paths
``perf/steps_per_second``               env steps per second of the iteration (collect + update)
``perf/collect_fraction``               share of the iteration spent collecting
``perf/end_to_end_steps_per_second``    env steps per second of the whole PPO loop so far (this
                                        ``train()`` call: evaluations, summaries, checkpoints included)
``bc/cross_entropy``                    behavioural cloning, per epoch; step axis: expert-labelled
``bc/accuracy``                         states trained on so far (BC runs before PPO step 0)
``config``                              text: the AlignerConfig as a table
======================================  ==========================================================

The run also writes an HParams session (the config's fields as hparams), so
runs compare in TensorBoard's HParams tab with their ``eval/`` ratios as
metrics. It declares no HParams experiment of its own: TensorBoard then infers
it from the sessions, and a logdir that holds aligner runs beside a study that
declares one (``experiments/rl_forecast.py``) keeps that study's declaration.
"""

from typing import Any

import tensorflow as tf

from .config import AlignerConfig


def config_markdown(config: AlignerConfig) -> str:
    """The config as a two-column markdown table."""
    rows = "\n".join(f"| {key} | `{value}` |" for key, value in config.to_dict().items())
    return "| field | value |\n|---|---|\n" + rows


def _hparam_value(value: Any) -> bool | int | float | str:
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


class TrainingSummaries:
    """Writes the trainer's TensorBoard events under ``logdir``.

    Parameters
    ----------
    logdir : str or os.PathLike
    config : AlignerConfig
        ``entropy`` decides whether ``losses/entropy_regularization`` is logged.
    """

    def __init__(self, logdir, config: AlignerConfig):
        self.writer = tf.summary.create_file_writer(str(logdir))
        self.log_entropy = config.entropy > 0
        self.optimal_seen = False  # eval/frac_optimal is logged once some eval pair was at the optimum

    def run_start(self, config: AlignerConfig) -> None:
        """The config as text and the HParams session (once per run, not on resume)."""
        from tensorboard.plugins.hparams import api as hp

        values = {
            key: _hparam_value(value) for key, value in config.to_dict().items() if key not in ("out_dir", "run_name")
        }
        with self.writer.as_default():
            tf.summary.text("config", config_markdown(config), step=0)
            hp.hparams(values, trial_id=config.run_name)

    def bc_epoch(self, states_trained: int, cross_entropy: float, accuracy: float) -> None:
        """One behavioural-cloning epoch, on the ``bc/`` axis (expert states trained on)."""
        with self.writer.as_default():
            tf.summary.scalar("bc/cross_entropy", cross_entropy, step=states_trained)
            tf.summary.scalar("bc/accuracy", accuracy, step=states_trained)

    def iteration(
        self,
        step: int,
        loss_info: Any,
        steps_per_second: float,
        collect_fraction: float,
        dagger_loss: float | None,
        episodes: tuple[float, float] | None,
        train_ratio: float | None,
    ) -> None:
        """The scalars of one PPO iteration at env step ``step``."""
        extra = loss_info.extra
        with self.writer.as_default():
            tf.summary.scalar("perf/steps_per_second", steps_per_second, step=step)
            tf.summary.scalar("perf/collect_fraction", collect_fraction, step=step)
            tf.summary.scalar("losses/total", loss_info.loss, step=step)
            tf.summary.scalar("losses/policy_gradient", extra.policy_gradient_loss, step=step)
            tf.summary.scalar("losses/value_estimation", extra.value_estimation_loss, step=step)
            if self.log_entropy:
                tf.summary.scalar("losses/entropy_regularization", extra.entropy_regularization_loss, step=step)
            if dagger_loss is not None:
                tf.summary.scalar("losses/dagger_cross_entropy", dagger_loss, step=step)
            if episodes is not None:
                tf.summary.scalar("Metrics/AverageReturn", episodes[0], step=step)
                tf.summary.scalar("Metrics/AverageEpisodeLength", episodes[1], step=step)
            if train_ratio is not None:
                tf.summary.scalar("charts/train_cost_ratio", train_ratio, step=step)

    def end_to_end(self, step: int, steps_per_second: float) -> None:
        """``perf/end_to_end_steps_per_second``: the PPO loop's env steps per second of wall time so far."""
        with self.writer.as_default():
            tf.summary.scalar("perf/end_to_end_steps_per_second", steps_per_second, step=step)

    def evaluation(self, step: int, metrics: dict, image: Any = None) -> None:
        """An evaluation of the greedy policy at env step ``step`` (``metrics`` from ``evaluate_policy``)."""
        self.optimal_seen = self.optimal_seen or metrics["frac_optimal"] > 0
        with self.writer.as_default():
            for key in (
                "cost_ratio_vs_dtw",
                "cost_ratio_vs_dtw_p90",
                "cost_ratio_vs_fastdtw",
                "cost_ratio_vs_heuristic",
                "best_cost_ratio_vs_dtw",
            ):
                tf.summary.scalar(f"eval/{key}", metrics[key], step=step)
            if self.optimal_seen:
                tf.summary.scalar("eval/frac_optimal", metrics["frac_optimal"], step=step)
            if image is not None:
                tf.summary.image("eval/alignment", image[None], step=step)

    def flush(self) -> None:
        self.writer.flush()
