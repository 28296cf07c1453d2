"""Role ``all``: every role as a subprocess on this machine, supervised, stopped cleanly.

Order: the Reverb server on a free localhost port (waited for until it
answers), then the learner, the collectors and the evaluator. Each child gets
its own session (so Ctrl-C reaches only the launcher, which then stops the
children in order) and logs to ``<run>/logs/<role>.log``.

- The learner finishing (exit 0) ends the run: collectors and evaluator stop by
  themselves on the published ``finished`` flag (or get SIGTERM after
  ``shutdown_grace_s``), the queue counts are read, the server is stopped.
- A collector dying (even by SIGKILL) is reported and training goes on with the
  others.
- The server dying stops the run: the learner checkpoints and exits with a
  clear message; running the same command again resumes from the checkpoint.
- SIGTERM/Ctrl-C: SIGTERM to the learner (it checkpoints), then to the rest.

At the end ``<run>/distributed.json`` holds every role's exit code and the
reconciled trajectory counts (:func:`reconcile`).
"""

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from dtwrl.runs import read_json, write_json

from .specs import TRAJECTORY_TABLE


def free_port():
    """A TCP port on localhost that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def queue_counts(address, timeout=10):
    """The server's trajectory-table counts: items inserted, sampled and still queued."""
    import reverb

    info = reverb.Client(address).server_info(timeout=timeout)[TRAJECTORY_TABLE]
    return {
        "inserted": int(info.rate_limiter_info.insert_stats.completed),
        "sampled": int(info.rate_limiter_info.sample_stats.completed),
        "queued": int(info.current_size),
    }


def reconcile(collectors, learner, queue, collect_steps):
    """Check that every collected transition is accounted for.

    Parameters
    ----------
    collectors : list of dict
        The collectors' final ``collector-<id>.json`` counts.
    learner : dict
        The learner's ``metrics.json`` ``final`` block.
    queue : dict or None
        :func:`queue_counts` read before the server stopped.
    collect_steps : int

    Returns
    -------
    dict
        The counts, each identity as a bool, and ``reconciled`` (all of them).
        Identities: per collector ``collected == items_created * T + pending``;
        ``sum(items_created) == inserted + unconfirmed`` (items still in a
        stopped collector's writer), ``inserted == sampled + queued`` (server
        side) and ``sampled == items_trained + sampled_not_trained +
        prefetched_unused`` (items the learner's dataset had fetched ahead or
        held in an unfinished batch when it stopped), and the learner's
        per-collector consumption sums to ``items_sampled``. Every term is
        written out; the unused ones are bounded by one batch per collector
        or learner.
    """
    created = sum(c["items_created"] for c in collectors)
    out = {
        "collected_env_steps": sum(c["collected_env_steps"] for c in collectors),
        "items_created": created,
        "pending_steps": sum(c["pending_steps"] for c in collectors),
        "items_trained": learner.get("items_trained", 0),
        "items_sampled": learner.get("items_sampled", 0),
        "items_consumed_by_collector": learner.get("items_consumed_by_collector", {}),
        "queue": queue,
    }
    checks = {
        "collector_steps": all(
            c["collected_env_steps"] == c["items_created"] * collect_steps + c["pending_steps"] for c in collectors
        ),
        "per_collector_consumption": sum(out["items_consumed_by_collector"].values()) == out["items_sampled"],
    }
    if queue is not None:
        out["items_unconfirmed"] = created - queue["inserted"]
        out["prefetched_unused"] = queue["sampled"] - out["items_sampled"]
        out["sampled_not_trained"] = out["items_sampled"] - out["items_trained"]
        checks["created_vs_inserted"] = out["items_unconfirmed"] >= 0
        checks["queue"] = queue["inserted"] == queue["sampled"] + queue["queued"]
        checks["learner_sampled"] = out["prefetched_unused"] >= 0 and out["sampled_not_trained"] >= 0
    out["checks"] = checks
    out["reconciled"] = all(checks.values())
    return out


