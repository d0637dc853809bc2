"""Optimizers, schedules, callbacks and `train(config, seed) -> record`.

Keras' own classes do the work; this module only wires them to a RunConfig
and keeps the data in memory once per process so runs start at once.
"""

from __future__ import annotations

import math
import os
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from cifar_mlp import optimizers, paths
from cifar_mlp.config import ConfigError, RunConfig
from cifar_mlp.core import data, keras_private
from cifar_mlp.core.backend import keras, tf
from cifar_mlp.core.environment import capture as capture_environment
from cifar_mlp.core.models import build_model
from cifar_mlp.core.tables import lookup

# Batches per compiled call when the returned model's own evaluate/predict run.
STEPS_PER_EXECUTION = 32
EVAL_BATCH = 1000  # evaluation has no gradients, so bigger batches are cheaper


# ---------------------------------------------------------------- optimizers and schedules

class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from lr/warmup_steps to lr, then cosine decay (Keras lacks the pair)."""

    def __init__(self, lr, warmup_steps, total_steps, final_fraction=0.0):
        self.lr, self.warmup_steps = lr, warmup_steps
        self.total_steps, self.final_fraction = total_steps, final_fraction

    def __call__(self, step):
        step = tf.cast(step, tf.float32) + 1.0
        warm = self.lr * step / max(self.warmup_steps, 1)
        progress = (step - self.warmup_steps) / max(self.total_steps - self.warmup_steps, 1)
        cosine = 0.5 * (1 + tf.cos(math.pi * tf.clip_by_value(progress, 0.0, 1.0)))
        decayed = self.lr * (self.final_fraction + (1 - self.final_fraction) * cosine)
        return tf.where(step <= self.warmup_steps, warm, decayed)

    def get_config(self):
        return dict(lr=self.lr, warmup_steps=self.warmup_steps,
                    total_steps=self.total_steps, final_fraction=self.final_fraction)


def _constant(config: RunConfig, steps_per_epoch: int):
    return config.lr


def _step(config: RunConfig, steps_per_epoch: int):
    return keras.optimizers.schedules.ExponentialDecay(
        config.lr, decay_steps=config.step_epochs * steps_per_epoch,
        decay_rate=config.step_factor, staircase=True)


def _cosine(config: RunConfig, steps_per_epoch: int):
    return keras.optimizers.schedules.CosineDecay(
        config.lr, decay_steps=config.epochs * steps_per_epoch, alpha=config.final_lr_fraction)


def _warmup_cosine(config: RunConfig, steps_per_epoch: int):
    return WarmupCosine(config.lr, config.warmup_epochs * steps_per_epoch,
                        config.epochs * steps_per_epoch, config.final_lr_fraction)


# config.schedule → the learning rate per step, from the config and the steps in an epoch.
SCHEDULES = {"constant": _constant, "step": _step, "cosine": _cosine, "warmup_cosine": _warmup_cosine}


def make_schedule(config: RunConfig, steps_per_epoch: int):
    return lookup(SCHEDULES, config.schedule, "schedule")(config, steps_per_epoch)


def make_optimizer(config: RunConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The Keras optimizer `optimizers.OPTIMIZERS` names, with the config's own keys for it."""
    spec = lookup(optimizers.OPTIMIZERS, config.optimizer, "optimizer")
    return getattr(keras.optimizers, spec.keras)(
        learning_rate=make_schedule(config, steps_per_epoch), clipnorm=config.clipnorm,
        **{key: getattr(config, key) for key in spec.keys})


# ---------------------------------------------------------------- callbacks

class EpochLog(keras.callbacks.Callback):
    """Add the learning rate each epoch starts with and its wall seconds to the history."""

    def on_epoch_begin(self, epoch, logs=None):
        self.lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs["lr"] = self.lr
        logs["seconds"] = time.perf_counter() - self.start


class Progress(keras.callbacks.Callback):
    """One short line every few epochs instead of Keras' per-batch progress bar."""

    def __init__(self, every: int, prefix: str = ""):
        super().__init__()
        self.every, self.prefix = every, prefix

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            print(f"{self.prefix}epoch {epoch + 1}: loss {logs['loss']:.3f} "
                  f"acc {logs['accuracy']:.3f} val_acc {logs['val_accuracy']:.3f}", flush=True)


