"""The "Use this recipe" code runs, and builds the library's model."""

import numpy as np
import pytest

from cifar_mlp.config import REFERENCE_RECIPE, RunConfig
from cifar_mlp.core.models import build_model
from cifar_mlp.report import keras_code

CONFIGS = {
    "reference at 3×512": RunConfig(**REFERENCE_RECIPE).replace(widths=(512,) * 3),
    "SGD, cosine, no BN": RunConfig(widths=(256,) * 3, dropout=0.1, schedule="cosine", optimizer="sgd",
                                    lr=0.03, momentum=0.9),
    "mixed layers, BN after, label smoothing": RunConfig(
        widths=(64, 32), dropout=(0.2, 0.0), batchnorm=("after", "off"), activation=("gelu", "tanh"),
        label_smoothing=0.1, initializer="he_normal", l2=1e-4),
}


def kinds(model) -> list[str]:
    """The layers' kinds in order (the library's Dropout is Keras' with another generator)."""
    return [type(layer).__mro__[1 if type(layer).__name__ == "Dropout" and type(layer).__module__.startswith(
        "cifar_mlp") else 0].__name__ for layer in model.layers]


@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_generated_code_trains_and_builds_the_librarys_model(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # its ModelCheckpoint writes best.weights.h5 where it runs
    config = CONFIGS[name].replace(epochs=2, warmup_epochs=1)
    rng = np.random.default_rng(0)
    namespace = {"x_train": rng.integers(0, 256, (300, 32, 32, 3), dtype=np.uint8),
                 "y_train": rng.integers(0, 10, (300, 1)),
                 "x_val": rng.integers(0, 256, (100, 32, 32, 3), dtype=np.uint8),
                 "y_val": rng.integers(0, 10, (100, 1))}
    exec(keras_code.source(config), namespace)  # two epochs on 300 images, as a reader would run it
    model, ours = namespace["model"], build_model(config)
    assert kinds(model) == kinds(ours)
    assert model.count_params() == ours.count_params()
    assert len(model.history.history["loss"]) == 2


def test_what_it_cannot_write_is_refused():
    with pytest.raises(ValueError, match="plain MLP only"):
        keras_code.source(RunConfig(augment="flip"))