class Launcher:
    """Start, watch and stop the roles of one run (see the module docstring).

    Parameters
    ----------
    config : AlignerConfig
        Validated, with ``run_name`` set.
    options : DistributedOptions
    command_for : callable
        ``command_for(role, **flags) -> list of str``: the command line of one
        role (the experiment script re-invoking itself with ``--role``).
    stop : StopFlag
        Installed for this process.
    log : callable
        ``log(message)`` for progress lines.
    """

    def __init__(self, config, options, command_for, stop, log=print):
        self.config, self.options, self.command_for, self.stop, self.log = config, options, command_for, stop, log
        self.run_dir = Path(config.out_dir) / config.run_name
        self.procs = {}
        self.exit_codes = {}
        self.address = None

    def _start(self, name, role, **flags):
        logs = self.run_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{name}.log", "ab") as handle:
            self.procs[name] = subprocess.Popen(
                self.command_for(role, **flags),
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")},
            )
        self.log(f"started {name} (pid {self.procs[name].pid})")

    def _wait_for_server(self, timeout=180):
        import reverb

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stop.is_set():
            if self.procs["server"].poll() is not None:
                raise RuntimeError(
                    f"the Reverb server exited with {self.procs['server'].returncode}; "
                    f"see {self.run_dir / 'logs' / 'server.log'}"
                )
            try:
                reverb.Client(self.address).server_info(timeout=2)
                return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.5)
        raise RuntimeError(f"the Reverb server did not answer on {self.address} within {timeout} s")

    def _signal(self, names, sig):
        for name in names:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                proc.send_signal(sig)

    def _wait(self, names, timeout, kill=True):
        """Wait up to ``timeout`` s in all for ``names`` to exit; SIGKILL the rest (``kill``) or leave them."""
        deadline = time.monotonic() + timeout
        for name in names:
            proc = self.procs.get(name)
            if proc is None:
                continue
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                if kill:
                    self.log(f"{name} did not stop within {timeout:.0f} s; SIGKILL")
                    proc.kill()
                    proc.wait()

    def _stop(self, names, grace):
        self._signal(names, signal.SIGTERM)
        self._wait(names, grace)

    def run(self):
        """Run every role to the end; returns the exit code (0: training completed)."""
        port = self.options.port or free_port()
        self.address = f"localhost:{port}"
        collectors = [f"collector-{k}" for k in range(self.options.collectors)]
        grace = self.options.shutdown_grace_s
        queue, code, reason = None, 0, None
        try:
            self._start("server", "server", port=port)
            self._wait_for_server()
            self._start("learner", "learner", reverb_address=self.address)
            for k, name in enumerate(collectors):
                self._start(name, "collector", reverb_address=self.address, collector_id=k)
            self._start("evaluator", "evaluator", reverb_address=self.address)
            code, reason = self._supervise(collectors)
        finally:
            self._stop(["learner"], grace)
            if code == 0 and reason is None:  # they stop by themselves on the published 'finished'
                self._wait(collectors, grace, kill=False)
                self._wait(["evaluator"], min(grace, self.options.eval_interval_s + 10), kill=False)
            self._stop(collectors + ["evaluator"], grace)
            if "server" in self.procs and self.procs["server"].poll() is None:
                try:
                    queue = queue_counts(self.address)
                except Exception as err:  # noqa: BLE001 - the counts are then reported as unknown
                    self.log(f"could not read the queue counts: {err}")
            self._stop(["server"], grace)
            self.exit_codes.update({name: proc.returncode for name, proc in self.procs.items()})
            self._write_summary(queue, code, reason)
        return code

    def _supervise(self, collectors):
        """Poll the children until the learner exits, the server dies or a signal arrives: ``(code, reason)``."""
        reported = set()
        while True:
            if self.stop.is_set():
                self.log(f"{self.stop.reason}: stopping every role (the learner checkpoints first)")
                return 130, f"interrupted by {self.stop.reason}"
            if self.procs["server"].poll() is not None:
                rc = self.procs["server"].returncode
                self.log(
                    f"error: the Reverb server exited with {rc}; the learner checkpoints and stops. "
                    f"Run the same command again to resume from the checkpoint."
                )
                # the learner notices within ~20 s (two missed 5 s health checks) and checkpoints
                self._wait(["learner"], max(self.options.shutdown_grace_s, 60.0))
                return 1, f"Reverb server exited with {rc}"
            learner = self.procs["learner"].poll()
            if learner is not None:
                if learner != 0:
                    self.log(f"error: the learner exited with {learner}; see {self.run_dir / 'logs' / 'learner.log'}")
                    return learner if learner > 0 else 1, f"learner exited with {learner}"
                return 0, None
            for name in collectors + ["evaluator"]:
                rc = self.procs[name].poll()
                if rc is not None and rc != 0 and name not in reported:  # 0: it saw 'finished'
                    reported.add(name)
                    alive = sum(self.procs[c].poll() is None for c in collectors)
                    self.log(f"warning: {name} exited with {rc}; training continues with {alive} collector(s)")
            time.sleep(0.5)

    def _write_summary(self, queue, code, reason):
        collectors = []
        for path in sorted((self.run_dir / "collectors").glob("collector-*.json")):
            collectors.append(read_json(path))
        metrics_path = self.run_dir / "metrics.json"
        learner = read_json(metrics_path).get("final", {}) if metrics_path.is_file() else {}
        summary = {
            "reverb_address": self.address,
            "exit_code": code,
            "reason": reason,
            "role_exit_codes": self.exit_codes,
            "counts": reconcile(collectors, learner, queue, self.config.collect_steps),
        }
        write_json(self.run_dir / "distributed.json", summary)
        return summary


def config_argv(config, options=None):
    """Command-line flags that rebuild ``config`` (and ``options``) in ``experiments.cli.parse_args``.

    >>> from agents import AlignerConfig
    >>> argv = config_argv(AlignerConfig(hidden=(8, 8), bc_warmstart=False))
    >>> argv[argv.index("--hidden"):argv.index("--hidden") + 3], "--no-bc-warmstart" in argv
    (['--hidden', '8', '8'], True)
    """
    argv = []
    for part in (config, options):
        if part is None:
            continue
        for f in dataclasses.fields(part):
            value, flag = getattr(part, f.name), "--" + f.name.replace("_", "-")
            if isinstance(value, bool):
                argv.append(flag if value else "--no-" + flag[2:])
            elif isinstance(value, (tuple, list)):
                argv += [flag, *map(str, value)]
            else:
                argv += [flag, "none" if value is None else str(value)]
    return argv


def python_command(script, argv):
    """A ``command_for`` that re-invokes ``script`` with ``argv`` plus ``--role`` and the role's flags.

    >>> python_command("train.py", ["--seed", "2"])("collector", collector_id=1)[2:]
    ['--seed', '2', '--role', 'collector', '--collector-id', '1']
    """

    def command_for(role, **flags):
        command = [sys.executable, str(script), *argv, "--role", role]
        for key, value in flags.items():
            command += [f"--{key.replace('_', '-')}", str(value)]
        return command

    return command_for
