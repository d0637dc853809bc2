"""02's results, read from its runs: each sweep's choice, every width at one budget, the map.

What the conclusions and the index card say is computed here once, from the records,
so the notebook's last cells are calls. Every comparison is `cifar_mlp.study.compare`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cifar_mlp.study import compare
from cifar_mlp.study.base import Experiment

METRIC = "best_val_accuracy"  # every run at its best validation epoch: like with like
EARLY = "best_val_accuracy_early"  # the best within the wide nets' epochs: every width at one budget
SWEEPS = ("depth", "width", "activation")  # the sweeps that choose for the recipe


@dataclass(frozen=True)
class Sweep:
    """One sweep's choice, and every other variant against its reference."""

    pick: compare.Choice
    versus: list[compare.Comparison]  # each other variant − the reference, in sweep order

    @property
    def better(self) -> list[str]:
        """The variants better than the reference by the rule."""
        return [c.a for c in self.versus if c.verdict == compare.BETTER]


@dataclass(frozen=True)
class Cut:
    """Every width cut to the wide nets' budget, on the seeds every width has."""

    seeds: int
    best: str                          # the best mean within the cut
    described: str                     # its mean and interval
    runner_up: compare.Comparison      # the best − the runner-up
    flag: str                          # why the ranking may still change ("": no reason)
    versus: list[compare.Comparison]   # each width − the reference width
    narrowest: str
    widest: str
    widest_params: str                 # printed
    cost: float                        # the widest's seconds per epoch over the narrowest's


def versus(runs: pd.DataFrame, reference: str, metric: str = METRIC) -> list[compare.Comparison]:
    """Every other variant against `reference`, paired by seed, in the runs' order."""
    return [compare.paired(runs, v, reference, metric=metric)
            for v in runs["variant"].unique() if v != reference]


def sweep(runs: pd.DataFrame, reference: str) -> Sweep:
    # The best variant is chosen only if it beats the 3×128 ReLU baseline by the rule
    # (paired by seed, 95 % interval above zero); otherwise the baseline stays.
    return Sweep(compare.choose(runs, reference, metric=METRIC), versus(runs, reference))


def size(table: pd.DataFrame, variant: str) -> dict:
    """A variant's weights (printed) and seconds per epoch, as its overview table shows them."""
    return {"variant": variant, "params": f"{table.loc[variant, 'params']:,}",
            "seconds": table.loc[variant, "seconds_per_epoch"]}


def late_flag(early: pd.DataFrame, best: str) -> str:
    """At so short a budget every width may still be learning: said beside the ranking."""
    late = compare.budgets(early)
    if not late.loc[best, "late"]:
        return ""
    if late["late"].all():
        return f"all {len(late)} widths peaked in the last fifth of these epochs"
    return "it peaked in the last fifth of these epochs"


def width_cut(early: pd.DataFrame, table: pd.DataFrame, every_width: pd.DataFrame, reference: str) -> Cut:
    """The best width within the cut against the runner-up (same budget, same seeds), each width
    against `reference`, and what the widest costs; `table` is the cut's overview."""
    best = compare.best(early, metric=EARLY).variant
    runner_up = compare.summarize(early, metric=EARLY)["mean"].drop(best).idxmax()
    narrowest, widest = table.index[0], table.index[-1]
    per_epoch = every_width.groupby("variant")["seconds_per_epoch"].mean()  # every run of each width
    return Cut(early["seed"].nunique(), best,
               compare.describe(compare.summarize(early, metric=EARLY), best),
               compare.paired(early, best, runner_up, metric=EARLY), late_flag(early, best),
               versus(early, reference, metric=EARLY), narrowest, widest, f"{table.loc[widest, 'params']:,}",
               per_epoch[widest] / per_epoch[narrowest])


def best_cell(grid: pd.DataFrame, reference: str) -> compare.Comparison:
    """The map's best cell other than the baseline's, against the baseline cell, paired by seed."""
    cell = compare.summarize(grid, metric=METRIC)["mean"].drop(reference).idxmax()
    return compare.paired(grid, cell, reference, metric=METRIC)


def choices(experiments: dict[str, Experiment], sweeps: dict[str, Sweep]) -> dict:
    """The choices that passed the rule, as config values (the baseline's otherwise)."""
    chosen = {name: experiments[name].variants[s.pick.variant] for name, s in sweeps.items()}
    depth, width = len(chosen["depth"].widths), chosen["width"].widths[0]
    return {"widths": [width] * depth, "activation": chosen["activation"].activation}


def best_mean(runs: pd.DataFrame) -> str:
    """'width 512, 0.532 (95 % CI …, 5 seeds)': the variant with the best mean, and its mean."""
    summary = compare.summarize(runs, metric=METRIC)
    top = summary["mean"].idxmax()
    return f"{top}, {compare.describe(summary, top)}"


def card(frames: dict[str, pd.DataFrame], sweeps: dict[str, Sweep], cut: Cut, wide_epochs: int) -> dict:
    """The index card: headline, numbers and findings."""
    picks = {name: s.pick for name, s in sweeps.items()}
    headline = "; ".join(f"{name.capitalize()}: {p.verdict_line}" for name, p in picks.items())
    numbers = {"depth chosen": picks["depth"].variant, "best depth": best_mean(frames["depth"]),
               "width chosen": picks["width"].variant, "best width": best_mean(frames["width"]),
               f"best mean within {wide_epochs} epochs (every width)":
                   f"{cut.best}, against the runner-up {cut.runner_up.b}: {compare.difference(cut.runner_up)}"
                   + (f"; ⚑ {cut.flag}" if cut.flag else ""),
               f"cost of {cut.widest} vs {cut.narrowest}": f"{cut.cost:.0f}×",
               "activation chosen": picks["activation"].variant}
    found = [*((f"{p.best} against {p.reference} ({name}, best epoch)", p.comparison)
               for name, p in picks.items() if p.comparison is not None),
             (f"{cut.runner_up.a} against {cut.runner_up.b} (width, best within the first {wide_epochs} epochs)",
              cut.runner_up)]
    return {"headline": headline, "numbers": numbers, "findings": found}


def findings(experiments: dict[str, Experiment], frames: dict[str, pd.DataFrame],
             tables: dict[str, pd.DataFrame], early: pd.DataFrame, wide_from: int, wide_epochs: int) -> dict:
    """Everything 02 concludes, as the template, the headline and the index card need it.

    `frames` holds each experiment's runs ("wide" may be empty), `tables` the overview
    tables of "depth" and "width_cut", `early` every width scored within the cut.
    """
    sweeps = {name: sweep(frames[name], experiments[name].reference) for name in SWEEPS}
    every_width = pd.concat([frames["width"], frames["wide"]], ignore_index=True)
    cut = width_cut(early, tables["width_cut"], every_width, sweeps["width"].pick.reference)
    depth = tables["depth"]
    return {**sweeps, "cut": cut, "wide_from": wide_from, "wide_epochs": wide_epochs,
            "shallowest": size(depth, depth.index[0]), "deepest": size(depth, depth.index[-1]),
            "grid_seeds": frames["grid"]["seed"].nunique(),
            "grid_vs": best_cell(frames["grid"], experiments["grid"].reference),
            "choices": choices(experiments, sweeps), **card(frames, sweeps, cut, wide_epochs)}
