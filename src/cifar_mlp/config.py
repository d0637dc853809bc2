"""Frozen, validated run configs and the smoke / full study profiles.

A run is a `RunConfig` plus a seed. Everything is checked when the config is
made, so a typo or an impossible value fails before any training starts,
with a message that names the key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import typing
from dataclasses import dataclass
from typing import Any

from cifar_mlp import optimizers

ACTIVATIONS = ("relu", "gelu", "tanh", "elu", "selu", "swish", "silu", "sigmoid",
               "leaky_relu", "mish", "softplus", "linear")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                "lecun_uniform", "lecun_normal", "orthogonal")
BATCHNORM = ("off", "before", "after")
OPTIMIZERS = tuple(optimizers.OPTIMIZERS)
SCHEDULES = ("constant", "step", "cosine", "warmup_cosine")
MONITORS = ("val_loss", "val_accuracy")
AUGMENTATIONS = ("none", "flip", "flip_shift")
PROFILES = ("smoke", "full")


# The reference recipe of the study we reproduce: 06 tests it on the test set, 07 starts from it.
# Its model (3×128, BN before the activation, dropout 0.1, L2 5e-5): 04 and 05 train on it.
REFERENCE_MODEL = dict(batchnorm="before", dropout=0.1, l2=5e-5)
REFERENCE_RECIPE = dict(
    widths=(128, 128, 128), **REFERENCE_MODEL, optimizer="adam", lr=1e-3,
    schedule="warmup_cosine", batch_size=128, early_stopping=True, es_monitor="val_accuracy",
    es_patience=5, es_restore_best=True, checkpoint=True, ckpt_monitor="val_accuracy")


# Settings that change no step of training, only which epoch's weights a run ends with
# (restored, checkpointed) or whether the test set is read once it ends: two configs that
# differ only here train the same run, epoch for epoch (`same_training`).
ENDING = ("es_restore_best", "checkpoint", "ckpt_monitor", "test", "evaluate_train")


class ConfigError(ValueError):
    """A config key or value that is not allowed; the message says what is."""


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides what a run computes (the seed comes separately)."""

    # Model: one entry per hidden layer; a single value applies to every layer.
    widths: tuple[int, ...] = (128, 128, 128)  # the reference recipe: 3×128
    activation: str | tuple[str, ...] = "relu"
    batchnorm: str | tuple[str, ...] = "off"   # off | before | after the activation
    dropout: float | tuple[float, ...] = 0.0   # after each hidden layer
    input_dropout: float = 0.0                 # on the 3072 pixels themselves
    l2: float = 0.0
    initializer: str = "glorot_uniform"        # Keras' default; the study compares He
    # Conv stages before the dense layers (models.conv_stages): () is the MLP.
    filters: tuple[int, ...] = ()
    # Optimizer: only the keys of the chosen optimizer are used.
    optimizer: str = "adam"
    lr: float = 1e-3                           # Adam's usual default
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    amsgrad: bool = False
    momentum: float = 0.0                      # sgd and rmsprop
    nesterov: bool = False
    rho: float = 0.9                           # rmsprop
    weight_decay: float = 4e-3                 # adamw, Keras' default
    clipnorm: float | None = None
    # Learning-rate schedule, stepped per batch.
    schedule: str = "constant"
    warmup_epochs: int = 2                     # warmup_cosine: linear ramp from ~0
    step_epochs: int = 10                      # step: multiply by step_factor every step_epochs
    step_factor: float = 0.5
    final_lr_fraction: float = 0.0             # cosine schedules end at lr × this
    # Callbacks.
    early_stopping: bool = False
    es_monitor: str = "val_accuracy"
    es_patience: int = 5
    es_restore_best: bool = True
    reduce_lr: bool = False
    rlr_monitor: str = "val_loss"
    rlr_factor: float = 0.5
    rlr_patience: int = 3
    rlr_min_lr: float = 1e-6
    checkpoint: bool = False                   # keep the best weights by ckpt_monitor
    ckpt_monitor: str = "val_accuracy"
    histograms: bool = False                   # TensorBoard weight histograms (slower)
    # Training.
    epochs: int = 30
    batch_size: int = 128
    label_smoothing: float = 0.0
    augment: str = "none"
    # Data: part of the config so a run's key covers the split it saw.
    train_size: int | None = None              # None: all 45,000 left after validation
    val_size: int = 5000
    split_seed: int = 0
    test: bool = False                         # evaluate on the test set at the end
    # Also score the final model on the whole training split, as Keras' evaluate does
    # (dropout off, no augmentation): the training accuracy a source reports that way.
    evaluate_train: bool = False

    def __post_init__(self):
        # Equal configs must give equal run keys: the key is JSON of the values, where
        # 0 and 0.0 (or [128] and (128,)) differ. Papermill and YAML give lists and ints.
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                value = tuple(value)
            if f.name in _FLOAT_FIELDS:
                value = _as_float(value)
            object.__setattr__(self, f.name, value)
        _validate(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "RunConfig":
        check_keys(values, allowed=[f.name for f in dataclasses.fields(cls)], what="config key")
        return cls(**values)

    def replace(self, **changes) -> "RunConfig":
        return RunConfig.from_dict({**self.to_dict(), **changes})

    def same_training(self, other: "RunConfig") -> bool:
        """Whether `other` trains this run: every setting but the `ENDING` ones equal."""
        return self.replace(**{k: getattr(other, k) for k in ENDING}) == other

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def changed(self) -> dict[str, Any]:
        """Only the values that differ from the defaults: the run's identity.

        Adding a new key with a default later leaves every stored run's key as it was.
        """
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != f.default}

    def per_layer(self, name: str) -> tuple:
        value = getattr(self, name)
        return value if isinstance(value, tuple) else (value,) * len(self.widths)


