"""A/B timing of training-path variants of the recipe MLP, interleaved and repeated.

Each variant runs in its own subprocess, the variants take turns for
`--rounds` rounds, and every epoch records how busy the rest of the machine
was (see bench.py), so a slow spell caused by a colleague's job lands on all
variants alike and shows up in the `others` column.

    python benchmarks/ab.py --rounds 3 before=rev:c4f76a1 graph=ours:jit=0 xla=ours

Variants are NAME=KIND[:KEY=VALUE,...]:

    ours              cifar_mlp.core.training.train as it is now; keys jit=0|1 (XLA),
                      intra=N, inter=N (TensorFlow thread pools), tensorboard=1
                      (write TensorBoard logs as sweeps do)
    torch, keras      bench.py's plain PyTorch loop or plain model.fit, as a yardstick
    any kind          env.NAME=VALUE sets an environment variable before TensorFlow
                      loads, e.g. env.TF_ENABLE_ONEDNN_OPTS=0
    rev:REV           train() from src/cifar_mlp/training.py at git revision REV
    fit               model.fit on in-memory tensors (Keras' shuffled index gather);
                      keys spe=N|epoch (steps_per_execution), jit=0|1
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _options(spec: str) -> tuple[str, dict]:
    kind, _, rest = spec.partition(":")
    if kind == "rev":
        return kind, {"rev": rest}
    return kind, dict(kv.split("=", 1) for kv in rest.split(",") if kv)


def _threads(opts: dict) -> None:
    import tensorflow as tf
    if "intra" in opts:
        tf.config.threading.set_intra_op_parallelism_threads(int(opts["intra"]))
    if "inter" in opts:
        tf.config.threading.set_inter_op_parallelism_threads(int(opts["inter"]))


def _training_from(rev: str):
    """cifar_mlp.core.training as it was at `rev`, in place of today's."""
    import cifar_mlp
    source = subprocess.check_output(["git", "show", f"{rev}:src/cifar_mlp/training.py"], cwd=ROOT)
    module = types.ModuleType("cifar_mlp.core.training")
    module.__file__ = f"<cifar_mlp/training.py at {rev}>"
    sys.modules["cifar_mlp.core.training"] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    cifar_mlp.core.training = module
    return module


def run_variant(spec: str, epochs: int, seed: int) -> dict:
    import os
    kind, opts = _options(spec)
    os.environ.update({k[4:]: v for k, v in opts.items() if k.startswith("env.")})
    _threads(opts)
    if kind in ("torch", "keras"):
        return bench.RUNNERS[kind](epochs, seed)
    if kind == "fit":
        return _run_fit(opts, epochs, seed)
    if kind == "rev":
        _training_from(opts["rev"])
    from cifar_mlp.core import training
    if "jit" in opts:
        os.environ["CIFAR_MLP_JIT"] = opts["jit"]  # read by training at each run
        if hasattr(training, "JIT_COMPILE"):  # a rev: from before CIFAR_MLP_JIT
            training.JIT_COMPILE = opts["jit"] == "1"
    if opts.get("tensorboard") == "1":
        run_dir = Path(tempfile.mkdtemp(prefix="ab-run-"))
        train = training.train
        training.train = lambda config, seed: train(config, seed, run_dir)
    return bench.run_ours(epochs, seed)


