"""Every name `config` allows has a builder, and a name without one is refused by name."""

import numpy as np
import pytest

from cifar_mlp import config, optimizers
from cifar_mlp.config import ConfigError, RunConfig
from cifar_mlp.core import models, training
from cifar_mlp.core.backend import keras, tf
from cifar_mlp.core.tables import lookup

TABLES = {"optimizer": (optimizers.OPTIMIZERS, config.OPTIMIZERS),
          "schedule": (training.SCHEDULES, config.SCHEDULES),
          "activation": (models.ACTIVATIONS, config.ACTIVATIONS),
          "initializer": (models.INITIALIZERS, config.INITIALIZERS),
          "augment": (training.AUGMENTATIONS, config.AUGMENTATIONS)}


@pytest.mark.parametrize("what", TABLES)
def test_each_table_has_exactly_the_names_config_allows(what):
    table, choices = TABLES[what]
    assert tuple(table) == choices, f"config allows {what}s {choices}; builders exist for {tuple(table)}"


@pytest.mark.parametrize("name", config.OPTIMIZERS)
def test_every_optimizer_builds(name):
    optimizer = training.make_optimizer(RunConfig(optimizer=name, lr=0.02, clipnorm=1.0), 10)
    assert type(optimizer).__name__.lower() == name and optimizer.clipnorm == 1.0
    assert float(optimizer.learning_rate) == pytest.approx(0.02)


@pytest.mark.parametrize("name", config.OPTIMIZERS)
def test_every_optimizer_takes_its_own_keys_under_the_configs_names(name):
    import inspect
    spec = optimizers.OPTIMIZERS[name]
    accepted = inspect.signature(getattr(keras.optimizers, spec.keras)).parameters
    assert set(spec.keys) <= set(accepted) and set(spec.keys) <= set(RunConfig().to_dict())


@pytest.mark.parametrize("kind", optimizers.KINDS)
def test_every_kind_04_tunes_is_a_config_with_a_grid_per_profile(kind):
    spec = optimizers.KINDS[kind]
    optimizer = optimizers.OPTIMIZERS[spec.config["optimizer"]]
    for profile in config.PROFILES:
        assert spec.rates[profile] and spec.own[profile], f"{kind}: no grid for {profile}"
        for own in spec.own[profile]:
            assert set(own) <= set(optimizer.keys), f"{kind}: {own} is not its own"
            RunConfig(**spec.config, **own, lr=spec.rates[profile][0])  # each setting is allowed


@pytest.mark.parametrize("name", config.SCHEDULES)
def test_every_schedule_builds_and_starts_at_or_below_lr(name):
    run = RunConfig(schedule=name, lr=0.1, epochs=4, warmup_epochs=1, step_epochs=1)
    schedule = training.make_schedule(run, steps_per_epoch=10)
    first, last = (float(schedule(s)) if callable(schedule) else schedule for s in (0, 39))
    assert 0 < first <= 0.1 + 1e-7 and 0 <= last <= 0.1 + 1e-7  # float32 rounds 0.1 up
    assert (last < 0.09) == (name != "constant")  # every schedule but constant has come down


@pytest.mark.parametrize("name", config.ACTIVATIONS)
def test_every_activation_builds(name):
    model = models.build_model(RunConfig(widths=(8,), activation=name))
    layer = model.get_layer(f"{name}_1")
    assert layer.activation is keras.activations.get(name)
    assert model(np.zeros((2, 3072), np.float32)).shape == (2, 10)


@pytest.mark.parametrize("name", config.INITIALIZERS)
def test_every_initializer_builds_one_instance_per_layer(name):
    model = models.build_model(RunConfig(widths=(8, 8), initializer=name))
    made = [layer.kernel_initializer for layer in model.layers if hasattr(layer, "kernel_initializer")]
    assert len(made) == 3 and len({id(m) for m in made}) == 3  # shared, they would draw one seed
    assert all(type(m).__name__.lower() == name.replace("_", "") for m in made)


@pytest.mark.parametrize("name", config.AUGMENTATIONS)
def test_every_augmentation_builds_and_keeps_the_shape(name):
    x = tf.random.stateless_uniform((4, 3072), seed=[0, 1])
    out = training.augment(x, name, seed=tf.constant([1, 2], tf.int64))
    assert out.shape == (4, 3072)
    assert (name == "none") == bool(np.array_equal(out.numpy(), x.numpy()))
    assert len(training.AUGMENTATIONS[name]) <= training.SEEDS_PER_STEP


def test_lookup_names_the_unknown_name_and_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown optimizer 'adamm'.*Did you mean 'adam'\?.*"
                                          r"Known: adam, adamw, sgd, rmsprop\."):
        lookup(optimizers.OPTIMIZERS, "adamm", "optimizer")
    with pytest.raises(ConfigError, match=r"unknown activation \['relu'\]"):
        lookup(models.ACTIVATIONS, ["relu"], "activation")


@pytest.mark.parametrize("what, key, build", [
    ("OPTIMIZERS", "optimizer", lambda c: training.make_optimizer(c, 10)),
    ("SCHEDULES", "schedule", lambda c: training.make_schedule(c, 10)),
    ("ACTIVATIONS", "activation", models.build_model),
    ("INITIALIZERS", "initializer", models.build_model),
    ("AUGMENTATIONS", "augment", lambda c: training.CompiledLoops(models.build_model(c), c, 0))])
def test_a_name_config_allows_without_a_builder_is_refused(monkeypatch, what, key, build):
    """What used to happen to "lion" added to config.OPTIMIZERS alone: RMSprop trained under its name."""
    monkeypatch.setattr(config, what, (*getattr(config, what), "lion"))
    run = RunConfig(**{key: "lion"})  # config now allows it
    with pytest.raises(ConfigError, match=f"unknown {'augmentation' if key == 'augment' else key} "
                                          "'lion': there is no builder for it"):
        build(run)
