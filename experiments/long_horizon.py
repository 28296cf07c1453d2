"""Long-horizon forecasting with DTW losses: MSE, full soft-DTW, and corridor soft-DTW per source at equal cell budgets.

Windows of a long series (input ``--input-length`` L, horizon ``--horizon`` H; the issue's horizons are 512,
2048 and 8192) from ``../shared/data/long/`` (``--data electricdevices`` or ``ecg``, or a CSV path whose
second column holds the values) or from a seeded synthetic generator with smooth time warps and level shifts
(``--data synthetic``: no shared data needed). The series is z-scored with its training part's statistics
and cut in time into train (60%), validation (20%) and test (20%) parts, each windowed with ``--stride``;
each window is shifted by its input's mean (:func:`windows`; ``--no-center-windows`` keeps the levels), so a
series whose level wanders does not put the test windows at levels no training window reaches.

Per model (``--models``: ``mlp``, ``cnn``; :func:`dtwrl.forecasting.models.build_forecaster`) and seed:

1. ``mse``: trained ``--mse-epochs`` epochs from the seeded initial weights;
2. every DTW-family loss then starts from that MSE model's weights (copied with ``model.set_weights`` by
   :func:`start_from`, until dtwrl.forecasting has its own MSE-start helper) and trains ``--epochs`` epochs,
   once per ``--gammas`` value; the gamma of lowest validation DTW is kept:

   - ``soft_dtw``: full soft-DTW (``--full``), every cell of the H x H grid;
   - ``corridor:<source>`` at each ``--budgets`` share of the n m cells: soft-DTW on the corridor of the
     source (:mod:`dtwrl.corridors`: ``band``, ``fastdtw``, ``exact``, ``random``, ``policy``,
     ``policy_samples``, ``heuristic``), each pair's corridor kept for ``--corridor-every`` steps. The source's
     width parameter (``frac`` for the band, ``r`` for the others) is calibrated per model and seed on the MSE model's
     forecasts of a few training pairs to the budget (:func:`calibrate`); the realised share on the test
     pairs is reported.

Reported per row (means +- std over seeds): test exact DTW (:func:`dtwrl.dtw`), MSE, TDI, seconds per epoch
(wall, and CPU over all threads), the peak memory of one training step (:func:`step_memory_mb`: the loss's
value and gradient on one batch, corridor included, measured alone in a fresh process after a warm-up, so it
does not depend on which trials ran before, with glibc's mmap threshold fixed so that heap blocks freed during
the step do not count; Linux), and for corridor losses the share of test pairs whose
exact DTW path leaves the corridor computed on the final forecasts. Writes
``table.md``, ``figures/dtw_vs_time.png`` (test DTW against seconds per epoch, one point per loss and
budget), TensorBoard logs under ``tb/`` and one ``trials/<id>.json`` per trained model: a rerun with the
same ``--run`` skips the finished trials (resumable), and ``--report-only`` writes the table of the trials
finished so far (e.g. while other seeds still train in another process) without training any.

    python experiments/long_horizon.py --data electricdevices --horizon 512 --seeds 0 1 2
    python experiments/long_horizon.py --data synthetic --horizon 64 --epochs 1 --seeds 0   # minutes
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import math
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from dtwrl import corridors
from dtwrl.datasets.long_recordings import read_recording
from dtwrl.exact_dtw import dtw_path
from dtwrl.forecasting.metrics import dtw_score, mse, tdi
from dtwrl.forecasting.models import build_forecaster
from dtwrl.forecasting.training import ForecasterTrainer, predict
from dtwrl.losses import SoftDTWLoss
from dtwrl.runs import atomic_write_text, markdown_table, read_json, save_figure, write_json
from dtwrl.validation import check_gamma
from experiments.cli import blame, cli_main, fail, field, parse_args, require_at_least
from experiments.memory import fresh_peak_mb
from experiments.run_folders import checked_run_dir, seed_everything, write_config

DATA_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "long"
DATA_FILES = {"electricdevices": "ElectricDevices.csv", "ecg": "ecg-diff-count-3_TEST.csv"}
SOURCES = ("band", "fastdtw", "exact", "random", "policy", "policy_samples", "heuristic")
MODELS = ("mlp", "cnn")
CALIBRATION_PAIRS = 4


@dataclasses.dataclass
class WindowArgs:
    """The data flags: which long series, and how it is cut into (input, horizon) windows."""

    data: str = field(
        "synthetic", "synthetic, electricdevices, ecg, or a CSV recording (index or date, value; or values alone)"
    )
    data_root: str = field(str(DATA_ROOT), "folder of the shared long series")
    horizon: int = field(512, "forecast horizon H (the issue's: 512, 2048, 8192)")
    input_length: int | None = field(None, "input window L (none: H)")
    stride: int | None = field(None, "step between windows (none: H / 4)")
    synthetic_length: int = field(0, "length of the synthetic series (0: 40 windows' worth)")
    max_train: int = field(64, "training windows at most (evenly spaced)")
    max_test: int = field(32, "validation and test windows at most, each")
    center_windows: bool = field(
        True, "subtract each window's input mean from its input and target (forecast the level change)"
    )


@dataclasses.dataclass
class Args(WindowArgs):
    models: tuple[str, ...] = field(MODELS, "forecasters: mlp, cnn")
    hidden_units: int = field(128, "hidden width of the mlp/cnn")
    sources: tuple[str, ...] = field(("band", "fastdtw", "exact", "random"), f"corridor sources among {SOURCES}")
    budgets: tuple[float, ...] = field((0.01, 0.03, 0.10), "corridor cell budgets, shares of the n m cells")
    full: bool = field(True, "also train full soft-DTW")
    gammas: tuple[float, ...] = field((1.0, 0.1), "soft-DTW gammas tried per loss; the best validation DTW is kept")
    seeds: tuple[int, ...] = field((0, 1, 2), "seeds (>= 0)")
    mse_epochs: int = field(20, "epochs of the MSE model every DTW loss starts from")
    epochs: int = field(5, "epochs of each DTW-family loss")
    batch_size: int = field(16, "batch size")
    learning_rate: float = field(1e-3, "Adam step size")
    corridor_every: int = field(1, "keep each training pair's corridor for this many steps (1: recompute every step)")
    report_only: bool = field(False, "train nothing: write the table of the trials finished so far in --run")
    step_memory: bool = field(True, "measure each trial's step peak memory in a fresh process (seconds each)")
    policy_samples: int = field(16, "paths sampled per pair by the policy_samples source")
    policy_temperature: float = field(8.0, "sampling temperature of the policy_samples source")
    run: str = field("", "run folder name (default <data>_H<horizon>); a rerun with the same name resumes")
    out_dir: str = field("results", "root of the run folders")


# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------
def synthetic_series(length, seed):
    """A seeded long series: two periodic patterns read through a smooth random time warp, plus level shifts.

    The warp's speed is ``exp`` of smoothed noise (0.5x to 2x), the level shifts are Gaussian steps at
    random times (about one per 500 steps), and a little white noise is added.

    >>> s = synthetic_series(1000, 0)
    >>> s.shape, bool(np.all(np.isfinite(s))), bool(np.allclose(s, synthetic_series(1000, 0)))
    ((1000,), True, True)
    """
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=length + 200)
    kernel = np.hanning(201) / np.hanning(201).sum()
    speed = np.exp(np.clip(8.0 * np.convolve(noise, kernel, "valid")[:length], -0.7, 0.7))
    phase = np.cumsum(speed)
    pattern = np.sin(2 * np.pi * phase / 64.0) + 0.6 * np.sign(np.sin(2 * np.pi * phase / 160.0))
    shifts = np.cumsum(np.where(rng.random(length) < 1 / 500, rng.normal(size=length), 0.0))
    return pattern + shifts + 0.05 * rng.normal(size=length)


def load_series(args):
    """The long series named by ``--data`` (1-D float64)."""
    if args.data == "synthetic":
        length = args.synthetic_length or 40 * (args.input_length + args.horizon)
        return synthetic_series(length, seed=0)
    path = Path(args.data) if args.data not in DATA_FILES else Path(args.data_root) / DATA_FILES[args.data]
    if not path.is_file():
        fail("--data", f"{str(path)!r} not found (the shared long series live in --data-root; or use synthetic)")
    with blame("--data"):
        return read_recording(path)[:, 0]  # the one reader of the long recordings: dates as index, gaps filled


def windows(series, L, H, stride, limit, center=False):
    """(X (N, L, 1), Y (N, H, 1)) float32 windows of one part of the series, at most ``limit`` evenly spaced.

    ``center``: subtract each window's input mean from its input and target. A series whose level wanders
    (the synthetic one's level shifts add up to a random walk) otherwise puts later windows at levels the
    training windows never reach; centred, the model forecasts the change from its input's level. DTW and
    MSE are unchanged by a shift common to forecast and target, so the scores still rate forecasts of the
    series itself (the forecast plus that mean).

    >>> X, Y = windows(np.arange(10.0), 4, 2, 4, 8, center=True)
    >>> X[:, :, 0].tolist(), Y[:, :, 0].tolist()
    ([[-1.5, -0.5, 0.5, 1.5], [-1.5, -0.5, 0.5, 1.5]], [[2.5, 3.5], [2.5, 3.5]])
    """
    starts = np.arange(0, len(series) - L - H + 1, stride)
    if len(starts) > limit:
        starts = starts[np.linspace(0, len(starts) - 1, limit).round().astype(int)]
    X = np.stack([series[s : s + L] for s in starts])[..., None]
    Y = np.stack([series[s + L : s + L + H] for s in starts])[..., None]
    if center:
        level = X.mean(axis=1, keepdims=True)
        X, Y = X - level, Y - level
    return X.astype(np.float32), Y.astype(np.float32)


def prepare_data(args):
    """{"train", "val", "test"}: (X, Y) windows of the z-scored series, cut in time 60/20/20."""
    series = load_series(args)
    L, H = args.input_length, args.horizon
    cuts = [0, int(0.6 * len(series)), int(0.8 * len(series)), len(series)]
    parts = [series[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
    for name, part in zip(("train", "validation", "test"), parts):
        if len(part) < L + H:
            fail(
                "--horizon", f"the {name} part ({len(part)} steps) is shorter than L + H = {L + H}; use a longer series"
            )
    mean, std = parts[0].mean(), parts[0].std() or 1.0
    limits = (args.max_train, args.max_test, args.max_test)
    return {
        name: windows((part - mean) / std, L, H, args.stride, limit, args.center_windows)
        for name, part, limit in zip(("train", "val", "test"), parts, limits)
    }


def check_windows(args):
    """The :class:`WindowArgs` flags (and ``--sources``, ``--budgets``, ``--models`` where ``args`` has them);
    fills the defaults of ``--input-length`` and ``--stride``. Shared with the scripts built on these windows."""
    if args.horizon < 4:
        fail("--horizon", f"must be >= 4; got {args.horizon}")
    args.input_length = args.horizon if args.input_length is None else args.input_length
    args.stride = max(1, args.horizon // 4) if args.stride is None else args.stride
    require_at_least(args, 1, "input_length", "stride", "max_train", "max_test")
    require_at_least(args, 0, "synthetic_length")
    for model in getattr(args, "models", ()):
        if model not in MODELS:
            fail("--models", f"must be among {', '.join(MODELS)}; got {model!r}")
    for source in getattr(args, "sources", ()):
        if source not in SOURCES:
            fail("--sources", f"must be among {', '.join(SOURCES)}; got {source!r}")
    for budget in getattr(args, "budgets", ()):
        if not 0 < budget < 1:
            fail("--budgets", f"each must be in (0, 1); got {budget}")
    if args.data not in ("synthetic", *DATA_FILES) and not Path(args.data).is_file():
        fail("--data", f"must be synthetic, {', '.join(DATA_FILES)} or a CSV file; got {args.data!r}")
    return args


def validate(args):
    """Every flag, before anything is created (one line ``error: --flag: ...`` and exit 2 otherwise)."""
    check_windows(args)
    require_at_least(args, 1, "hidden_units", "mse_epochs", "epochs", "batch_size", "corridor_every")
    for gamma in args.gammas:
        with blame("--gammas"):
            check_gamma(gamma)
    if any(seed < 0 for seed in args.seeds):
        fail("--seeds", f"must be >= 0; got {args.seeds}")
    if not args.learning_rate > 0:
        fail("--learning-rate", f"must be > 0; got {args.learning_rate}")
    if args.policy_samples < 1 or not args.policy_temperature > 0:
        fail("--policy-samples", "must be >= 1 (and --policy-temperature > 0)")
    return args


# ----------------------------------------------------------------------------
# corridors at a cell budget
# ----------------------------------------------------------------------------
def spec_for(source, width, H, args):
    """The source spec of integer ``width``: the band's half-width (as a fraction of H), else the radius r."""
    if source == "band":
        return f"band:frac={width / H:.9g}"
    if source == "policy_samples":
        return f"policy_samples:k={args.policy_samples},t={args.policy_temperature:g},r={width}"
    return f"{source}:r={width}"


def cell_share(spec, y_true, y_pred):
    """Mean share of the n m cells inside the corridors ``spec`` gives these pairs."""
    corridor = corridors.corridor_from_name(spec, y_true, y_pred)
    n, m = y_true.shape[1], y_pred.shape[1]
    return float(np.mean(corridors.corridor_cells(corridor, [n] * len(corridor)))) / (n * m)


def calibrate(source, budget, y_true, y_pred, args):
    """The spec of ``source`` whose corridors hold the share of cells closest to ``budget`` on these pairs.

    Bisects the integer width (the share grows with it), then keeps the closer of the two widths around it.
    """
    H = y_true.shape[1]
    low, high = 0, H
    while low < high:
        mid = (low + high) // 2
        if cell_share(spec_for(source, mid, H, args), y_true, y_pred) >= budget:
            high = mid
        else:
            low = mid + 1
    options = [w for w in (low - 1, low) if w >= 0]
    shares = [cell_share(spec_for(source, w, H, args), y_true, y_pred) for w in options]
    best = int(np.argmin([abs(s - budget) for s in shares]))
    return spec_for(source, options[best], H, args)


def leaves_corridor(spec, y_true, y_pred):
    """Share of pairs whose exact DTW path has a cell outside the corridor ``spec`` gives them."""
    corridor = corridors.corridor_from_name(spec, y_true, y_pred)
    mask = corridors.corridor_mask(corridor, y_pred.shape[1])
    outside = [not np.all(mask[b][path[:, 0], path[:, 1]]) for b, path in enumerate(_paths(y_true, y_pred))]
    return float(np.mean(outside))


def _paths(y_true, y_pred):
    return [dtw_path(a, b)[1] for a, b in zip(y_true, y_pred)]


# ----------------------------------------------------------------------------
# trials
# ----------------------------------------------------------------------------
def start_from(model, weights):
    """Copy a trained model's weights (``model.get_weights()``) into a new model of the same architecture."""
    model.set_weights([np.asarray(w) for w in weights])
    return model


def _weights_path(run_dir, model_name, seed):
    return Path(run_dir) / "weights" / f"{model_name}_seed{seed}_mse.npz"


def _loss_config(loss):
    """A picklable description of a trial's loss: ``"mse"`` or a :class:`SoftDTWLoss` config."""
    return loss if isinstance(loss, str) else loss.get_config()


def _loss_from_config(config):
    return tf.keras.losses.MeanSquaredError() if config == "mse" else SoftDTWLoss.from_config(config)


def prepare_loss_step(model_name, weights, x, y, loss_config, hidden_units):
    """The call :func:`step_memory_mb` measures: the loss's value and gradient w.r.t. the weights on one batch.

    Builds the model from ``weights`` and warms up first (the model's MSE gradient on ``x``, the loss on the
    batch's first 64 steps, and a named corridor source on the first pair at full length, which long pairs route
    on other compiled code than short ones), so that compiling and loading kernels is not counted. The call runs
    eagerly (no tracing) and recomputes a corridor loss's corridor from the forecasts, as a training step does.

    >>> import numpy as np
    >>> from dtwrl.forecasting.models import build_forecaster
    >>> weights = build_forecaster("mlp", 8, 6, hidden_units=4).get_weights()
    >>> x, y = np.zeros((2, 8, 1), np.float32), np.ones((2, 6, 1), np.float32)
    >>> call = prepare_loss_step("mlp", weights, x, y, {"gamma": 0.1, "corridor": "band:frac=0.5"}, 4)
    >>> [g.shape for g in call()][:2]
    [(8, 4), (4,)]
    """
    model = start_from(build_forecaster(model_name, x.shape[1], y.shape[1], hidden_units=hidden_units), weights)
    loss = _loss_from_config(loss_config)
    x, y = tf.constant(x), tf.constant(y)

    def gradient(loss, y_true):
        with tf.GradientTape() as tape:
            value = loss(y_true, model(x, training=True)[:, : y_true.shape[1]])
        return [g.numpy() for g in tape.gradient(value, model.trainable_variables)]

    gradient(tf.keras.losses.MeanSquaredError(), y)
    gradient(_loss_from_config(loss_config), y[:, : min(64, y.shape[1])])
    if isinstance(loss_config, dict) and isinstance(loss_config.get("corridor"), str):
        corridors.corridor_from_name(loss_config["corridor"], y[:1].numpy(), model(x[:1]).numpy()[:, : y.shape[1]])
    return lambda: gradient(loss, y)


def step_memory_mb(model_name, weights, x, y, loss, hidden_units, allocator="fixed"):
    """Peak MB one training step of ``loss`` adds (value and gradient on the batch ``x``, ``y``), in a fresh process.

    :func:`experiments.memory.fresh_peak_mb` of :func:`prepare_loss_step`: the rise of the peak resident set
    during the step over the resident set before it, with the model, the batch and the warmed-up kernels
    already in place. It counts the loss's own buffers (the soft-DTW kernels' scratch, the corridor and what
    its source allocates) and the model's backward pass, which is the same for every loss of one model.
    ``allocator``: glibc's mmap threshold in that process (:func:`experiments.memory.fresh_peak_mb`).
    """
    config = _loss_config(loss)
    return fresh_peak_mb(prepare_loss_step, model_name, weights, x, y, config, hidden_units, allocator=allocator)


def train_trial(run_dir, trial_id, data, args, model_name, seed, loss, epochs, init=None):
    """Train one model; returns its trial record (also written to trials/<id>.json) and the model."""
    tf.keras.backend.clear_session()
    seed_everything(seed)
    X, Y = data["train"]
    model = build_forecaster(model_name, X.shape[1], Y.shape[1], hidden_units=args.hidden_units)
    if init is not None:
        start_from(model, init)
    trainer = ForecasterTrainer(model, loss, learning_rate=args.learning_rate)
    rng = np.random.default_rng(seed)
    steps = math.ceil(len(X) / args.batch_size)
    writer = tf.summary.create_file_writer(str(Path(run_dir) / "tb" / trial_id))
    seconds, cpu_seconds = [], []
    for epoch in range(epochs):
        start, start_cpu = time.perf_counter(), time.process_time()
        value = trainer.run_steps(X, Y, steps, args.batch_size, rng)
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - start_cpu)
        with writer.as_default(step=epoch + 1):
            tf.summary.scalar("train/loss", value)
            tf.summary.scalar("perf/seconds_per_epoch", seconds[-1])
    Xv, Yv = data["val"]
    Xt, Yt = data["test"]
    val_pred, test_pred = predict(model, Xv), predict(model, Xt)
    record = {
        "trial": trial_id,
        "model": model_name,
        "seed": seed,
        "val_dtw": dtw_score(Yv, val_pred),
        "test_dtw": dtw_score(Yt, test_pred),
        "test_mse": mse(Yt, test_pred),
        "test_tdi": tdi(Yt, test_pred),
        # the first epoch also traces the steps: the median epoch is the steady state
        "seconds_per_epoch": float(np.median(seconds)),
        "cpu_seconds_per_epoch": float(np.median(cpu_seconds)),  # all threads: steadier than wall time under load
    }
    if args.step_memory:  # after the forecasts above: the step it measures runs in another process
        batch = min(args.batch_size, len(X))
        record["step_peak_mb"] = step_memory_mb(
            model_name, model.get_weights(), X[:batch], Y[:batch], loss, args.hidden_units
        )
    with writer.as_default(step=epochs):
        for key in ("val_dtw", "test_dtw", "test_mse", "test_tdi"):
            tf.summary.scalar(f"eval/{key}", record[key])
    writer.close()
    return record, model, test_pred