def make_callbacks(config: RunConfig, run_dir: Path | None) -> list[keras.callbacks.Callback]:
    callbacks = [EpochLog(), keras.callbacks.TerminateOnNaN()]
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=config.es_monitor, patience=config.es_patience,
            restore_best_weights=config.es_restore_best, mode=_mode(config.es_monitor)))
    if config.reduce_lr:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor=config.rlr_monitor, factor=config.rlr_factor, patience=config.rlr_patience,
            min_lr=config.rlr_min_lr, mode=_mode(config.rlr_monitor)))
    if run_dir is not None:
        if config.checkpoint:
            callbacks.append(keras.callbacks.ModelCheckpoint(
                run_dir / paths.CHECKPOINT, monitor=config.ckpt_monitor,
                mode=_mode(config.ckpt_monitor), save_best_only=True, save_weights_only=True))
        callbacks.append(keras.callbacks.TensorBoard(
            run_dir / "tensorboard", histogram_freq=int(config.histograms),
            write_graph=False, profile_batch=0))
    return callbacks


def _mode(monitor: str) -> str:
    return "max" if monitor.endswith("accuracy") else "min"


# ---------------------------------------------------------------- data pipeline

@lru_cache(maxsize=2)
def _tensors(train_size, val_size, split_seed):
    """The split as tensors, made once per process and shared by every run.

    Pixels stay uint8 (0.14 GB for 45,000 images, not 0.55 GB as float32, and
    no NumPy copy is kept); each batch is scaled as the step gathers it.
    """
    split = data.make_split(val_size, train_size, split_seed, scaled=False)
    return _as_tensors(split.x_train, split.y_train, split.x_val, split.y_val)


@lru_cache(maxsize=1)
def _test_tensors():
    """The test set as uint8 tensors, made once per process, for runs with `test=True`."""
    return _as_tensors(*data.load_test(scaled=False))


def _as_tensors(*arrays):
    tensors = tuple(tf.constant(a) for a in arrays)
    # Once the tensors exist, the 180 MB of raw arrays `load_cifar10` caches, and the
    # test set's NumPy copy, are not needed again in this process (reading them back
    # takes 0.3 s); two workers kept them.
    data.load_cifar10.cache_clear()
    data.load_test.cache_clear()
    return tensors


# What `data.scale` makes of each of the 256 pixel values. Looking them up gives
# its exact bits; TensorFlow's own x / 127.5 - 1 is off by one ulp for some values.
PIXEL_VALUES = data.scale(np.arange(256, dtype=np.uint8)[:, None]).ravel()


def pixels(x):
    """Model inputs from stored pixels: uint8 looked up as `data.scale` scales them;
    inputs that are already float pass through."""
    if x.dtype != tf.uint8:
        return x
    return tf.gather(tf.constant(PIXEL_VALUES), tf.cast(x, tf.int32))


SHIFT = 4  # pixels: the usual CIFAR crop of a 4-pixel padded image


def _flip(images, seed=None):
    """Mirror each image left-right, each with its own coin."""
    return (tf.image.random_flip_left_right(images) if seed is None
            else tf.image.stateless_random_flip_left_right(images, seed))


def _shift(images, seed=None):
    """Move each image by its own (dy, dx) in [-SHIFT, SHIFT], reflecting at the border.

    tf.image's random crop takes one offset for the whole batch; two batched
    gathers from the padded images give every image its own window.
    """
    n = tf.shape(images)[0]
    padded = tf.pad(images, [[0, 0], [SHIFT, SHIFT], [SHIFT, SHIFT], [0, 0]], mode="REFLECT")
    shape, span = (n, 2), 2 * SHIFT + 1
    offsets = (tf.random.uniform(shape, 0, span, tf.int32) if seed is None
               else tf.random.stateless_uniform(shape, seed, 0, span, tf.int32, alg="philox"))
    window = tf.range(32)[None, :]
    rows, cols = offsets[:, :1] + window, offsets[:, 1:] + window  # (n, 32) each
    images = tf.gather(padded, rows, axis=1, batch_dims=1)  # (n, 32, 40, 3)
    return tf.gather(images, cols, axis=2, batch_dims=1)  # (n, 32, 32, 3)


# config.augment → the transforms each training batch goes through, in order.
AUGMENTATIONS = {"none": (), "flip": (_flip,), "flip_shift": (_flip, _shift)}
# Each step's seed is split in two, one per transform; "flip" alone uses the
# first, as the stored runs did. A third transform needs a wider split.
SEEDS_PER_STEP = 2


def augment(x, kind: str, seed=None):
    """Random horizontal flips (and shifts of up to SHIFT pixels) on flat images.

    Each image gets its own flip and its own shift. With a `seed` (a pair of
    integers) the same draws come out every time, in a graph or under XLA.
    """
    transforms = lookup(AUGMENTATIONS, kind, "augmentation")
    if not transforms:
        return x
    images = tf.reshape(x, (-1, 32, 32, 3))
    seeds = ((None,) * SEEDS_PER_STEP if seed is None
             else tf.unstack(tf.random.experimental.stateless_split(seed, SEEDS_PER_STEP)))
    for transform, transform_seed in zip(transforms, seeds):
        images = transform(images, transform_seed)
    return tf.reshape(images, (-1, data.INPUT_DIM))


