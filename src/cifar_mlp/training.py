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

from cifar_mlp import data
from cifar_mlp.backend import keras, tf
from cifar_mlp.config import RunConfig
from cifar_mlp.models import build_mlp

# Batches per compiled call: fewer Python round trips for small, fast steps.
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


def make_schedule(config: RunConfig, steps_per_epoch: int):
    total = config.epochs * steps_per_epoch
    if config.schedule == "constant":
        return config.lr
    if config.schedule == "step":
        return keras.optimizers.schedules.ExponentialDecay(
            config.lr, decay_steps=config.step_epochs * steps_per_epoch,
            decay_rate=config.step_factor, staircase=True)
    if config.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            config.lr, decay_steps=total, alpha=config.final_lr_fraction)
    return WarmupCosine(config.lr, config.warmup_epochs * steps_per_epoch, total,
                        config.final_lr_fraction)


def make_optimizer(config: RunConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    lr = make_schedule(config, steps_per_epoch)
    common = dict(learning_rate=lr, clipnorm=config.clipnorm)
    if config.optimizer == "adam":
        return keras.optimizers.Adam(beta_1=config.beta_1, beta_2=config.beta_2,
                                     epsilon=config.epsilon, amsgrad=config.amsgrad, **common)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(weight_decay=config.weight_decay, beta_1=config.beta_1,
                                      beta_2=config.beta_2, epsilon=config.epsilon,
                                      amsgrad=config.amsgrad, **common)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(momentum=config.momentum, nesterov=config.nesterov, **common)
    return keras.optimizers.RMSprop(rho=config.rho, momentum=config.momentum,
                                    epsilon=config.epsilon, **common)


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
                run_dir / "best.weights.h5", monitor=config.ckpt_monitor,
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
    """The split as tensors, made once per process and shared by every run."""
    split = data.load_split(val_size, train_size, split_seed)
    return tuple(tf.constant(a) for a in (split.x_train, split.y_train, split.x_val, split.y_val))


def _augment(x, kind: str):
    """Random horizontal flips (and shifts of up to 4 pixels) on flat images."""
    images = tf.reshape(x, (-1, 32, 32, 3))
    images = tf.image.random_flip_left_right(images)
    if kind == "flip_shift":
        padded = tf.pad(images, [[0, 0], [4, 4], [4, 4], [0, 0]], mode="REFLECT")
        images = tf.image.random_crop(padded, tf.shape(images))
    return tf.reshape(images, (-1, data.INPUT_DIM))


def datasets(config: RunConfig, seed: int):
    x_train, y_train, x_val, y_val = _tensors(config.train_size, config.val_size, config.split_seed)
    n = int(x_train.shape[0])

    def targets(y):
        # Label smoothing needs one-hot targets; plain sparse labels are cheaper otherwise.
        return tf.one_hot(y, data.NUM_CLASSES) if config.label_smoothing else y

    train = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
             .shuffle(n, seed=seed, reshuffle_each_iteration=True)
             .batch(config.batch_size))
    if config.augment != "none":
        train = train.map(lambda x, y: (_augment(x, config.augment), y),
                          num_parallel_calls=tf.data.AUTOTUNE)
    train = train.map(lambda x, y: (x, targets(y))).prefetch(tf.data.AUTOTUNE)
    val = (tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(EVAL_BATCH)
           .map(lambda x, y: (x, targets(y))).cache())
    return train, val, math.ceil(n / config.batch_size)


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


def train(config: RunConfig, seed: int, run_dir: Path | None = None,
          progress_every: int = 0) -> dict:
    """Train one run and return its record: history per epoch and final metrics.

    `run_dir` receives TensorBoard logs and checkpoints (nothing is written
    without it). The test set is touched only if `config.test` is set.
    """
    keras.utils.set_random_seed(seed)
    train_ds, val_ds, steps = datasets(config, seed)
    model = build_mlp(config)
    compile_model(model, config, steps)
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
    callbacks = make_callbacks(config, run_dir)
    if progress_every:
        callbacks.append(Progress(progress_every))
    start = time.perf_counter()
    fit = model.fit(train_ds, epochs=config.epochs, validation_data=val_ds,
                    callbacks=callbacks, shuffle=False, verbose=0)  # the dataset shuffles
    wall = time.perf_counter() - start
    history = {k: [float(v) for v in vs] for k, vs in fit.history.items()}
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
    if not diverged:
        if config.checkpoint and run_dir is not None and (run_dir / "best.weights.h5").exists():
            model.load_weights(run_dir / "best.weights.h5")
        # The final model: last epoch, or the best one if a callback restored it.
        metrics.update(_evaluate(model, val_ds, "val"))
        if config.test:
            x_test, y_test = data.load_test()
            y_test = tf.one_hot(y_test, data.NUM_CLASSES) if config.label_smoothing else y_test
            test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(EVAL_BATCH)
            metrics.update(_evaluate(model, test_ds, "test"))
    return {"history": history, "metrics": metrics, "model": model}


def _evaluate(model, dataset, prefix: str) -> dict:
    values = model.evaluate(dataset, verbose=0, return_dict=True)
    # The evaluated loss includes the L2 penalty; accuracy is what we compare.
    return {f"{prefix}_{k}": float(v) for k, v in values.items()}