def _run_fit(opts: dict, epochs: int, seed: int) -> dict:
    from cifar_mlp.config import RunConfig
    from cifar_mlp.core import training
    from cifar_mlp.core.backend import keras
    from cifar_mlp.core.models import build_model

    config = RunConfig(batchnorm="before", dropout=bench.DROPOUT, l2=bench.L2,
                       schedule="warmup_cosine", epochs=epochs)
    keras.utils.set_random_seed(seed)
    x, y, x_val, y_val = training._tensors(None, 5000, 0)
    steps = -(-int(x.shape[0]) // bench.BATCH)
    model = build_model(config)
    training.compile_model(model, config, steps)
    spe = steps if opts.get("spe") == "epoch" else int(opts.get("spe", 32))
    model.compile(optimizer=model.optimizer, loss=model.loss,  # as compile_model, but spe and jit
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                           keras.metrics.SparseTopKCategoricalAccuracy(5, name="top5")],
                  steps_per_execution=spe, jit_compile=opts.get("jit") == "1")
    probe = bench.EpochProbe()
    h = model.fit(x, y, batch_size=bench.BATCH, epochs=epochs, validation_data=(x_val, y_val),
                  validation_batch_size=training.EVAL_BATCH, callbacks=[bench._keras_probe(probe)],
                  verbose=0).history
    return {"epochs": probe.epochs, "val_accuracy": h["val_accuracy"], "loss": h["loss"]}


def child(spec: str, epochs: int, seed: int) -> dict:
    return bench.last_json([__file__, "--child", spec, "--epochs", str(epochs), "--seed", str(seed)],
                           f"variant {spec}", cwd=ROOT)


def table(result: dict) -> str:
    rows = ["| variant | spec | s/epoch (median) | p25–p75 | quiet median | CPU s/epoch | "
            "others' CPU share | first epoch (s) | val acc | peak RSS (MB) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, s in result["variants"].items():
        quiet = "–" if s["seconds_quiet"] is None else f"{s['seconds_quiet']:.2f}"
        rows.append(f"| {name} | `{s['spec']}` | {s['seconds_per_epoch']:.2f} | {s['p25']:.2f}–{s['p75']:.2f} "
                    f"| {quiet} ({s['quiet_epochs']}/{s['measured_epochs']}) "
                    f"| {s['cpu_seconds_per_epoch']:.2f} | {s['others_cpu_share']:.0%} "
                    f"| {s['first_epoch_seconds']:.1f} | {s['val_accuracy_mean']:.3f} | {s['peak_rss_mb']:.0f} |")
    return "\n".join(rows) + (
        f"\n\n{result['rounds']} rounds × {result['epochs']} epochs, variants in turn (seed = round); "
        "medians over every epoch but each run's first. "
        f"{result['date']}. Command: `{result['command']}`.\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("variants", nargs="*", help="NAME=KIND[:KEY=VALUE,...]")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=bench.OUT_DIR / "ab")
    args = parser.parse_args(argv)
    if args.child:
        import resource
        out = run_variant(args.child, args.epochs, args.seed)
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return

    specs = dict(v.split("=", 1) for v in args.variants)
    runs = {name: [] for name in specs}
    for r in range(args.rounds):
        names = list(specs)
        names = names[r % len(names):] + names[:r % len(names)]
        for name in names:
            run = child(specs[name], args.epochs, r)
            runs[name].append(run)
            walls = ", ".join(f"{e['wall']:.2f}" for e in run["epochs"])
            others = ", ".join(f"{e['others']:.0%}" for e in run["epochs"])
            print(f"round {r + 1}/{args.rounds} {name}: s/epoch [{walls}] others [{others}]", flush=True)
    variants = {}
    for name, rs in runs.items():
        s = bench.summarize(rs, args.epochs)
        walls = [e["wall"] for run in rs for e in run["epochs"][1:]]
        q = statistics.quantiles(walls, n=4) if len(walls) > 1 else [walls[0]] * 3
        variants[name] = {**s, "spec": specs[name], "p25": q[0], "p75": q[2]}
    result = {"epochs": args.epochs, "rounds": args.rounds, "variants": variants, "runs": runs,
              "date": time.strftime("%Y-%m-%d %H:%M"),
              "command": "python benchmarks/ab.py " + " ".join(
                  [f"--epochs {args.epochs} --rounds {args.rounds}"] + args.variants)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{args.out}.json").write_text(json.dumps(result, indent=1) + "\n")
    md = table(result)
    Path(f"{args.out}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