# ---------------------------------------------------------------- the epoch loop
#
# Why not model.fit on a tf.data pipeline: on the study's 2-core CPU a step of
# the 3×128 MLP is ~3 ms, and model.fit spent about as much again around it:
# a shuffle buffer of 45,000 single images refilled every epoch, an iterator
# and a Python round trip every 32 steps. Here the split stays in memory as
# tensors, each epoch draws a shuffled index in NumPy, and one tf.function
# loops over the whole epoch, gathering each batch and calling Keras' own
# train_step (evaluation likewise, with test_step). Model, optimizer, loss,
# metrics and callbacks are Keras' own, so the losses are model.fit's on the
# same batches (tests/test_fast_path.py). Measured, interleaved with the old
# path: ~0.6× its seconds per epoch (benchmarks/results/ab.md, bench.md).

# XLA compiles the epoch loop into one program: it fuses a step's small ops
# and dispatches far fewer of them, though its product for the first layer's
# weight gradient takes about twice oneDNN's time, and dropout's random
# numbers and the L2 sum cost it about a tenth of a step each (profiled; the
# random numbers only with models.Dropout's generator: Keras' own choice
# made dropout on the 3,072 inputs 30× slower under XLA).
# Against the same loop as a plain graph it was a few percent faster, with
# less spread, in 3 of 4 interleaved comparisons (benchmarks/results/
# ab_xla_torch.md, ab_xla.md, ab_onednn.md; ab.md the exception), and its
# compile time is no longer than the graph's tracing.
# Handing XLA's products to a library (XLA_FLAGS --xla_cpu_use_onednn, or the
# XNNPACK/YNNPACK dot fusions) gave the same bits, and on the AMD CPU the same
# speed within noise (benchmarks/results/ab_xla_libraries.md), so none is set.
# CIFAR_MLP_JIT=0 trains with the plain graph instead (benchmarks compare the two).
JIT_VARIABLE = "CIFAR_MLP_JIT"


def jit_compile(config: RunConfig) -> bool:
    """Whether a run's loops compile with XLA: yes, unless $CIFAR_MLP_JIT=0 or the model has convs.

    Read at each run, so a benchmark or a test can switch it for the runs it starts.
    """
    value = os.environ.get(JIT_VARIABLE, "1")
    if value not in ("0", "1"):
        raise ConfigError(f"{JIT_VARIABLE}={value!r} is not allowed: 1 (XLA, the default) or 0 "
                          "(a plain TensorFlow graph).")
    # XLA on this CPU lowers convolutions to slow generic loops: the 32-64-128
    # CNN had not finished one epoch on 4,500 images in 10 minutes. A plain
    # graph runs them with oneDNN.
    return value == "1" and not config.filters


