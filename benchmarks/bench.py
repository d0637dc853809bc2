"""Seconds per epoch of the recipe MLP: our training path, plain Keras, plain PyTorch and the floor.

The recipe MLP (3072 → 3×[Dense 128 without bias, BatchNorm, ReLU, Dropout 0.1]
→ 10 softmax, L2 5e-5, Adam with warmup + cosine, batch 128, validation every
epoch) is trained on the same 45,000 / 5,000 split by

1. ours:  `cifar_mlp.core.training.train` (what every notebook uses);
2. keras: a plain `model.fit(x, y, batch_size=128, validation_data=(xv, yv))`;
3. torch: an equivalent plain PyTorch loop (2 threads, the same initialization,
   L2, Adam epsilon and schedule);
4. floor: the FLOP of one epoch divided by this machine's float32 GEMM throughput.

Each engine runs in its own subprocess, so peak memory (ru_maxrss) is its own,
and the engines take turns for `--rounds` rounds (seed = round) so that other
jobs on this shared machine slow all of them alike. Each epoch also records how
busy the rest of the machine was; `quiet` medians use only the epochs when
others used under 10% of the CPUs.

    python benchmarks/bench.py                  # the table, benchmarks/results/bench.{json,md}
    python benchmarks/bench.py --engine torch   # one engine, a JSON line (what the parent runs)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "results"
ENGINES = ("ours", "keras", "torch")
# The study's sweeps train two runs at once (cifar_mlp.runs.executors.workers()): this row
# times two of our runs side by side and counts the epochs both get through.
PAIR = "ours, 2 at once"
BATCH, LR, L2, DROPOUT, WIDTH, DEPTH = 128, 1e-3, 5e-5, 0.1, 128, 3
WARMUP_EPOCHS = 2           # RunConfig's default for warmup_cosine
QUIET = 0.10                # an epoch is quiet when other processes used < 10% of the CPUs
THREADS = os.cpu_count() or 1


# ---------------------------------------------------------------- measuring an epoch

def _busy_jiffies() -> int:
    """CPU time (in clock ticks) that all processes on the machine have used so far."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return user + nice + system + irq + softirq + steal


class EpochProbe:
    """Wall and CPU seconds of each epoch, and how much CPU other processes took meanwhile."""

    def __init__(self):
        self.epochs: list[dict] = []
        self.tick = os.sysconf("SC_CLK_TCK")

    def begin(self):
        self.t0, self.c0, self.b0 = time.perf_counter(), time.process_time(), _busy_jiffies()

    def end(self):
        wall, cpu = time.perf_counter() - self.t0, time.process_time() - self.c0
        busy = (_busy_jiffies() - self.b0) / self.tick
        others = max(0.0, busy - cpu) / (wall * THREADS)
        self.epochs.append({"wall": wall, "cpu": cpu, "others": round(others, 3)})


def _keras_probe(probe: EpochProbe):
    import keras

    class Probe(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            probe.begin()

        def on_epoch_end(self, epoch, logs=None):
            probe.end()

    return Probe()


def warmup_cosine(step: int, warmup_steps: int, total_steps: int) -> float:
    """The project's WarmupCosine (final fraction 0) for the PyTorch loop, in plain Python."""
    import math
    step += 1
    if step <= warmup_steps:
        return LR * step / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(total_steps - warmup_steps, 1))
    return LR * 0.5 * (1 + math.cos(math.pi * progress))


# ---------------------------------------------------------------- the engines

def run_ours(epochs: int, seed: int) -> dict:
    from cifar_mlp.config import RunConfig
    from cifar_mlp.core import training

    probe = EpochProbe()
    make_callbacks = training.make_callbacks
    training.make_callbacks = lambda *a: make_callbacks(*a) + [_keras_probe(probe)]
    config = RunConfig(batchnorm="before", dropout=DROPOUT, l2=L2, schedule="warmup_cosine",
                       epochs=epochs, widths=(WIDTH,) * DEPTH)
    record = training.train(config, seed)
    h = record["history"]
    # The project's own per-epoch `seconds` is the time we report.
    for e, s in zip(probe.epochs, h["seconds"]):
        e["wall"] = s
    return {"epochs": probe.epochs, "val_accuracy": h["val_accuracy"], "loss": h["loss"]}


