"""A section's parameters, declared once, validated, and bound to its profile's folders.

Each section of the study (`cifar_mlp.study.sections`) subclasses `Study` with its
own knobs as typed fields and their values per profile. A notebook turns its
parameters cell into one with `Section.from_notebook(globals())`; another
section reads the same declaration with `Section.at(profile)`, so nothing is
restated. Every knob is checked by the rule named in its field, with a message
that names the knob as the user wrote it, before anything trains.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from cifar_mlp import paths
from cifar_mlp.config import (
    PROFILES,
    ConfigError,
    RunConfig,
    check_choice,
    check_keys,
    check_number,
    check_seeds,
    refuse,
)

# Names IPython puts in every namespace, never parameters.
_IPYTHON_NAMES = {"In", "Out", "exit", "quit", "get_ipython", "open"}


# papermill puts this line first in the cell of the parameters it was given.
INJECTED = "# Parameters"


def parameter_names(cells, known) -> list[str]:
    """The names a notebook's parameter cells set, from the sources of the cells that ran.

    A parameter cell holds only assignments of plain values (literals) to names, and is
    either papermill's injected cell or sets at least one `known` parameter: a scratch
    cell (`x = 5`) is not one. Later cells that compute values are never parameter cells.
    """
    names = []
    for source in cells:
        assigned = _literal_assignments(source)
        if assigned and (source.lstrip().startswith(INJECTED) or set(assigned) & set(known)):
            names += [n for n in assigned if n not in names]
    return names


def _literal_assignments(source: str) -> list[str] | None:
    """The names a cell of `name = literal` lines assigns; None if it does anything else."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names = []
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            return None
        try:
            ast.literal_eval(statement.value)
        except ValueError:
            return None
        names.append(statement.targets[0].id)
    return names


# ---------------------------------------------------------------- knob rules

def knob(check: Callable[[str, Any], Any], help: str = "") -> Any:
    """A section parameter: `check(name, value)` validates and returns the value to keep."""
    return field(default=None, metadata={"check": check, "help": help})


def seed_list(name, value):
    return check_seeds(value, name)


def whole(low=1, high=None, optional=False):
    def check(name, value):
        check_number(name, value, low=low, high=high, integer=True, optional=optional)
        return value
    return check


def each(check_one, distinct=True):
    """A non-empty list, each item checked by `check_one`; a grid (`distinct`) repeats no value."""
    def check(name, values):
        if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)) or not values:
            refuse(name, values, "a non-empty list")
        for i, v in enumerate(values):
            check_one(f"{name}[{i}]", v)
        if distinct and len(set(map(repr, values))) < len(values):
            refuse(name, list(values), "a list without repeated values (each would train twice)")
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
        check_choice(name, value, list(choices))
        return value
    return check


def number(low=None, high=None):
    def check(name, value):
        check_number(name, value, low=low, high=high, low_open=True)
        return value
    return check


# ---------------------------------------------------------------- the study

# Smoke: every cell in seconds on a few thousand real images. Full: the real study.
COMMON = {
    "smoke": dict(seeds=(0,), epochs=3, train_size=2000, val_size=1000),
    "full": dict(seeds=(0, 1), epochs=30, train_size=None, val_size=5000),
}


# What kind of verdict each section gives: 02–05 screen one choice at a time at 3×128, each
# judged on the runs that picked it. 06's joint stage says "confirmed" itself, when it
# publishes verdicts confirmed on fresh seeds (`publish(stage=...)`).
STAGES = {"02_architecture_activations": "screen", "03_regularization": "screen",
          "04_optimizers": "screen", "05_callbacks_schedules": "screen"}


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
        check_choice("profile", profile, PROFILES)
        if results_dir is not None and not isinstance(results_dir, (str, Path)):
            refuse("results_dir", results_dir, "a folder path as a string, or None for the profile's")
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

        In a kernel, the parameters are the names set in the cells of plain values that ran
        (`parameter_cells`): the parameters cell, papermill's injected one, a user's edit
        of either. Any other global, such as one a later cell made, is not a parameter, so
        any cell can run again. An unknown name in such a cell is a typo and is refused, so
        `papermill -p learnig_rate 0.1` fails instead of being ignored. Outside a kernel
        (no `In`), every plain value of `namespace` is a parameter.
        """
        plain = (int, float, str, bool, list, tuple, type(None))
        names = set(parameter_names(namespace["In"], cls.parameters())) if "In" in namespace else {
            k for k, v in namespace.items()
            if not k.startswith("_") and k not in _IPYTHON_NAMES and isinstance(v, plain)}
        given = {k: namespace[k] for k in sorted(names, key=list(namespace).index) if k in namespace}
        check_keys(given, cls.parameters(), what="notebook parameter")
        return cls.at(**given)

    @classmethod
    def parameters(cls) -> list[str]:
        """What a notebook of this section may set: the common knobs, then its own."""
        common = ["profile", "seeds", "epochs", "train_size", "val_size", "results_dir"]
        return common + [f.name for f in cls.knobs() if f.name not in common]

    @property
    def stage(self) -> str | None:
        """"screen" or "confirmed": what this section's verdicts are (None: it gives none)."""
        return STAGES.get(self.SECTION)

    def comparisons(self) -> int | None:
        """How many variants a screen set against a reference (each experiment's variants but
        its reference): the more a page compares, the likelier a lucky winner among them.
        None for a section that is not a screen, or declares no experiments."""
        experiments = getattr(self, "experiments", None)
        if self.stage != "screen" or experiments is None:
            return None
        return sum(len(e.variants) - 1 for e in experiments().values())

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
        from cifar_mlp.runs import sweep
        return sweep.plan(*((e.variants, e.seeds) for e in experiments), root=self.results_dir)

    def run(self, experiment, quiet: bool = False) -> pd.DataFrame:
        """Every run of an experiment, read from the store or trained: one row per run.

        Where training is forbidden (a render), a missing run names the section
        that declares it and the command that trains it. `quiet` drops the progress
        lines, for a page that reads another section's runs.
        """
        from cifar_mlp.runs import sweep
        try:
            return sweep.sweep(experiment.variants, experiment.seeds, root=self.results_dir,
                               quiet=quiet)
        except sweep.TrainingForbidden as e:
            only = f"make report ONLY={self.SECTION}" + (" PROFILE=smoke" if self.profile == "smoke" else "")
            raise sweep.TrainingForbidden(
                f"{e} They are declared by {self.SECTION or 'this study'}: `{only}` trains them.") from None

    def models(self, *experiments) -> pd.DataFrame:
        """Each variant's model in one line (its layers and weights), once per distinct model."""
        from cifar_mlp.core.models import described
        rows = {}
        for experiment in experiments:
            for name, config in experiment.variants.items():
                rows.setdefault(name, described(config))
        return pd.DataFrame({"model": rows}).rename_axis("variant")

    def histories(self, df: pd.DataFrame) -> pd.DataFrame:
        from cifar_mlp.runs import sweep
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
