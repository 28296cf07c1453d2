"""The files of an aligner run folder, written atomically through ``dtwrl.runs``.

``results/aligner/<run-name>/``::

    config.json     the AlignerConfig
    metrics.json    status, final metrics and the evaluation history
    env/            the training environment (env.json + its pair source): the run needs no registered id
    tb/             TensorBoard events
    checkpoints/    tf_agents Checkpointer
    policy/         PolicySaver output + dtwrl_env.json (WarpingBatch arguments)
    figures/        the final evaluation alignment

>>> import tempfile
>>> folder = RunFolder(Path(tempfile.mkdtemp()) / "run")
>>> folder.exists(), folder.has_checkpoint()
(False, False)
"""

import os
from pathlib import Path
from typing import Any

import numpy as np

from dtwrl.runs import atomic_write_bytes, read_json, to_jsonable, write_json

from .config import AlignerConfig

RESUMABLE_FIELDS = frozenset({"total_env_steps", "eval_interval", "checkpoint_interval", "run_name"})
"""Config fields a resumed run may change; every other field must match the checkpoint's run."""


def _subfolder(name: str, doc: str) -> property:
    """A read-only ``pathlib.Path`` attribute: the subfolder ``name`` of the run folder."""
    return property(lambda self: self.path / name, doc=f"``<run>/{name}/``: {doc}")