def run_keras(epochs: int, seed: int) -> dict:
    """What a tutorial writes: a Sequential model and model.fit on NumPy arrays."""
    import keras

    from cifar_mlp.core import data

    split = data.load_split(5000, None, 0)
    keras.utils.set_random_seed(seed)
    l2 = keras.regularizers.L2(L2)
    layers = [keras.Input((data.INPUT_DIM,))]
    for _ in range(DEPTH):
        layers += [keras.layers.Dense(WIDTH, use_bias=False, kernel_regularizer=l2),
                   keras.layers.BatchNormalization(), keras.layers.ReLU(),
                   keras.layers.Dropout(DROPOUT)]
    layers.append(keras.layers.Dense(10, activation="softmax", kernel_regularizer=l2))
    model = keras.Sequential(layers)
    steps = -(-len(split.x_train) // BATCH)
    warmup = WARMUP_EPOCHS * steps
    schedule = keras.optimizers.schedules.CosineDecay(
        LR / warmup, decay_steps=(epochs - WARMUP_EPOCHS) * steps, warmup_target=LR,
        warmup_steps=warmup)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    probe = EpochProbe()
    history = model.fit(split.x_train, split.y_train, batch_size=BATCH, epochs=epochs,
                        validation_data=(split.x_val, split.y_val), callbacks=[_keras_probe(probe)],
                        verbose=0).history
    return {"epochs": probe.epochs, "val_accuracy": history["val_accuracy"], "loss": history["loss"]}


def run_torch(epochs: int, seed: int) -> dict:
    """The same model, initialization, L2, Adam and schedule as a plain PyTorch loop."""
    import numpy as np
    import torch
    from torch import nn

    from cifar_mlp.core import data

    torch.set_num_threads(THREADS)
    torch.manual_seed(seed)
    split = data.load_split(5000, None, 0)
    x, y, xv, yv = (torch.from_numpy(np.array(a)) for a in
                    (split.x_train, split.y_train, split.x_val, split.y_val))
    y, yv = y.long(), yv.long()
    layers, width_in = [], data.INPUT_DIM
    for _ in range(DEPTH):
        # Keras' BatchNormalization: epsilon 1e-3, moving average momentum 0.99.
        layers += [nn.Linear(width_in, WIDTH, bias=False), nn.BatchNorm1d(WIDTH, eps=1e-3, momentum=0.01),
                   nn.ReLU(), nn.Dropout(DROPOUT)]
        width_in = WIDTH
    layers.append(nn.Linear(width_in, 10))
    model = nn.Sequential(*layers)
    for m in model.modules():  # Keras' defaults: Glorot-uniform kernels, zero biases
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    kernels = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    others = [p for p in model.parameters() if all(p is not k for k in kernels)]
    # Adam's weight_decay adds wd·w to the gradient: the gradient of Keras' L2 penalty l2·Σw² is 2·l2·w.
    optimizer = torch.optim.Adam([{"params": kernels, "weight_decay": 2 * L2},
                                  {"params": others, "weight_decay": 0.0}], lr=LR, eps=1e-7)
    n = len(x)
    steps = -(-n // BATCH)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: warmup_cosine(s, WARMUP_EPOCHS * steps, epochs * steps) / LR)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    probe, losses, val_accuracy = EpochProbe(), [], []
    for _ in range(epochs):
        probe.begin()
        model.train()
        order = torch.randperm(n, generator=generator)
        total = torch.zeros(())
        for start in range(0, n, BATCH):
            idx = order[start:start + BATCH]
            xb, yb = x[idx], y[idx]
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.detach() * len(idx)
        model.eval()
        correct = 0
        with torch.inference_mode():
            for start in range(0, len(xv), 1000):
                correct += int((model(xv[start:start + 1000]).argmax(1) == yv[start:start + 1000]).sum())
        probe.end()
        losses.append(float(total) / n)
        val_accuracy.append(correct / len(xv))
    return {"epochs": probe.epochs, "val_accuracy": val_accuracy, "loss": losses}


def run_gemm(_epochs: int, _seed: int) -> dict:
    """Peak float32 GEMM throughput: best of several large square products, NumPy and PyTorch."""
    import numpy as np
    import torch

    torch.set_num_threads(THREADS)
    best = {}
    for n in (2048, 4096):
        a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
        b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        for name, f in (("numpy", lambda: a @ b), ("torch", lambda: ta @ tb)):
            f()
            times = []
            for _ in range(7):
                start = time.perf_counter()
                f()
                times.append(time.perf_counter() - start)
            best[f"{name}_{n}"] = 2 * n**3 / min(times) / 1e9
    return {"gflops": best}


RUNNERS = {"ours": run_ours, "keras": run_keras, "torch": run_torch, "gemm": run_gemm}


# ---------------------------------------------------------------- orchestration

def flop_per_epoch(n_train: int = 45000, n_val: int = 5000) -> dict:
    sizes = [3072] + [WIDTH] * DEPTH + [10]
    macs = sum(a * b for a, b in zip(sizes, sizes[1:]))
    first = sizes[0] * sizes[1]
    return {
        "macs_per_sample": macs,
        # forward + backward ≈ 3 × forward; validation is forward only.
        "flop": 3 * 2 * macs * n_train + 2 * macs * n_val,
        # Tighter: nothing needs the gradient with respect to the pixels, so the
        # first layer's backward is one product, not two.
        "flop_tight": (3 * 2 * macs - 2 * first) * n_train + 2 * macs * n_val,
    }


def last_json(command: list[str], what: str, **options) -> dict:
    """Run `python <command>` in a fresh process and return the last JSON line it prints."""
    done = subprocess.run([sys.executable, *command], capture_output=True, text=True, **options)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def engine(name: str, epochs: int, seed: int) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return last_json([__file__, "--engine", name, "--epochs", str(epochs), "--seed", str(seed)],
                     f"engine {name}", env=env)


def engine_pair(epochs: int, seed: int) -> dict:
    """Two runs of ours at once (seeds `seed` and `seed` + 10); per epoch, the pair's
    throughput: half the mean of their epoch times. Each run counts its twin as
    other load, so the pair has no quiet epochs to report."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as threads:
        a, b = threads.map(lambda s: engine("ours", epochs, s), (seed, seed + 10))
    pairs = zip(a["epochs"], b["epochs"])
    return {"epochs": [{"wall": (x["wall"] + y["wall"]) / 4, "cpu": (x["cpu"] + y["cpu"]) / 2,
                        "others": None} for x, y in pairs],
            "val_accuracy": [(x + y) / 2 for x, y in zip(a["val_accuracy"], b["val_accuracy"])],
            "peak_rss_mb": max(a["peak_rss_mb"], b["peak_rss_mb"])}


def summarize(runs: list[dict], epochs: int) -> dict:
    measured = [e for run in runs for e in run["epochs"][1:]]  # the first epoch warms up
    walls = sorted(e["wall"] for e in measured)
    quiet = [e["wall"] for e in measured if e["others"] is not None and e["others"] < QUIET]
    return {
        "seconds_per_epoch": statistics.median(walls),
        "seconds_min": walls[0], "seconds_max": walls[-1],
        "seconds_quiet": statistics.median(quiet) if quiet else None,
        "quiet_epochs": len(quiet), "measured_epochs": len(measured),
        "cpu_seconds_per_epoch": statistics.median(e["cpu"] for e in measured),
        "others_cpu_share": (statistics.median(e["others"] for e in measured)
                             if measured[0]["others"] is not None else None),
        "first_epoch_seconds": statistics.median(run["epochs"][0]["wall"] for run in runs),
        "val_accuracy": [run["val_accuracy"][-1] for run in runs],
        "val_accuracy_mean": statistics.mean(run["val_accuracy"][-1] for run in runs),
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        "epochs": epochs,
    }


def table(result: dict) -> str:
    s = result["engines"]
    floor = result["floor"]
    fmt = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    rows = ["| engine | s/epoch (median) | min–max | quiet median | CPU s/epoch | "
            "ours ÷ this | val acc (mean over seeds) | peak RSS (MB) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    ours = s["ours"]["seconds_per_epoch"]
    for name in (*ENGINES, PAIR):
        e = s[name]
        accs = ", ".join(f"{a:.3f}" for a in e["val_accuracy"])
        rows.append(f"| {name} | {e['seconds_per_epoch']:.2f} | {e['seconds_min']:.2f}–{e['seconds_max']:.2f} "
                    f"| {fmt(e['seconds_quiet'])} ({e['quiet_epochs']}/{e['measured_epochs']}) "
                    f"| {e['cpu_seconds_per_epoch']:.2f} | {ours / e['seconds_per_epoch']:.2f} "
                    f"| {e['val_accuracy_mean']:.3f} ({accs}) | {e['peak_rss_mb']:.0f} |")
    rows.append(f"| floor | {floor['seconds']:.2f} | | | | {ours / floor['seconds']:.2f} | | |")
    notes = [
        "",
        f"{result['rounds']} rounds × {result['epochs']} epochs per engine, engines in turn, seed = round; "
        "medians over every epoch but each run's first (tracing, compilation, warm caches).",
        f"Floor: {floor['flop'] / 1e9:.1f} GFLOP per epoch (3 × 2 × {floor['macs_per_sample']:,} MACs × 45,000 "
        f"+ 2 × MACs × 5,000) ÷ {floor['gflops']:.0f} GFLOP/s (best float32 GEMM here, "
        f"{floor['gemm_source']}). Counting that no gradient is needed for the pixels, an epoch is "
        f"{floor['flop_tight'] / 1e9:.1f} GFLOP ({floor['seconds_tight']:.2f} s).",
        "quiet median: epochs when other processes used < 10% of the CPUs (count in brackets); "
        "CPU s/epoch: this process's user + system time per epoch (2 cores: ideal wall = CPU / 2).",
        f"{PAIR}: two runs of ours side by side, as the study's sweeps train (two workers); "
        "s/epoch is the pair's throughput, half the mean epoch time of each; CPU s/epoch per run.",
        f"Machine: {result['machine']}. Command: `{result['command']}`.",
    ]
    return "\n".join(rows + notes) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=sorted(RUNNERS))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", choices=(*ENGINES, "pair"), default=[*ENGINES, "pair"])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    if args.engine:  # child: one engine, one JSON line
        out = RUNNERS[args.engine](args.epochs, args.seed)
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return

    if args.epochs <= WARMUP_EPOCHS:
        parser.error(f"--epochs must exceed the {WARMUP_EPOCHS} warmup epochs")
    gemm = [engine("gemm", 0, 0)["gflops"]]
    runs = {name: [] for name in args.only}
    for r in range(args.rounds):
        order = args.only[r % len(args.only):] + args.only[:r % len(args.only)]
        for name in order:
            run = engine_pair(args.epochs, r) if name == "pair" else engine(name, args.epochs, r)
            runs[name].append(run)
            walls = ", ".join(f"{e['wall']:.2f}" for e in run["epochs"])
            print(f"round {r + 1}/{args.rounds} {name}: s/epoch [{walls}] "
                  f"val_acc {run['val_accuracy'][-1]:.3f}", flush=True)
    gemm.append(engine("gemm", 0, 0)["gflops"])
    from cifar_mlp.report.build import cpu_model
    best_source, gflops = max(((k, v) for g in gemm for k, v in g.items()), key=lambda kv: kv[1])
    floor = {**flop_per_epoch(), "gflops": gflops, "gemm_source": best_source.replace("_", " ")}
    floor["seconds"] = floor["flop"] / (gflops * 1e9)
    floor["seconds_tight"] = floor["flop_tight"] / (gflops * 1e9)
    result = {
        "epochs": args.epochs, "rounds": args.rounds, "floor": floor, "gemm_runs": gemm,
        "engines": {PAIR if name == "pair" else name: summarize(r, args.epochs)
                    for name, r in runs.items()},
        "runs": runs,
        "machine": f"{cpu_model()} ({platform.machine()}), {THREADS} cores, "
                   f"Python {platform.python_version()}",
        "command": "make bench  # = python benchmarks/bench.py "
                   f"--epochs {args.epochs} --rounds {args.rounds}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    if set(args.only) == {*ENGINES, "pair"}:
        e = result["engines"]
        ours = e["ours"]["seconds_per_epoch"]
        result["ratios"] = {"ours/torch": ours / e["torch"]["seconds_per_epoch"],
                            "ours/keras": ours / e["keras"]["seconds_per_epoch"],
                            "ours/floor": ours / floor["seconds"],
                            "pair/ours": e[PAIR]["seconds_per_epoch"] / ours}
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench.json").write_text(json.dumps(result, indent=1) + "\n")
        md = "# Seconds per epoch of the recipe MLP\n\n" + table(result)
        (args.out / "bench.md").write_text(md)
        print(md)
    else:
        print(json.dumps(result["engines"], indent=1))


if __name__ == "__main__":
    main()