def finished_records(run_dir):
    """Every finished trial record of a run folder (``--report-only``), whatever grid trained it."""
    return [read_json(path) for path in sorted((Path(run_dir) / "trials").glob("*.json"))]


def run_trials(run_dir, data, args, log=print):
    """Every trial not finished yet (resumable); returns every trial record."""
    trials = Path(run_dir) / "trials"
    trials.mkdir(exist_ok=True)
    (Path(run_dir) / "weights").mkdir(exist_ok=True)
    records = []

    def done(trial_id):
        path = trials / f"{trial_id}.json"
        return read_json(path) if path.exists() else None

    for model_name in args.models:
        for seed in args.seeds:
            mse_id = f"{model_name}__mse__seed{seed}"
            weights_path = _weights_path(run_dir, model_name, seed)
            record = done(mse_id)
            if record is None or not weights_path.exists():
                log(f"training {mse_id}")
                record, model, _ = train_trial(run_dir, mse_id, data, args, model_name, seed, "mse", args.mse_epochs)
                record.update(loss="mse", budget=None, gamma=None, spec=None)
                np.savez(weights_path, *model.get_weights())
                write_json(trials / f"{mse_id}.json", record)
            records.append(record)
            with np.load(weights_path) as saved:
                init = [saved[f"arr_{k}"] for k in range(len(saved.files))]
            losses = [("soft_dtw", None, None)] if args.full else []
            X, Y = data["train"]
            cal_true, cal_pred = None, None
            for source in args.sources:
                for budget in args.budgets:
                    losses.append((f"corridor:{source}", budget, source))
            for loss_name, budget, source in losses:
                for gamma in args.gammas:
                    trial_id = f"{model_name}__{loss_name.replace(':', '-')}__b{budget}__g{gamma:g}__seed{seed}"
                    record = done(trial_id)
                    if record is None:
                        spec = None
                        if source is not None:
                            if cal_true is None:
                                mse_model = start_from(
                                    build_forecaster(
                                        model_name, X.shape[1], Y.shape[1], hidden_units=args.hidden_units
                                    ),
                                    init,
                                )
                                cal_true = Y[:CALIBRATION_PAIRS].astype(np.float64)
                                cal_pred = predict(mse_model, X[:CALIBRATION_PAIRS]).astype(np.float64)
                            spec = calibrate(source, budget, cal_true, cal_pred, args)
                        log(f"training {trial_id}" + (f" ({spec})" if spec else ""))
                        loss = SoftDTWLoss(
                            gamma=gamma,
                            corridor=spec,
                            corridor_every=args.corridor_every if spec else 1,
                        )
                        record, _, test_pred = train_trial(
                            run_dir, trial_id, data, args, model_name, seed, loss, args.epochs, init
                        )
                        record.update(loss=loss_name, budget=budget, gamma=gamma, spec=spec)
                        if spec is not None:
                            Yt = data["test"][1].astype(np.float64)
                            record["test_cell_share"] = cell_share(spec, Yt, test_pred.astype(np.float64))
                            record["test_path_leaves"] = leaves_corridor(spec, Yt, test_pred.astype(np.float64))
                        write_json(trials / f"{trial_id}.json", record)
                    records.append(record)
    return records


