"""04 · Five optimizers, each at its own tuned rate, with a constant rate and warmup + cosine.

Three stages, each choosing from the stored runs of the one before by the
mean over the first `tuning_seeds` seeds: a learning rate per optimizer, then
the optimizer's own hyperparameter at that rate, then the tuned optimizers over
every seed with both schedules. Re-running the stages re-derives every choice
from the store.
"""

from dataclasses import dataclass

import pandas as pd

from cifar_mlp import optimizers
from cifar_mlp.config import REFERENCE_MODEL, ConfigError
from cifar_mlp.study.base import (
    Experiment,
    Study,
    each,
    knob,
    one_of,
    whole,
)
from cifar_mlp.study.sections import optimizers_results
from cifar_mlp.study.sections.optimizers_results import kind_of, variant_of

# Each optimizer the study compares, its grids and its name in prose: one table for all.
KINDS = optimizers.KINDS
SCHEDULES = ("constant", "warmup_cosine")
CHANCE = 0.1  # a diverged tuning run's score: ten classes


@dataclass(frozen=True, kw_only=True)
class Optimizers(Study):
    SECTION = "04_optimizers"
    PROFILES = {
        # 15 epochs for every stage, so stages share runs. Tuning on 3 seeds: the settings
        # a grid compares differ by about one seed's noise.
        # Each optimizer's rate grid and own settings per profile: `optimizers.KINDS`.
        "full": dict(seeds=(0, 1, 2, 3, 4), tuning_seeds=3, epochs=15, optimizers=tuple(KINDS)),
        # Three optimizers, two rates and two betas for Adam: every stage has a choice to make.
        "smoke": dict(tuning_seeds=1, optimizers=("adam", "sgd_nesterov", "rmsprop")),
    }

    tuning_seeds: int = knob(whole(1, 100), "how many of the seeds (the first) tune stages 1 and 2")
    optimizers: tuple[str, ...] = knob(each(one_of(KINDS)), "optimizers compared")

    def __post_init__(self):
        if self.tuning_seeds > len(self.seeds):
            raise ConfigError(f"tuning_seeds={self.tuning_seeds!r} is not allowed: at most the "
                              f"{len(self.seeds)} seeds given ({list(self.seeds)})")

    @property
    def tuning(self) -> tuple[int, ...]:
        """The seeds stages 1 and 2 tune on."""
        return self.seeds[:self.tuning_seeds]

    def lr_grid(self, kind: str) -> tuple[float, ...]:
        return KINDS[kind].rates[self.profile]

    def own_values(self, kind: str) -> list[dict]:
        """Its own hyperparameter's settings; the first is the usual one, used to tune the rate."""
        return [dict(own) for own in KINDS[kind].own[self.profile]]

    def usual(self, kind: str):
        """The optimizer as usually configured: the first value of its own hyperparameter."""
        return self.base(**REFERENCE_MODEL, **KINDS[kind].config, **self.own_values(kind)[0])

    def rates(self) -> Experiment:
        return Experiment({f"{k} lr={lr:g}": self.usual(k).replace(lr=lr)
                           for k in self.optimizers for lr in self.lr_grid(k)}, self.tuning)

    def own(self, rates: dict) -> Experiment:
        """Each optimizer's own hyperparameter at its chosen rate ({kind: config})."""
        return Experiment({f"{k} {_setting(changes)}": rates[k].replace(**changes)
                           for k in self.optimizers for changes in self.own_values(k)}, self.tuning)

    def final(self, tuned: dict) -> Experiment:
        return Experiment({variant_of(k, s): tuned[k].replace(schedule=s)
                           for k in self.optimizers for s in SCHEDULES}, self.seeds)

    def stages(self, quiet: bool = False) -> "Stages":
        """The three stages through the store, each choosing by the mean over the tuning seeds."""
        rate_runs = self.rates()
        rates = self.run(rate_runs, quiet)
        best_lr = pick(rates)
        own_runs = self.own({k: rate_runs.variants[v] for k, v in best_lr["variant"].items()})
        own = self.run(own_runs, quiet)
        tuned = pick(own)
        final_runs = self.final({k: own_runs.variants[v] for k, v in tuned["variant"].items()})
        return Stages(rates, best_lr, own, tuned, self.run(final_runs, quiet),
                      {"rates": rate_runs, "own": own_runs, "final": final_runs})

    def experiments(self) -> dict[str, Experiment]:
        """The stages' experiments; the second and third depend on the stored tuning runs."""
        return self.stages().experiments

    def findings(self, stages: "Stages") -> dict:
        """What 04 concludes from its stages, as its template, headline and index card need it."""
        return optimizers_results.findings(
            stages.final, stages.tuned, stages.experiments["final"].variants,
            grids={k: self.lr_grid(k) for k in self.optimizers},
            usual=self.usual(optimizers_results.REFERENCE), tuning=self.tuning, epochs=self.epochs)


@dataclass(frozen=True)
class Stages:
    rates: pd.DataFrame      # stage 1: every rate of every optimizer, tuning seeds
    best_lr: pd.DataFrame    # its best variant per optimizer (indexed by optimizer)
    own: pd.DataFrame        # stage 2: own hyperparameter at that rate, tuning seeds
    tuned: pd.DataFrame      # its best variant per optimizer: the tuned optimizers
    final: pd.DataFrame      # stage 3: tuned optimizers × schedules over every seed
    experiments: dict        # the three stages' Experiments

    @property
    def missing(self) -> list[str]:
        """The stages with fewer runs than their experiment declares (variants × seeds)."""
        frames = {"rates": self.rates, "own": self.own, "final": self.final}
        return [name for name, runs in frames.items()
                if len(runs) != len(self.experiments[name].variants) * len(self.experiments[name].seeds)]

    @property
    def reused(self) -> pd.DataFrame:
        """Stage 3's constant-rate runs on the tuning seeds: they should be stage 2's tuned runs, read back."""
        tuning = self.experiments["own"].seeds
        return self.final[(self.final["schedule"] == "constant") & self.final["seed"].isin(tuning)]


def pick(df: pd.DataFrame) -> pd.DataFrame:
    """The best variant per optimizer by its mean final validation accuracy over seeds,
    indexed by optimizer: variant, lr, val_accuracy (the mean), seeds (how many).

    A diverged run counts as chance (0.1), so an unstable rate is not picked for
    the seeds where it happened to survive.
    """
    df = df.assign(optimizer_name=df["variant"].map(kind_of),
                   score=df["val_accuracy"].where(df["status"] == "ok", CHANCE).fillna(CHANCE))
    means = df.groupby(["optimizer_name", "variant"], sort=False).agg(
        lr=("lr", "first"), val_accuracy=("score", "mean"), seeds=("seed", "nunique")).reset_index()
    best = means.loc[means.groupby("optimizer_name", sort=False)["val_accuracy"].idxmax()]
    return best.set_index("optimizer_name")


def _setting(changes: dict) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in changes.items())