class RunFolder:
    """Paths and writers of one run folder.

    Parameters
    ----------
    path : str or os.PathLike
        ``<out_dir>/<run_name>``; nothing is created until :meth:`create`.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    checkpoints = _subfolder("checkpoints", "tf_agents Checkpointer files.")
    tensorboard = _subfolder("tb", "TensorBoard events.")
    policy = _subfolder("policy", "PolicySaver output and ``dtwrl_env.json``.")
    env = _subfolder("env", "The training environment (``env.json`` and its pair source).")
    figures = _subfolder("figures", "The final evaluation alignment.")

    def exists(self) -> bool:
        return self.path.is_dir()

    def has_checkpoint(self) -> bool:
        """Whether a ``tf_agents`` checkpoint is there to resume from."""
        import tensorflow as tf

        return self.checkpoints.is_dir() and tf.train.latest_checkpoint(str(self.checkpoints)) is not None

    def create(self) -> Path:
        """Create the folder and its ``figures/`` (call it only once every input is validated)."""
        self.figures.mkdir(parents=True, exist_ok=True)
        return self.path

    def write_config(self, config: AlignerConfig, resuming: bool) -> Path:
        """Write ``config.json``; a resumed run must keep every field but :data:`RESUMABLE_FIELDS`.

        Raises
        ------
        ValueError
            A resumed run's config differs in another field.
        """
        path = self.path / "config.json"
        values = to_jsonable(config.to_dict())
        if resuming and path.is_file():
            previous = read_json(path)
            changed = sorted(k for k in values if k not in RESUMABLE_FIELDS and previous.get(k) != values[k])
            if changed:
                raise ValueError(
                    f"config differs from the run being resumed in {changed}; "
                    f"use another run_name or the same settings as {path}"
                )
        return write_json(path, values)

    def write_metrics(self, status: str, final: dict, history: list, error: str | None = None) -> Path:
        """Write ``metrics.json``: ``{"status", "final", "history"[, "error"]}``."""
        payload: dict[str, Any] = {"status": status, "final": final, "history": history}
        if error is not None:
            payload["error"] = error
        return write_json(self.path / "metrics.json", payload)

    def completed(self, config: AlignerConfig) -> dict | None:
        """The final metrics of a run that already finished ``config``'s budget, else None.

        A run is finished when its ``metrics.json`` says ``completed`` (its policy
        is saved) at ``config.num_iterations`` iterations or more; running it
        again has nothing to do. A larger ``total_env_steps`` resumes it instead.

        >>> RunFolder("results/aligner/nope").completed(AlignerConfig()) is None
        True
        """
        path = self.path / "metrics.json"
        if not path.is_file():
            return None
        stored = read_json(path)
        final = stored.get("final", {})
        budget = config.num_iterations * config.steps_per_iteration
        return final if stored.get("status") == "completed" and final.get("env_steps", -1) >= budget else None

    def load_history(self, up_to_env_steps: int) -> list:
        """The evaluation rows of ``metrics.json`` at or before ``up_to_env_steps`` (a resumed run's past)."""
        path = self.path / "metrics.json"
        if not path.is_file():
            return []
        rows = read_json(path).get("history", [])
        return [row for row in rows if row["env_steps"] <= up_to_env_steps]

    def save_image(self, image: np.ndarray, name: str) -> Path:
        """Save an (H, W, 3) uint8 image as ``figures/<name>`` (PNG), atomically."""
        import io

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        plt.imsave(buffer, image, format="png")
        return atomic_write_bytes(self.figures / name, buffer.getvalue())


def completed_message(run_dir: Path, final: dict) -> str:
    """What a rerun of a finished run says (:meth:`RunFolder.completed`)."""
    return (
        f"{run_dir} is already complete: {final['env_steps']:,} env steps, cost ratio vs exact DTW "
        f"{final['cost_ratio_vs_dtw']:.4f}; nothing to train (a larger --total-env-steps resumes it)"
    )


def read_pretrained(init_from: str | os.PathLike) -> dict:
    """The network settings (``window``, ``hidden``, ``cost_floor``) and checkpoint of a run to start from.

    Parameters
    ----------
    init_from : str or os.PathLike
        A run folder of ``agents.train_aligner``, an actor ``.npz`` file
        (``agents.NumpyActor.save``), or ``"pretrained"`` (the package's
        general aligner).

    Returns
    -------
    dict
        ``window`` (None when unknown), ``hidden`` (tuple), ``cost_floor``,
        ``checkpoint`` (the latest checkpoint prefix), ``keep_best`` (whether
        its saved policy is its best actor), ``env_id`` and ``folder``; for an
        actor file, ``actor_file`` and ``lookahead`` instead of the checkpoint
        (``env_id`` and ``folder`` are None).

    Raises
    ------
    ValueError
        ``init_from`` is not a run folder or holds no checkpoint (naming ``init_from``).
    """
    import tensorflow as tf

    from ..policy.actor import NumpyActor
    from ..policy.aligner import resolve_policy
    from ..policy.tf_policy import ENV_FILE

    source = resolve_policy(init_from)
    if source.kind == "actor_file":
        try:
            actor, core_kwargs, _ = NumpyActor.load(source.path)
        except ValueError as error:
            raise ValueError(f"init_from: {error}") from None
        return {
            "window": core_kwargs["window"],
            "hidden": tuple(int(kernel.shape[1]) for kernel, _, _ in actor.dense),
            "cost_floor": float(actor.cost_floor),
            "actor_file": source.path,
            "lookahead": core_kwargs.get("lookahead", []),
            "checkpoint": None,
            "keep_best": False,
            "env_id": None,
            "folder": None,
        }
    folder = RunFolder(init_from)
    config_path = folder.path / "config.json"
    if not config_path.is_file():
        raise ValueError(f"init_from: {str(folder.path)!r} is not an aligner run folder (no config.json)")
    latest = tf.train.latest_checkpoint(str(folder.checkpoints)) if folder.checkpoints.is_dir() else None
    if latest is None:
        raise ValueError(f"init_from: {str(folder.path)!r} holds no checkpoint under checkpoints/")
    pretrained = read_json(config_path)
    window = pretrained.get("window")
    env_file = folder.policy / ENV_FILE
    if window is None and env_file.is_file():
        window = read_json(env_file).get("window")
    return {
        "window": window,
        "hidden": tuple(pretrained["hidden"]),
        "cost_floor": pretrained["cost_floor"],
        "checkpoint": latest,
        "keep_best": bool(pretrained.get("keep_best", False)),
        "env_id": pretrained.get("env_id"),
        "folder": folder,
    }