# ----------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------
def select(records):
    """Per (model, loss, budget, seed), the record of the gamma with the lowest validation DTW."""
    best = {}
    for r in records:
        key = (r["model"], r["loss"], r["budget"], r["seed"])
        if key not in best or r["val_dtw"] < best[key]["val_dtw"]:
            best[key] = r
    return list(best.values())


def _mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    return f"{np.mean(values):.4g} ± {np.std(values):.2g}" if len(values) > 1 else f"{values[0]:.4g}"


def summarise(records):
    """One row per (model, loss, budget): means over seeds of the selected trials."""
    groups = {}
    for r in select(records):
        groups.setdefault((r["model"], r["loss"], r["budget"]), []).append(r)
    rows = []
    for (model, loss, budget), group in sorted(
        groups.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or 0)
    ):
        rows.append(
            {
                "model": model,
                "loss": loss,
                "budget": budget,
                "seeds": len(group),
                "gammas": sorted({r["gamma"] for r in group if r["gamma"] is not None}),
                "test_dtw": float(np.mean([r["test_dtw"] for r in group])),
                "seconds_per_epoch": float(np.mean([r["seconds_per_epoch"] for r in group])),
                "group": group,
            }
        )
    return rows


def write_report(run_dir, records, args):
    """table.md and figures/dtw_vs_time.png from every trial record."""
    rows = summarise(records)
    table = []
    for row in rows:
        g = row["group"]
        table.append(
            [
                row["model"],
                row["loss"],
                "-" if row["budget"] is None else f"{row['budget']:.0%}",
                _mean_std([r.get("test_cell_share") for r in g]),
                ", ".join(f"{x:g}" for x in row["gammas"]) or "-",
                _mean_std([r["test_dtw"] for r in g]),
                _mean_std([r["test_mse"] for r in g]),
                _mean_std([r["test_tdi"] for r in g]),
                _mean_std([r["seconds_per_epoch"] for r in g]),
                _mean_std([r.get("cpu_seconds_per_epoch") for r in g]),
                _mean_std([r.get("step_peak_mb") for r in g]),
                _mean_std([r.get("test_path_leaves") for r in g]),
                row["seeds"],
            ]
        )
    header = ["model", "loss", "budget", "test cell share", "γ kept", "test DTW", "test MSE", "TDI", "s / epoch",
              "CPU s / epoch", "step peak MB", "exact path leaves corridor", "seeds"]  # fmt: skip
    L, H = args.input_length, args.horizon
    lines = [
        f"## Long horizons: {args.data}, L={L}, H={H}",
        "",
        f"{len(select(records))} selected trials (γ of lowest validation DTW among {list(args.gammas)});"
        f" every DTW-family loss starts from the MSE model of its seed ({args.mse_epochs} epochs)"
        f' and trains {args.epochs} epochs. "step peak MB": the peak memory one step of the loss adds'
        f" (value and gradient on one batch of {args.batch_size}, corridor included), measured alone in a fresh"
        " process after a warm-up (glibc's mmap threshold fixed, so freed heap blocks do not count), so independent"
        " of the order of the trials.",
        "",
        markdown_table(header, table),
        "",
    ]
    full = {r["model"]: r["test_dtw"] for r in rows if r["loss"] == "soft_dtw"}
    for model in dict.fromkeys(r["model"] for r in rows):
        for budget in args.budgets:
            here = [r for r in rows if r["model"] == model and r["budget"] == budget]
            if not here:
                continue
            winner = min(here, key=lambda r: r["test_dtw"])
            line = f"- {model}, budget {budget:.0%}: lowest test DTW {winner['loss']} ({winner['test_dtw']:.4g})"
            if model in full:
                line += f", {winner['test_dtw'] / full[model]:.3f}x full soft-DTW's"
            by_loss = {r["loss"]: r["test_dtw"] for r in here}
            for policy in ("corridor:policy", "corridor:policy_samples"):
                for control in ("random", "heuristic"):
                    if policy in by_loss and f"corridor:{control}" in by_loss:
                        ours, theirs = by_loss[policy], by_loss[f"corridor:{control}"]
                        verdict = _verdict(ours, theirs)
                        line += f"; {policy} {verdict} the {control} control ({ours:.4g} vs {theirs:.4g})"
            lines.append(line)
    atomic_write_text(Path(run_dir) / "table.md", "\n".join(lines) + "\n")
    _figure(Path(run_dir) / "figures" / "dtw_vs_time.png", rows, args)
    return "\n".join(lines)


