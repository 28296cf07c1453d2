"""``DistributedOptions``: how a distributed run is laid out (roles, collectors, Reverb address, timeouts).

>>> options = DistributedOptions(collectors=4)
>>> options.envs_per_collector(num_envs=64)
16
"""

import dataclasses
import math

from ..fields import field

ROLES = ("all", "server", "collector", "learner", "evaluator")


@dataclasses.dataclass
class DistributedOptions:
    """The distributed layout; the ``AlignerConfig`` of the run stays the single source of the PPO settings.

    Every field has a ``help`` line (read by ``experiments.cli.parse_args``).
    """

    role: str = field(
        "all",
        "Which role this process plays: all (every role on this machine, localhost "
        "ports), server, collector, learner or evaluator.",
    )
    collectors: int = field(2, "Number of collectors (role all starts them; the learner waits for none in particular).")
    collector_envs: int | None = field(
        None,
        "Alignments each collector steps together; None: "
        "ceil(num_envs / collectors), so the collectors together step as many "
        "envs as the single-process trainer.",
    )
    collector_id: int = field(
        0,
        "Role collector: its id (0-based); it seeds the env stream (collector k steps the "
        "sub-envs seed + k * collector_envs onwards) and tags its items.",
    )
    reverb_address: str | None = field(
        None,
        "host:port of the Reverb server (roles collector, learner, evaluator; role all picks a free localhost port).",
    )
    port: int | None = field(None, "Role server: the port to listen on; None picks a free one (printed).")
    queue_batches: int = field(
        1,
        "Capacity of the trajectory queue in learner batches (num_envs items each); a "
        "full queue blocks the collectors, so no trajectory is dropped and the policy "
        "lag stays bounded.",
    )
    stall_timeout_s: float = field(300.0, "The learner stops with an error when no trajectory arrives for this long.")
    eval_interval_s: float = field(30.0, "Role evaluator: seconds between evaluations of the published policy.")
    shutdown_grace_s: float = field(30.0, "Role all: seconds a role gets to stop after SIGTERM before SIGKILL.")

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}; got {self.role!r}")
        for name in ("collectors", "queue_batches"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)}")
        if self.collector_envs is not None and int(self.collector_envs) < 1:
            raise ValueError(f"collector_envs must be None or >= 1; got {self.collector_envs}")
        if int(self.collector_id) < 0:
            raise ValueError(f"collector_id must be >= 0; got {self.collector_id}")
        if self.port is not None and not 0 < int(self.port) < 65536:
            raise ValueError(f"port must be None or in 1..65535; got {self.port}")
        for name in ("stall_timeout_s", "eval_interval_s", "shutdown_grace_s"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be > 0; got {getattr(self, name)}")
        if self.reverb_address is not None:
            check_address(self.reverb_address)
        elif self.role in ("collector", "learner", "evaluator"):
            raise ValueError(f"reverb_address is required for role {self.role!r} (host:port of the server)")

    def envs_per_collector(self, num_envs):
        """Sub-environments each collector steps."""
        return int(self.collector_envs) if self.collector_envs is not None else math.ceil(num_envs / self.collectors)


def check_address(address):
    """``host:port`` with a port in 1..65535; returns it (ValueError naming ``reverb_address`` otherwise).

    >>> check_address("localhost:8000")
    'localhost:8000'
    """
    host, sep, port = str(address).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"reverb_address must be host:port; got {address!r}")
    return address