def _batches(order: np.ndarray, batch_size: int) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Indices as [full batches × batch_size], and the partial last batch (None if there is none).

    The last batch keeps its own size, as in model.fit: padding it would
    change BatchNorm's batch statistics.
    """
    order = order.astype(np.int32)
    if len(order) <= batch_size:  # XLA cannot compile a slice of an empty [0 × batch_size]
        return tf.constant(order[None, :]), None
    full = len(order) // batch_size * batch_size
    tail = tf.constant(order[full:]) if full < len(order) else None
    return tf.constant(order[:full].reshape(-1, batch_size)), tail


class CompiledLoops:
    """A model's training epoch and evaluation, each one compiled call over in-memory tensors."""

    def __init__(self, model: keras.Model, config: RunConfig, seed: int, jit: bool | None = None):
        self.model, self.config = model, config
        if jit is None:
            jit = jit_compile(config)
        kind, seed = config.augment, tf.constant(seed, tf.int64)
        augmented = bool(lookup(AUGMENTATIONS, kind, "augmentation"))

        def targets(y):
            # Label smoothing needs one-hot targets; plain sparse labels are cheaper otherwise.
            return tf.one_hot(y, data.NUM_CLASSES) if config.label_smoothing else y

        def train_step(x, y, index):
            x_batch = pixels(tf.gather(x, index))
            if augmented:  # a new draw every step, the same for the same seed
                step = model.optimizer.iterations.value
                x_batch = augment(x_batch, kind, seed=tf.stack([seed, step]))
            model.train_step((x_batch, targets(tf.gather(y, index))))

        def test_step(x, y, index):
            model.test_step((pixels(tf.gather(x, index)), targets(tf.gather(y, index))))

        def loop(step, jit):
            # One program for the full batches and the partial one: one compilation, one call.
            def run(x, y, batches, tail):
                for i in tf.range(tf.shape(batches)[0]):
                    step(x, y, batches[i])
                if tail is not None:
                    step(x, y, tail)
                return model.get_metrics_result()
            return tf.function(run, jit_compile=jit)

        # Evaluation too: on the Intel CPU of these machines XLA takes 17.5 ms for the
        # 5,000 validation images against 45.6 ms as a plain graph, for ~0.15 s more
        # to compile: it pays after six epochs. (On an AMD CPU it saved only ~5 ms.)
        self._train, self._test = loop(train_step, jit), loop(test_step, jit)

    def build(self, x, y):
        """Create the optimizer's and metrics' variables now, not inside the compiled loop."""
        batch = (pixels(x[:1]), tf.one_hot(y[:1], data.NUM_CLASSES) if self.config.label_smoothing else y[:1])
        keras_private.build_for_training(self.model, batch)

    def train_epoch(self, x, y, order: np.ndarray) -> dict:
        """One pass over x[order] in batches; the epoch's mean loss and metrics."""
        logs = self._train(x, y, *_batches(order, self.config.batch_size))
        return {k: float(v) for k, v in logs.items()}

    def evaluate(self, x, y) -> dict:
        self.model.reset_metrics()
        logs = self._test(x, y, *_batches(np.arange(int(x.shape[0])), EVAL_BATCH))
        return {k: float(v) for k, v in logs.items()}


def fit(loops: CompiledLoops, seed: int, train_data, val_data,
        callbacks: list[keras.callbacks.Callback]) -> keras.callbacks.History:
    """Keras' fit loop (callbacks, history, stop_training) around one compiled call per epoch.

    Callbacks see what model.fit shows them with steps_per_execution equal to
    the epoch: one batch-end per epoch, carrying the epoch's running metrics.
    `seed` shuffles the training set anew every epoch.
    """
    model, config = loops.model, loops.config
    (x, y), (x_val, y_val) = train_data, val_data
    loops.build(x, y)
    n = int(x.shape[0])
    steps = math.ceil(n / config.batch_size)
    callbacks = keras.callbacks.CallbackList(callbacks, add_history=True, model=model,
                                             epochs=config.epochs, steps=steps, verbose=0)
    shuffle = np.random.default_rng(seed)
    model.stop_training = False
    callbacks.on_train_begin()
    logs = {}
    for epoch in range(config.epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        callbacks.on_train_batch_begin(0)
        logs = loops.train_epoch(x, y, shuffle.permutation(n))
        callbacks.on_train_batch_end(steps - 1, logs)
        callbacks.on_test_begin()
        val_logs = loops.evaluate(x_val, y_val)
        callbacks.on_test_end(val_logs)
        logs = {**logs, **{f"val_{k}": v for k, v in val_logs.items()}}
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    model.optimizer.finalize_variable_values(model.trainable_weights)
    callbacks.on_train_end(logs)
    return model.history


# ---------------------------------------------------------------- train

def compile_model(model: keras.Model, config: RunConfig, steps_per_epoch: int) -> None:
    if config.label_smoothing:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
        metrics = [keras.metrics.CategoricalAccuracy(name="accuracy"),
                   keras.metrics.TopKCategoricalAccuracy(5, name="top5")]
    else:
        loss = keras.losses.SparseCategoricalCrossentropy()
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                   keras.metrics.SparseTopKCategoricalAccuracy(5, name="top5")]
    model.compile(optimizer=make_optimizer(config, steps_per_epoch), loss=loss, metrics=metrics,
                  steps_per_execution=min(STEPS_PER_EXECUTION, steps_per_epoch))


# Two evaluations of one model's weights on the 5,000 validation images: at most a few
# images apart (an image is 2e-4), from the order of floating-point sums alone.
SAME_MODEL_TOLERANCE = 2e-3