def _verdict(ours, theirs, tie=1e-3):
    """How a test DTW compares with a control's: "ties" within a relative ``tie``, else "beats" / "does not beat".

    >>> _verdict(72.30001, 72.3), _verdict(70.0, 72.3), _verdict(75.0, 72.3)
    ('ties', 'beats', 'does not beat')
    """
    if abs(ours - theirs) <= tie * abs(theirs):
        return "ties"
    return "beats" if ours < theirs else "does not beat"


def _figure(path, rows, args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for row in rows:
        label = row["loss"] + ("" if row["budget"] is None else f" {row['budget']:.0%}")
        ax.scatter(row["seconds_per_epoch"], row["test_dtw"], marker="o" if row["model"] == "mlp" else "s")
        ax.annotate(f"{row['model']} {label}", (row["seconds_per_epoch"], row["test_dtw"]), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("seconds per epoch (log)")
    ax.set_ylabel("test DTW (mean over seeds)")
    ax.set_title(f"{args.data}, H={args.horizon}: test DTW against training time")
    save_figure(fig, path)
    plt.close(fig)


@cli_main
def main(argv=None):
    args = parse_args(Args, argv, description=__doc__.splitlines()[0], validate=validate)
    data = prepare_data(args)  # before the run folder: a refused run leaves none
    label = args.data if args.data in ("synthetic", *DATA_FILES) else Path(args.data).stem
    run_dir = checked_run_dir("long_horizon", args.run or f"{label}_H{args.horizon}", args.out_dir)
    if not args.report_only:
        write_config(run_dir, args)
    records = finished_records(run_dir) if args.report_only else run_trials(run_dir, data, args)
    print(write_report(run_dir, records, args))
    print(f"run folder: {run_dir}")
    return run_dir


if __name__ == "__main__":
    main()
