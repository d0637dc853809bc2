"""Every private Keras API the library uses, each with why, and a check that each still works.

Keras 3 keeps these under `keras.src` or as underscored methods: they may change in any
release. `check()` tries each on a tiny model and names the one that no longer works, so
a Keras upgrade fails one test with a clear message instead of a run mid-sweep.
"""

from __future__ import annotations

import random
from contextlib import contextmanager

from cifar_mlp.core.backend import keras

# The Keras releases these were checked against (pyproject pins keras to them).
CHECKED = ">=3.15,<3.16"


def build_for_training(model, batch) -> None:
    """Create the optimizer's and metrics' variables now, as `model.fit` does before its
    first step. Why private: the library's own loop (`training.FastTrainer`) compiles
    whole epochs as one program, and variables cannot be created inside it; Keras has no
    public call that builds a compiled model's optimizer and metrics for a given batch."""
    model._symbolic_build(data_batch=batch)


@contextmanager
def own_seed_generator(seed: int):
    """Draw Keras' default seeds (initializers, dropout) from a private generator.

    Why private: Keras draws them from Python's global `random`, which other threads of
    the process may draw from too (Dask's do); the module attribute it reads,
    `keras.src.random.seed_generator.python_random`, is the only place to swap it.
    Seeded as `keras.utils.set_random_seed` seeds the global one: the same draws."""
    from keras.src.random import seed_generator
    shared, seed_generator.python_random = seed_generator.python_random, random.Random(seed)
    try:
        yield
    finally:
        seed_generator.python_random = shared


class KerasChanged(RuntimeError):
    """A private Keras API this library uses no longer works in the installed Keras."""


def check() -> None:
    """Try every private API above on a tiny model; raise KerasChanged naming the one that fails."""
    import numpy as np

    def tiny():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    uses = {
        "Model._symbolic_build (build_for_training)":
            lambda: build_for_training(tiny(), (np.zeros((1, 4), "float32"), np.zeros((1,), "int32"))),
        "keras.src.random.seed_generator.python_random (own_seed_generator)": _check_seeds,
    }
    for name, use in uses.items():
        try:
            use()
        except Exception as error:
            raise KerasChanged(
                f"Keras {keras.__version__} changed a private API this library uses: {name} "
                f"({type(error).__name__}: {error}). It was checked with keras{CHECKED}; "
                "see cifar_mlp/core/keras_private.py for why each is used.") from error


def _check_seeds() -> None:
    def draws(seed):
        with own_seed_generator(seed):
            layer = keras.layers.Dense(3)
            layer.build((None, 2))
            return layer.kernel.numpy()
    import numpy as np
    if not np.array_equal(draws(7), draws(7)) or np.array_equal(draws(7), draws(8)):
        raise AssertionError("the swapped generator no longer decides the initial weights")
