"""Every optimizer the study trains with, in one table, and how 04 tunes each.

`OPTIMIZERS`: a config's `optimizer` → the Keras class that trains it and the
RunConfig keys it takes (under the same names in Keras). `KINDS`: each optimizer
04 compares → the config values that make it, its name in prose, its learning-rate
grid and the settings of its own hyperparameter, per profile. The config's choices,
the training loop, the plain-Keras code, section 04, its notebook and the tests all
read these two tables: adding an optimizer is an entry here (and its test).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Optimizer:
    keras: str                # its class in keras.optimizers
    keys: tuple[str, ...]     # the RunConfig keys it takes, passed under the same names


OPTIMIZERS = {
    "adam": Optimizer("Adam", ("beta_1", "beta_2", "epsilon", "amsgrad")),
    "adamw": Optimizer("AdamW", ("weight_decay", "beta_1", "beta_2", "epsilon", "amsgrad")),
    "sgd": Optimizer("SGD", ("momentum", "nesterov")),
    "rmsprop": Optimizer("RMSprop", ("rho", "momentum", "epsilon")),
}
# What every optimizer takes besides its own keys.
COMMON = ("lr", "clipnorm")


@dataclass(frozen=True)
class Kind:
    """One optimizer as 04 tunes it: first the rate (at its own hyperparameter's usual
    setting, the first of `own`), then its own hyperparameter at the chosen rate."""

    config: Mapping                          # the config values that make it
    spoken: str                              # its name in prose
    rates: Mapping[str, tuple[float, ...]]   # profile → learning rates tried
    own: Mapping[str, tuple[Mapping, ...]]   # profile → its own settings; the first is the usual one


def _each(key: str, values) -> tuple[dict, ...]:
    return tuple({key: v} for v in values)


ADAM_RATES = {"full": (3e-4, 1e-3, 3e-3), "smoke": (1e-3, 3e-3)}
SGD_RATES = {"full": (0.01, 0.03, 0.1), "smoke": (0.03,)}
MOMENTUMS = {"full": _each("momentum", (0.9, 0.8, 0.95)), "smoke": _each("momentum", (0.9,))}

KINDS = {
    "adam": Kind({"optimizer": "adam"}, "Adam", ADAM_RATES, {
        "full": ({"beta_1": 0.9, "beta_2": 0.999}, {"beta_1": 0.8, "beta_2": 0.999},
                 {"beta_1": 0.9, "beta_2": 0.99}),
        "smoke": ({"beta_1": 0.9, "beta_2": 0.999}, {"beta_1": 0.8, "beta_2": 0.999})}),
    "sgd_momentum": Kind({"optimizer": "sgd"}, "SGD with momentum", SGD_RATES, MOMENTUMS),
    "sgd_nesterov": Kind({"optimizer": "sgd", "nesterov": True}, "SGD with Nesterov momentum",
                         SGD_RATES, MOMENTUMS),
    "rmsprop": Kind({"optimizer": "rmsprop"}, "RMSprop", {"full": (1e-4, 3e-4, 1e-3), "smoke": (1e-3,)},
                    {"full": _each("rho", (0.9, 0.95, 0.99)), "smoke": _each("rho", (0.9,))}),
    "adamw": Kind({"optimizer": "adamw"}, "AdamW", ADAM_RATES,
                  {"full": _each("weight_decay", (1e-4, 1e-5, 1e-3)), "smoke": _each("weight_decay", (1e-4,))}),
}


def keys() -> tuple[str, ...]:
    """Every config key an optimizer takes: what makes up "the optimizer" as one choice."""
    own = [k for spec in OPTIMIZERS.values() for k in spec.keys]
    return ("optimizer", *COMMON, *dict.fromkeys(own))