_FLOAT_FIELDS = {name for name, hint in typing.get_type_hints(RunConfig).items()
                 if "float" in str(hint)}


def _as_float(value):
    """Whole numbers as floats (alone or in a per-layer tuple); anything else as given,
    so that validation still names a wrong type (True, "0.1") as the user wrote it."""
    if isinstance(value, tuple):
        return tuple(_as_float(v) for v in value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


def check_keys(values, allowed, what: str) -> None:
    unknown = [k for k in values if k not in allowed]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown {what} {key!r}.{hint} Allowed: {', '.join(allowed)}.")


# ---------------------------------------------------------------- validation

def refuse(name, value, allowed):
    raise ConfigError(f"{name}={value!r} is not allowed: {allowed}.")


def check_number(name, value, *, low=None, high=None, low_open=False, high_open=False,
            integer=False, optional=False):
    if value is None and optional:
        return
    kind = "an integer" if integer else "a number"
    ok_type = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_type) or (
            not integer and not math.isfinite(value)):
        refuse(name, value, f"it must be {kind}" + (" or None" if optional else ""))
    if low is not None and (value < low or (low_open and value == low)):
        refuse(name, value, f"it must be {'>' if low_open else '>='} {low}")
    if high is not None and (value > high or (high_open and value == high)):
        refuse(name, value, f"it must be {'<' if high_open else '<='} {high}")


def check_choice(name, value, choices):
    if value not in choices:
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        refuse(name, value, f"one of {', '.join(choices)}{hint}")


def _flag(name, value):
    if not isinstance(value, bool):
        refuse(name, value, "True or False")


def _layers(c: RunConfig, name, check):
    value = getattr(c, name)
    if isinstance(value, tuple):
        if len(value) != len(c.widths):
            refuse(name, value, f"one value, or one per hidden layer ({len(c.widths)})")
        for i, v in enumerate(value):
            check(f"{name}[{i}]", v)
    else:
        check(name, value)


