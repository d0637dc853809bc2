import pytest

from cifar_mlp.config import ConfigError, RunConfig, check_seeds
from cifar_mlp.runs.store import run_key

# (key, bad value, words the message must contain)
BAD_VALUES = [
    ("optimizer", "adamm", "adam"),
    ("optimizer", "lbfgs", "sgd"),
    ("activation", "relux", "relu"),
    ("initializer", "xavier", "glorot_uniform"),
    ("schedule", "linear", "warmup_cosine"),
    ("batchnorm", "middle", "before"),
    ("lr", -0.1, "> 0"),
    ("lr", 0, "> 0"),
    ("lr", "abc", "must be a number"),
    ("lr", float("nan"), "must be a number"),
    ("dropout", 1.0, "< 1"),
    ("dropout", -0.2, ">= 0"),
    ("input_dropout", 1.5, "< 1"),
    ("widths", (128, 0), ">= 1"),
    ("widths", (), "non-empty"),
    ("widths", (128.5,), "integer"),
    ("batch_size", 0, ">= 1"),
    ("batch_size", 45001, "<= 45000"),
    ("batch_size", "128", "integer"),
    ("epochs", 0, ">= 1"),
    ("epochs", True, "integer"),
    ("l2", -1e-4, ">= 0"),
    ("momentum", 1.0, "< 1"),
    ("es_monitor", "val_acc", "val_accuracy"),
    ("dropout", (0.1, 0.2), "one per hidden layer"),
    ("amsgrad", "yes", "True or False"),
    ("filters", (16, 32, 64, 128, 256, 512), "up to 5 conv stage"),
    ("filters", (16, 0), ">= 1"),
    ("filters", 32, "a list"),
]


@pytest.mark.parametrize("key,value,words", BAD_VALUES)
def test_bad_values_are_refused_with_what_is_allowed(key, value, words):
    with pytest.raises(ConfigError) as err:
        RunConfig(**{key: value})
    message = str(err.value)
    assert key.split("[")[0] in message and words in message


def test_unknown_key_names_a_close_match():
    with pytest.raises(ConfigError, match="unknown config key 'learnig_rate'.*Allowed:"):
        RunConfig.from_dict({"learnig_rate": 0.1})
    with pytest.raises(ConfigError, match="Did you mean 'lr'"):
        RunConfig.from_dict({"lrr": 0.1})


def test_conflicting_options_are_refused():
    with pytest.raises(ConfigError, match="schedule='constant'"):
        RunConfig(reduce_lr=True, schedule="cosine")
    with pytest.raises(ConfigError, match="momentum > 0"):
        RunConfig(optimizer="sgd", nesterov=True)
    with pytest.raises(ConfigError, match="fewer than epochs"):
        RunConfig(schedule="warmup_cosine", warmup_epochs=5, epochs=5)


def test_lists_become_tuples_and_config_is_frozen():
    c = RunConfig(widths=[64, 32], dropout=[0.1, 0.2])
    assert c.widths == (64, 32) and c.per_layer("dropout") == (0.1, 0.2)
    assert c.per_layer("activation") == ("relu", "relu")
    with pytest.raises(AttributeError):
        c.lr = 0.1


def test_run_key_depends_on_what_is_computed_only():
    a = RunConfig(lr=1e-3)
    assert run_key(a, 0) == run_key(RunConfig(), 0)  # a default stated explicitly
    assert run_key(a, 0) != run_key(a, 1)
    assert run_key(a, 0) != run_key(RunConfig(lr=2e-3), 0)
    assert run_key(RunConfig(train_size=2000), 0) != run_key(RunConfig(), 0)


def test_seeds_must_be_non_negative_integers():
    assert check_seeds([0, 1]) == (0, 1) and check_seeds(3) == (3,)
    for bad in ([], [0.5], ["1"], [-1], "0"):
        with pytest.raises(ConfigError, match="seed"):
            check_seeds(bad)

