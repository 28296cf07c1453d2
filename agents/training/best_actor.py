"""Best-actor keeping: a copy of the actor with the best validation cost ratio seen (``keep_best``)."""

import contextlib
from collections.abc import Iterator

import numpy as np
import tensorflow as tf


def copy_weights(source, target) -> None:
    """Assign every variable of network ``source`` to the matching variable of ``target``."""
    for src, dst in zip(source.variables, target.variables, strict=True):
        dst.assign(src)


class BestActor:
    """A copy of an actor network that keeps the weights with the lowest validation cost ratio.

    Parameters
    ----------
    actor_net : tf_agents.networks.Network
        The live actor (its structure is copied, not its weights).
    observation_spec : nest of TensorSpec
        The actor's input spec (to create the copy's variables).

    Attributes
    ----------
    network : tf_agents.networks.Network
    ratio : tf.Variable
        float64, the best mean cost ratio seen (inf before any).
    env_steps : tf.Variable
        int64, the env step it was seen at (-1 before any).
    """

    def __init__(self, actor_net, observation_spec):
        self.network = actor_net.copy(name="BestActor")
        self.network.create_variables(observation_spec)
        self.ratio = tf.Variable(np.inf, dtype=tf.float64, name="best_ratio")
        self.env_steps = tf.Variable(-1, dtype=tf.int64, name="best_env_steps")

    @property
    def seen(self) -> bool:
        """Whether any actor has been offered yet."""
        return int(self.env_steps.numpy()) >= 0

    def offer(self, actor_net, ratio: float, env_steps: int) -> bool:
        """Keep ``actor_net``'s weights when ``ratio`` beats the best so far; returns whether it did."""
        if not ratio < float(self.ratio.numpy()):
            return False
        copy_weights(actor_net, self.network)
        self.ratio.assign(ratio)
        self.env_steps.assign(env_steps)
        return True

    def checkpoint_objects(self) -> dict:
        """The objects a checkpoint must hold to resume keeping the best actor."""
        return {"best_actor": self.network, "best_ratio": self.ratio, "best_env_steps": self.env_steps}

    @contextlib.contextmanager
    def swapped_into(self, actor_net) -> Iterator[None]:
        """Within the block ``actor_net`` holds the best weights; afterwards its own weights again."""
        current = [w.numpy() for w in actor_net.variables]
        copy_weights(self.network, actor_net)
        try:
            yield
        finally:
            for variable, value in zip(actor_net.variables, current, strict=True):
                variable.assign(value)
