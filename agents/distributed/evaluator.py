"""The evaluator: the published policy's greedy cost ratio vs exact DTW and FastDTW, while training runs.

Every ``eval_interval_s`` seconds it pulls the latest weights from the variable
table and, when they are new, aligns the run's fixed held-out set with the
greedy policy (the same set, seed and statistics as the trainer's own
evaluation, ``agents.training.policy_evaluation.evaluate_policy``). It logs the
trainer's ``eval/*`` tags (``agents.training.summaries.TrainingSummaries``) under
``<run>/tb/evaluator`` at the env step of those weights, appends a row to
``<run>/evaluator.json``, and stops after evaluating the weights the learner
publishes as ``finished``.
"""

import tensorflow as tf
from tf_agents.experimental.distributed import reverb_variable_container
from tf_agents.policies import greedy_policy

from dtwrl.runs import write_json

from ..evaluation import make_eval_set
from ..policy.tf_policy import time_step_from_observation
from ..training.environment import make_vector_py_env
from ..training.policy_evaluation import eval_alignment_image, evaluate_policy
from ..training.summaries import TrainingSummaries
from .specs import VARIABLE_TABLE, build_collect_policy, variable_values


def run_evaluator(config, settings, options, stop, run_dir):
    """Evaluate published policies until ``finished`` or ``stop``; returns the evaluation rows.

    Parameters
    ----------
    config, settings, options, stop
        As for :func:`agents.distributed.server.serve`; of ``options``, ``reverb_address``
        and ``eval_interval_s`` are used.
    run_dir : pathlib.Path
        Receives the TensorBoard summaries (``tb/evaluator``) and ``evaluator.json``.
    """
    import reverb

    py_env = make_vector_py_env(settings, num_envs=1, seed=0)
    policy, actor_net = build_collect_policy(config, py_env)
    py_env.close()
    greedy = greedy_policy.GreedyPolicy(policy)
    act = tf.function(lambda observation: greedy.action(time_step_from_observation(observation)).action)
    iteration, finished = tf.Variable(0, dtype=tf.int64), tf.Variable(False)
    variables = variable_values(actor_net, iteration, finished)
    client = reverb.Client(options.reverb_address)
    container = reverb_variable_container.ReverbVariableContainer(options.reverb_address, table_names=[VARIABLE_TABLE])
    eval_set = make_eval_set(settings, config.eval_pairs, config.eval_seed)
    summaries = TrainingSummaries(run_dir / "tb" / "evaluator", config)
    rows, last, best = [], None, float("inf")
    while True:
        if client.server_info(timeout=30)[VARIABLE_TABLE].current_size:
            container.update(variables)
            if int(iteration.numpy()) != last:
                last = int(iteration.numpy())
                metrics, paths = evaluate_policy(lambda obs: act(obs).numpy(), eval_set, settings.core_kwargs)
                best = min(best, metrics["cost_ratio_vs_dtw"])
                env_steps = last * config.steps_per_iteration
                rows.append({"iteration": last, "env_steps": env_steps, **metrics})
                summaries.evaluation(
                    env_steps, {**metrics, "best_cost_ratio_vs_dtw": best}, eval_alignment_image(eval_set, paths)
                )
                summaries.flush()
                write_json(run_dir / "evaluator.json", {"history": rows})
                print(
                    f"evaluator: iteration {last}, cost ratio vs exact DTW {metrics['cost_ratio_vs_dtw']:.4f}, "
                    f"vs FastDTW {metrics['cost_ratio_vs_fastdtw']:.4f}, "
                    f"vs HeuristicAligner {metrics['cost_ratio_vs_heuristic']:.4f}",
                    flush=True,
                )
            if bool(finished.numpy()):
                return rows
        if stop.wait(options.eval_interval_s):
            return rows
