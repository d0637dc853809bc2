"""A section's parameters, declared once, validated, and bound to its profile's folders.

Each section of the study (`cifar_mlp.sections`) subclasses `Study` with its
own knobs as typed fields and their values per profile. A notebook turns its
parameters cell into one with `Section.from_notebook(globals())`; another
section reads the same declaration with `Section.at(profile)`, so nothing is
restated. Every knob is checked by the rule named in its field, with a message
that names the knob as the user wrote it, before anything trains.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from cifar_mlp import paths
from cifar_mlp.config import (PROFILES, ConfigError, RunConfig, _choice, _fail, _number,
                              check_keys, check_seeds)

# Names IPython puts in every namespace, never parameters.
_IPYTHON_NAMES = {"In", "Out", "exit", "quit", "get_ipython", "open"}


# ---------------------------------------------------------------- knob rules

def knob(check: Callable[[str, Any], Any], help: str = "") -> Any:
    """A section parameter: `check(name, value)` validates and returns the value to keep."""
    return field(default=None, metadata={"check": check, "help": help})


def seed_list(name, value):
    return check_seeds(value, name)


def whole(low=1, high=None, optional=False):
    def check(name, value):
        _number(name, value, low=low, high=high, integer=True, optional=optional)
        return value
    return check


def each(check_one, distinct=True):
    """A non-empty list, each item checked by `check_one`; a grid (`distinct`) repeats no value."""
    def check(name, values):
        if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)) or not values:
            _fail(name, values, "a non-empty list")
        for i, v in enumerate(values):
            check_one(f"{name}[{i}]", v)
        if distinct and len(set(map(repr, values))) < len(values):
            _fail(name, list(values), "a list without repeated values (each would train twice)")
        return tuple(tuple(v) if isinstance(v, list) else v for v in values)
    return check


def config_value(key: str):
    """A value checked by RunConfig's rule for `key`, the message naming the knob."""
    def check(name, value):
        try:
            RunConfig.from_dict({key: value})
        except ConfigError as e:
            reason = str(e).split(" is not allowed: ", 1)[-1]
            raise ConfigError(f"{name}={value!r} is not allowed: {reason}") from None
        return value
    return check


def one_of(choices):
    def check(name, value):
        _choice(name, value, list(choices))
        return value
    return check


def number(low=None, high=None):
    def check(name, value):
        _number(name, value, low=low, high=high, low_open=True)
        return value
    return check


# ---------------------------------------------------------------- the study

# Smoke: every cell in seconds on a few thousand real images. Full: the real study.
COMMON = {
    "smoke": dict(seeds=(0,), epochs=3, train_size=2000, val_size=1000),
    "full": dict(seeds=(0, 1), epochs=30, train_size=None, val_size=5000),
}


