"""In-process A/B of the training step: variants take turns every few dozen steps.

Finer than ab.py: all variants live in one process and alternate chunks of
`--chunk` steps for `--seconds`, so a colleague's job slows them alike. Use it
for differences too small for whole runs to resolve.

    python benchmarks/step_ab.py graph xla graph_bf16 xla_bf16 --metrics accuracy

Variants: graph, xla (the epoch loop with CIFAR_MLP_JIT=0 / 1),
and either with a suffix: _bf16 (Keras' mixed_bfloat16 policy), _nodrop
(dropout 0), _nol2 (no L2). The model is the recipe MLP on the real split.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "results" / "step_ab.md"
RECIPE = dict(batchnorm="before", dropout=0.1, l2=5e-5, schedule="warmup_cosine", epochs=30)


def make_variant(name: str, metrics: str, x, y):
    from cifar_mlp.config import RunConfig
    from cifar_mlp.core import training
    from cifar_mlp.core.backend import keras
    from cifar_mlp.core.models import build_model

    base, *suffix = name.split("_")
    changes = {"nodrop": {"dropout": 0.0}, "nol2": {"l2": 0.0}}.get(suffix[0] if suffix else "", {})
    config = RunConfig(**{**RECIPE, **changes})
    keras.utils.set_random_seed(0)
    keras.config.set_dtype_policy("mixed_bfloat16" if suffix == ["bf16"] else "float32")
    model = build_model(config)
    keras.config.set_dtype_policy("float32")
    training.compile_model(model, config, 352)
    if metrics == "accuracy":  # bfloat16 predictions do not fit in_top_k (the top-5 metric)
        model.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"])
    loops = training.CompiledLoops(model, config, 0, jit=base == "xla")
    loops.build(x, y)
    return loops


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--chunk", type=int, default=48, help="steps per timed call")
    parser.add_argument("--metrics", choices=["recipe", "accuracy"], default="recipe")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    from cifar_mlp.core import training
    from cifar_mlp.core.backend import tf

    x, y, _, _ = training._tensors(None, 5000, 0)
    loops = {name: make_variant(name, args.metrics, x, y) for name in args.variants}
    rng = np.random.default_rng(0)

    def chunk():
        order = rng.permutation(int(x.shape[0]))[:args.chunk * 128].astype(np.int32)
        return tf.constant(order.reshape(args.chunk, 128))

    for lp in loops.values():  # trace, compile, warm up
        lp._train(x, y, chunk(), None)
        lp._train(x, y, chunk(), None)
    times = {name: [] for name in loops}
    end = time.time() + args.seconds
    while time.time() < end:
        for name in random.sample(list(loops), len(loops)):
            batches = chunk()
            start = time.perf_counter()
            float(loops[name]._train(x, y, batches, None)["loss"])
            times[name].append((time.perf_counter() - start) / args.chunk * 1e3)

    first = statistics.median(times[args.variants[0]])
    rows = ["| variant | ms/step (median) | p25–p75 | min | ÷ " + args.variants[0] + " | chunks |",
            "|---|---:|---:|---:|---:|---:|"]
    for name, ts in times.items():
        q = statistics.quantiles(ts, n=4)
        rows.append(f"| {name} | {statistics.median(ts):.2f} | {q[0]:.2f}–{q[2]:.2f} | {min(ts):.2f} "
                    f"| {statistics.median(ts) / first:.3f} | {len(ts)} |")
    md = "\n".join(rows) + (
        f"\n\n{args.chunk} steps of batch 128 per timed call, variants in random turn for "
        f"{args.seconds:.0f} s, metrics: {args.metrics}. {time.strftime('%Y-%m-%d %H:%M')}. Command: "
        f"`python benchmarks/step_ab.py {' '.join(args.variants)} --metrics {args.metrics}`.\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(md)
    print(md)


if __name__ == "__main__":
    main()