def _validate(c: RunConfig) -> None:
    if not isinstance(c.widths, tuple) or len(c.widths) == 0:
        refuse("widths", c.widths, "a non-empty list of layer widths, e.g. [128, 128, 128]")
    for i, w in enumerate(c.widths):
        check_number(f"widths[{i}]", w, low=1, high=16384, integer=True)
    _layers(c, "activation", lambda n, v: check_choice(n, v, ACTIVATIONS))
    _layers(c, "batchnorm", lambda n, v: check_choice(n, v, BATCHNORM))
    _layers(c, "dropout", lambda n, v: check_number(n, v, low=0, high=1, high_open=True))
    check_number("input_dropout", c.input_dropout, low=0, high=1, high_open=True)
    check_number("l2", c.l2, low=0, high=1)
    check_choice("initializer", c.initializer, INITIALIZERS)
    if not isinstance(c.filters, tuple) or len(c.filters) > 5:
        refuse("filters", c.filters, "a list of up to 5 conv stage widths, e.g. [32, 64, 128], "
              "or [] for the MLP (each stage halves the 32-pixel image)")
    for i, f in enumerate(c.filters):
        check_number(f"filters[{i}]", f, low=1, high=1024, integer=True)

    check_choice("optimizer", c.optimizer, OPTIMIZERS)
    check_number("lr", c.lr, low=0, low_open=True, high=10)
    check_number("beta_1", c.beta_1, low=0, high=1, high_open=True)
    check_number("beta_2", c.beta_2, low=0, high=1, high_open=True)
    check_number("epsilon", c.epsilon, low=0, low_open=True, high=1)
    _flag("amsgrad", c.amsgrad)
    check_number("momentum", c.momentum, low=0, high=1, high_open=True)
    _flag("nesterov", c.nesterov)
    if c.nesterov and c.optimizer == "sgd" and c.momentum == 0:
        refuse("nesterov", c.nesterov, "only with momentum > 0 (Nesterov needs momentum)")
    check_number("rho", c.rho, low=0, high=1, high_open=True)
    check_number("weight_decay", c.weight_decay, low=0, high=1)
    check_number("clipnorm", c.clipnorm, low=0, low_open=True, optional=True)

    check_choice("schedule", c.schedule, SCHEDULES)
    check_number("warmup_epochs", c.warmup_epochs, low=0, integer=True)
    check_number("step_epochs", c.step_epochs, low=1, integer=True)
    check_number("step_factor", c.step_factor, low=0, low_open=True, high=1)
    check_number("final_lr_fraction", c.final_lr_fraction, low=0, high=1)
    if c.schedule == "warmup_cosine" and c.warmup_epochs >= c.epochs:
        refuse("warmup_epochs", c.warmup_epochs, f"fewer than epochs={c.epochs}")

    for flag in ("early_stopping", "es_restore_best", "reduce_lr", "checkpoint", "histograms", "test",
                 "evaluate_train"):
        _flag(flag, getattr(c, flag))
    for monitor in ("es_monitor", "rlr_monitor", "ckpt_monitor"):
        check_choice(monitor, getattr(c, monitor), MONITORS)
    check_number("es_patience", c.es_patience, low=0, integer=True)
    check_number("rlr_factor", c.rlr_factor, low=0, low_open=True, high=1, high_open=True)
    check_number("rlr_patience", c.rlr_patience, low=0, integer=True)
    check_number("rlr_min_lr", c.rlr_min_lr, low=0)
    if c.reduce_lr and c.schedule != "constant":
        refuse("reduce_lr", c.reduce_lr, f"only with schedule='constant' (a {c.schedule!r} "
              "schedule already sets the learning rate every step)")

    check_number("epochs", c.epochs, low=1, high=1000, integer=True)
    check_number("val_size", c.val_size, low=10, high=25000, integer=True)
    check_number("train_size", c.train_size, low=10, high=50000 - c.val_size, integer=True, optional=True)
    train = c.train_size if c.train_size is not None else 50000 - c.val_size
    check_number("batch_size", c.batch_size, low=1, high=train, integer=True)
    check_number("label_smoothing", c.label_smoothing, low=0, high=1, high_open=True)
    check_choice("augment", c.augment, AUGMENTATIONS)
    check_number("split_seed", c.split_seed, low=0, integer=True)


def check_seeds(seeds, name: str = "seeds") -> tuple[int, ...]:
    """Seeds as a tuple: non-negative integers, none repeated (a repeat would count twice in a mean)."""
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = (seeds,)
    if not isinstance(seeds, (list, tuple)) or not seeds:
        refuse(name, seeds, "a non-empty list of non-negative integers, e.g. [0, 1, 2]")
    for i, s in enumerate(seeds):  # named like widths[i], so the message points at the parameter
        check_number(f"{name}[{i}]", s, low=0, integer=True)
    if len(set(seeds)) < len(seeds):
        refuse(name, list(seeds), "each seed once (a repeated seed would count twice in every mean)")
    return tuple(seeds)