def train(config: RunConfig, seed: int, run_dir: Path | None = None,
          progress_every: int = 0) -> dict:
    """Train one run and return its record: history per epoch, final metrics, the
    final model's predicted class per validation image (and test image with `config.test`),
    and the environment it trained in (`environment.capture`, taken as it starts).

    `run_dir` receives TensorBoard logs and checkpoints (nothing is written
    without it). The test set is touched only if `config.test` is set.
    """
    environment = capture_environment()
    keras.utils.set_random_seed(seed)
    x_train, y_train, x_val, y_val = _tensors(config.train_size, config.val_size, config.split_seed)
    steps = math.ceil(int(x_train.shape[0]) / config.batch_size)
    with keras_private.own_seed_generator(seed):
        model = build_model(config)
    compile_model(model, config, steps)
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
    callbacks = make_callbacks(config, run_dir)
    if progress_every:
        callbacks.append(Progress(progress_every))
    start = time.perf_counter()
    loops = CompiledLoops(model, config, seed)
    fitted = fit(loops, seed, (x_train, y_train), (x_val, y_val), callbacks)
    wall = time.perf_counter() - start
    history = {k: [float(v) for v in vs] for k, vs in fitted.history.items()}
    history.setdefault("learning_rate", None)
    history.pop("learning_rate")  # ReduceLROnPlateau's copy of "lr"
    epochs_run = len(history["loss"])
    diverged = not all(math.isfinite(v) for v in history["loss"])

    metrics = {"status": "diverged" if diverged else "ok", "epochs_run": epochs_run,
               "params": model.count_params(), "wall_seconds": wall,
               "seconds_per_epoch": float(np.median(history["seconds"])),
               "train_accuracy": history["accuracy"][-1], "train_loss": history["loss"][-1]}
    val_acc = np.nan_to_num(history["val_accuracy"], nan=-1.0)
    metrics["best_epoch"] = int(np.argmax(val_acc)) + 1
    metrics["best_val_accuracy"] = float(val_acc.max())
    metrics["last_val_accuracy"] = history["val_accuracy"][-1]
    predictions = {}
    if not diverged:
        if config.checkpoint and run_dir is not None and (run_dir / paths.CHECKPOINT).exists():
            model.load_weights(run_dir / paths.CHECKPOINT)
        # The final model: last epoch, or the best one if a callback restored it.
        final, predictions = _score_final(loops, config, (x_val, y_val), (x_train, y_train))
        metrics.update(final)
    return {"history": history, "metrics": metrics, "model": model, "predictions": predictions,
            "environment": environment}


def score_checkpoint(config: RunConfig, seed: int, weights: Path,
                     val_accuracy: float) -> dict | None:
    """The final model of a run already trained, scored from its best-epoch checkpoint
    without training it again: validation metrics and, with `config.test`, the test set's,
    with the predicted class per image of each. None if the weights do not give the
    validation accuracy the run's record holds (`val_accuracy`), or do not load: not
    that run's file.
    """
    keras.utils.set_random_seed(seed)
    x_train, y_train, x_val, y_val = _tensors(config.train_size, config.val_size, config.split_seed)
    with keras_private.own_seed_generator(seed):
        model = build_model(config)
    compile_model(model, config, math.ceil(int(x_train.shape[0]) / config.batch_size))
    loops = CompiledLoops(model, config, seed)
    loops.build(x_val, y_val)  # the optimizer's variables too: the file holds them
    try:
        model.load_weights(weights)
    except (ValueError, OSError):  # another model's file, or half of one
        return None
    metrics, predictions = _score_final(loops, config, (x_val, y_val), (x_train, y_train))
    if abs(metrics["val_accuracy"] - val_accuracy) > SAME_MODEL_TOLERANCE:
        return None
    return {"metrics": metrics, "predictions": predictions}


def _score_final(loops: CompiledLoops, config: RunConfig, val, train=None) -> tuple[dict, dict]:
    """The final model's metrics and predicted classes on validation, and on test with
    `config.test`; with `config.evaluate_train`, its metrics on the training split too
    ("train_evaluated_accuracy": dropout off, unaugmented, unlike the epochs' running one)."""
    metrics, predictions = {}, {}
    sets = {"val": val, **({"test": _test_tensors()} if config.test else {})}
    for name, (x, y) in sets.items():
        metrics.update(_evaluate(loops, x, y, name))
        predictions[name] = predict(loops.model, x)
    if config.evaluate_train and train is not None:
        metrics.update(_evaluate(loops, *train, "train_evaluated"))
    return metrics, predictions


def _evaluate(loops: CompiledLoops, x, y, prefix: str) -> dict:
    values = loops.evaluate(x, y)
    # The evaluated loss includes the L2 penalty; accuracy is what we compare.
    return {f"{prefix}_{k}": v for k, v in values.items()}


def predict(model: keras.Model, x) -> np.ndarray:
    """The class the final model predicts for each image (uint8): what every figure
    of a model's errors, and every per-image comparison of two runs, is drawn from."""
    scores = model.predict(pixels(x), batch_size=EVAL_BATCH, verbose=0)
    return scores.argmax(axis=1).astype(np.uint8)
