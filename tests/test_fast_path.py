"""The compiled epoch loop computes what model.fit computes (correctness only, not speed)."""

import numpy as np
import pytest

from cifar_mlp.config import RunConfig
from cifar_mlp.core import data, training
from cifar_mlp.core.backend import keras, tf
from cifar_mlp.core.models import build_model

# 230 images in batches of 50: four full batches and a partial one of 30, so
# both compiled shapes run. BatchNorm, L2 and a warmup-cosine schedule are on;
# dropout is off, because the two paths draw their masks from different seeds.
CONFIG = RunConfig(widths=(32, 16), batchnorm="before", l2=1e-3, schedule="warmup_cosine",
                   warmup_epochs=1, epochs=4, batch_size=50, train_size=230, val_size=70)
SEED = 3
# Observed: at most 2e-7 apart (XLA and TensorFlow's kernels round differently);
# the margin is for other CPUs, whose kernels may sum in other orders.
RTOL = 1e-3


def _synthetic(n, rng):
    centers = np.random.default_rng(0).normal(size=(10, data.INPUT_DIM)).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int32)
    x = np.clip(centers[y] * 0.3 + rng.normal(size=(n, data.INPUT_DIM)) * 0.5, -1, 1)
    return x.astype(np.float32), y


def _twin_models(config):
    keras.utils.set_random_seed(SEED)
    steps = -(-config.train_size // config.batch_size)
    models = [build_model(config) for _ in range(2)]
    models[1].set_weights(models[0].get_weights())
    for model in models:
        training.compile_model(model, config, steps)
    return models


def _keras_fit(model, config, x, y, x_val, y_val):
    """model.fit, one epoch per call, in the order the compiled loop shuffles to."""
    shuffle = np.random.default_rng(SEED)
    history = {}
    for epoch in range(config.epochs):
        order = shuffle.permutation(len(x))
        h = model.fit(x[order], y[order], batch_size=config.batch_size, epochs=epoch + 1,
                      initial_epoch=epoch, shuffle=False, validation_data=(x_val, y_val),
                      validation_batch_size=training.EVAL_BATCH, verbose=0).history
        for k, v in h.items():
            history.setdefault(k, []).extend(v)
    return history


@pytest.mark.parametrize("jit", [True, False], ids=["xla", "graph"])
def test_compiled_loop_matches_model_fit(jit):
    rng = np.random.default_rng(1)
    x, y = _synthetic(CONFIG.train_size, rng)
    x_val, y_val = _synthetic(CONFIG.val_size, rng)
    fast_model, keras_model = _twin_models(CONFIG)

    loops = training.CompiledLoops(fast_model, CONFIG, SEED, jit=jit)
    fast = training.fit(loops, SEED, (tf.constant(x), tf.constant(y)),
                        (tf.constant(x_val), tf.constant(y_val)), callbacks=[]).history
    reference = _keras_fit(keras_model, CONFIG, x, y, x_val, y_val)

    for key in ("loss", "accuracy", "top5", "val_loss", "val_accuracy", "val_top5"):
        np.testing.assert_allclose(fast[key], reference[key], rtol=RTOL, err_msg=key)
    assert len(fast["loss"]) == CONFIG.epochs and fast["loss"][-1] < fast["loss"][0]
    assert int(fast_model.optimizer.iterations) == int(keras_model.optimizer.iterations) == 5 * 4
    for a, b in zip(fast_model.get_weights(), keras_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-5)


def test_augmented_runs_repeat_with_the_seed_and_differ_without(synthetic_split, store_root):
    config = RunConfig(widths=(32,), epochs=2, batch_size=50, train_size=600, val_size=200,
                       augment="flip_shift")
    a, b = (training.train(config, 0)["history"] for _ in range(2))
    plain = training.train(config.replace(augment="none"), 0)["history"]
    assert np.allclose(a["loss"], b["loss"], rtol=1e-5)
    assert not np.allclose(a["loss"], plain["loss"], rtol=1e-4)


def test_callbacks_can_stop_the_loop(synthetic_split):
    class StopAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    config = RunConfig(widths=(16,), epochs=5, batch_size=100, train_size=600, val_size=200)
    keras.utils.set_random_seed(0)
    model = build_model(config)
    training.compile_model(model, config, 6)
    split = synthetic_split
    history = training.fit(training.CompiledLoops(model, config, 0), 0,
                           (tf.constant(split.x_train), tf.constant(split.y_train)),
                           (tf.constant(split.x_val), tf.constant(split.y_val)),
                           [StopAfterFirstEpoch()]).history
    assert len(history["loss"]) == 1 and "val_top5" in history


@pytest.mark.parametrize("jit", [True, False], ids=["xla", "graph"])
def test_pixels_in_the_step_have_the_bits_of_data_scale(jit):
    raw = np.arange(256, dtype=np.uint8).reshape(2, 128)  # every value a pixel can take
    got = tf.function(training.pixels, jit_compile=jit)(tf.constant(raw)).numpy()
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.view(np.uint32), data.scale(raw).view(np.uint32))
    floats = tf.constant(data.scale(raw))
    assert training.pixels(floats) is floats


def test_uint8_split_trains_exactly_as_its_scaled_copy():
    """Training keeps pixels as uint8 and scales each batch: the same run, to the bit."""
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (CONFIG.train_size, data.INPUT_DIM), dtype=np.uint8)
    x_val = rng.integers(0, 256, (CONFIG.val_size, data.INPUT_DIM), dtype=np.uint8)
    y, y_val = (rng.integers(0, 10, n).astype(np.int32) for n in (len(x), len(x_val)))
    histories = []
    for model, to_inputs in zip(_twin_models(CONFIG), (lambda a: a, data.scale)):
        loops = training.CompiledLoops(model, CONFIG, SEED)
        histories.append(training.fit(
            loops, SEED, (tf.constant(to_inputs(x)), tf.constant(y)),
            (tf.constant(to_inputs(x_val)), tf.constant(y_val)), callbacks=[]).history)
    assert histories[0] == histories[1]