@dataclass(frozen=True, kw_only=True)
class Study:
    """What every section shares: profile, seeds, epochs, data sizes and folders."""

    SECTION: ClassVar[str] = ""
    # This section's knob values per profile; None in a notebook means "the profile's".
    PROFILES: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    profile: str = "full"
    seeds: tuple[int, ...] = knob(seed_list, "seeds of every comparison")
    epochs: int = knob(whole(1, 1000), "epochs per run")
    train_size: int | None = knob(whole(10, 50000, optional=True), "training images (None: all)")
    val_size: int = knob(whole(10, 25000), "validation images")
    # The run store: the profile's unless a notebook names one. Not in the repr: a page
    # shows a study's knobs, never the rendering machine's paths.
    results_dir: Path | None = field(default=None, repr=False)

    @classmethod
    def at(cls, profile: str = "full", results_dir: Path | str | None = None, **knobs):
        """This section's declared study for `profile`, with any knobs overridden."""
        _choice("profile", profile, PROFILES)
        if results_dir is not None and not isinstance(results_dir, (str, Path)):
            _fail("results_dir", results_dir, "a folder path as a string, or None for the profile's")
        given = {k: v for k, v in knobs.items() if v is not None}
        check_keys(given, [f.name for f in cls.knobs()], what=f"parameter of {cls.SECTION or 'this study'}")
        values = {**COMMON[profile], **cls.PROFILES.get(profile, {}), **given}
        missing = [f.name for f in cls.knobs() if values.get(f.name) is None and f.name != "train_size"]
        if missing:
            raise ConfigError(f"{cls.SECTION}: no value for {', '.join(missing)} in the "
                              f"{profile!r} profile; give them as parameters.")
        checked = {f.name: f.metadata["check"](f.name, values.get(f.name)) for f in cls.knobs()}
        RunConfig(epochs=checked["epochs"], train_size=checked["train_size"],
                  val_size=checked["val_size"])  # the sizes, as a run would check them
        folder = Path(results_dir).resolve() if results_dir else paths.profile_dirs(profile)["results"]
        return cls(profile=profile, results_dir=folder, **checked)

    @classmethod
    def from_notebook(cls, namespace: dict):
        """The study of a notebook's parameters cell (plus what papermill injected).

        A plain value in the namespace that is not a parameter is a typo and is
        refused, so `papermill -p learnig_rate 0.1` fails instead of being ignored.
        """
        plain = (int, float, str, bool, list, tuple, type(None))
        given = {k: v for k, v in namespace.items()
                 if not k.startswith("_") and k not in _IPYTHON_NAMES and isinstance(v, plain)}
        common = ["profile", "seeds", "epochs", "train_size", "val_size", "results_dir"]
        allowed = common + [f.name for f in cls.knobs() if f.name not in common]
        check_keys(given, allowed, what="notebook parameter")
        return cls.at(**given)

    @classmethod
    def knobs(cls) -> list[dataclasses.Field]:
        return [f for f in dataclasses.fields(cls) if "check" in f.metadata]

    # -------------------------------------------------------------- folders

    @property
    def figures_dir(self) -> Path:
        return paths.profile_dirs(self.profile)["figures"]

    # -------------------------------------------------------------- runs

    def base(self, **changes) -> RunConfig:
        """A run config on this study's data and epochs."""
        return RunConfig.from_dict({"epochs": self.epochs, "train_size": self.train_size,
                                    "val_size": self.val_size, **changes})

    def plan(self, *experiments) -> int:
        from cifar_mlp import sweep
        return sweep.plan(*((e.variants, e.seeds) for e in experiments), root=self.results_dir)

    def run(self, experiment, quiet: bool = False) -> pd.DataFrame:
        """Every run of an experiment, read from the store or trained: one row per run.

        Where training is forbidden (a render), a missing run names the section
        that declares it and the command that trains it. `quiet` drops the progress
        lines, for a page that reads another section's runs.
        """
        from cifar_mlp import sweep
        try:
            return sweep.sweep(experiment.variants, experiment.seeds, root=self.results_dir,
                               quiet=quiet)
        except sweep.TrainingForbidden as e:
            only = f"make report ONLY={self.SECTION}" + (" PROFILE=smoke" if self.profile == "smoke" else "")
            raise sweep.TrainingForbidden(
                f"{e} They are declared by {self.SECTION or 'this study'}: `{only}` trains them.") from None

    def histories(self, df: pd.DataFrame) -> pd.DataFrame:
        from cifar_mlp import sweep
        return sweep.histories(df, root=self.results_dir)


@dataclass(frozen=True)
class Experiment:
    """One comparison: named variants, the seeds each trains on, the variant others are judged against."""

    variants: Mapping[str, RunConfig]
    seeds: tuple[int, ...]
    reference: str | None = None

    def __post_init__(self):
        if self.reference is not None and self.reference not in self.variants:
            raise ConfigError(f"reference={self.reference!r} is not one of the variants: "
                              f"{', '.join(self.variants)}")
