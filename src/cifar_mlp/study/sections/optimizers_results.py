"""04's results, read from its stages' runs: the tuned settings, each schedule's ranking, the pick.

What the conclusions, the headline and the index card say is computed here once,
from the records, so the notebook's last cells are calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cifar_mlp import optimizers
from cifar_mlp.study import compare

METRIC = "val_accuracy"  # the final model: no run here restores an earlier epoch
# The reference recipe's optimizer and schedule (05 decides the schedule): another optimizer
# enters the recipe only if it beats this one, both with this schedule, by the rule.
REFERENCE, REFERENCE_SCHEDULE = "adam", "warmup_cosine"
# What the recipe takes from this section: the optimizer's own config values.
OPTIMIZER_KEYS = tuple(k for k in optimizers.keys() if k != "clipnorm")
# The optimizers' names in prose (the variants keep their config names).
SPOKEN = {**{kind: spec.spoken for kind, spec in optimizers.KINDS.items()}, "sgd": "plain SGD"}


def kind_of(variant: str) -> str:
    """The optimizer that starts every variant name, e.g. "adam lr=0.001" → "adam"."""
    return variant.split()[0].rstrip(",")


def variant_of(kind: str, schedule: str) -> str:
    """A final-stage variant's name: "adam, warmup_cosine"."""
    return f"{kind}, {schedule}"


def spoken(variant: str) -> str:
    """'sgd_momentum, warmup_cosine' → 'SGD with momentum'."""
    kind = kind_of(variant)
    return SPOKEN.get(kind, kind)


def at_edge(lr: float, grid: tuple[float, ...]) -> bool:
    """The chosen rate is an end of its grid: the best rate may lie beyond it."""
    return len(grid) > 1 and lr in (min(grid), max(grid))


def tuned_settings(tuned: pd.DataFrame, grids: dict) -> list[dict]:
    """Each optimizer's tuned rate and own hyperparameter, with its mean over the tuning seeds."""
    return [{"kind": kind, "lr": row["lr"], "at_edge": at_edge(row["lr"], grids[kind]),
             "own": row["variant"].split(" ", 1)[1], "accuracy": row["val_accuracy"]}
            for kind, row in tuned.loc[list(grids)].iterrows()]


@dataclass(frozen=True)
class Ranking:
    """One schedule's tuned optimizers: the best by mean, and each other one against it."""

    variant: str      # the best, e.g. "adam, constant"
    kind: str         # its optimizer, e.g. "adam"
    accuracy: str     # its mean and interval over seeds (compare.describe)
    others: list      # (optimizer, Comparison other − best, paired by seed), best mean first


def ranking(final: pd.DataFrame, schedule: str) -> Ranking:
    """The schedule's best optimizer, and every other one against it, paired by seed."""
    rows = final[final["schedule"] == schedule]
    top = compare.best(rows, metric=METRIC)
    others = [(kind_of(r.variant), compare.paired(rows, r.variant, top.variant, metric=METRIC))
              for r in top.table.iloc[1:].itertuples()]
    accuracy = compare.describe(compare.summarize(final, metric=METRIC), top.variant)
    return Ranking(top.variant, kind_of(top.variant), accuracy, others)


def schedule_effects(final: pd.DataFrame, kinds) -> dict:
    """Warmup + cosine against a constant rate, per optimizer, paired by seed."""
    return {kind: compare.paired(final, variant_of(kind, "warmup_cosine"), variant_of(kind, "constant"),
                                 metric=METRIC) for kind in kinds}


def recipe_pick(final: pd.DataFrame, kinds) -> compare.Choice | None:
    """The best optimizer with the reference schedule, if it beats the reference by the rule;
    None when the reference optimizer is not among those compared."""
    if REFERENCE not in kinds:
        return None
    return compare.choose(final[final["schedule"] == REFERENCE_SCHEDULE],
                          variant_of(REFERENCE, REFERENCE_SCHEDULE), metric=METRIC)


def adopted(pick: compare.Choice | None, warmup: Ranking) -> str | None:
    """The final variant whose tuned settings the recipe takes, or None: the reference optimizer
    then stays at its usual settings, as its tuned rate was chosen by a mean, never by the rule."""
    if pick is None:
        return warmup.variant
    return pick.variant if pick.variant != pick.reference else None


def for_recipe(pick: compare.Choice | None, warmup: Ranking) -> str:
    """The headline's last clause: what the recipe takes, and the comparison it rests on."""
    decisive = pick.decisive if pick else None
    if decisive is None:
        return spoken(warmup.variant)
    kept = "is chosen" if pick.variant != pick.reference else "stays"
    return (f"{spoken(decisive.a)} {compare.difference(decisive)} against {spoken(decisive.b)}, both "
            f"with warmup + cosine, so {spoken(pick.variant)} {kept}")


def card(constant: Ranking, warmup: Ranking, effects: dict, pick: compare.Choice | None,
         tuned: pd.DataFrame, epochs: int) -> dict:
    """The index card: headline, numbers and findings."""
    gaining = sum(c.verdict == compare.BETTER for c in effects.values())
    headline = (f"Each optimizer at its own tuned rate: {spoken(constant.kind)} has the highest mean at a "
                f"constant rate, {spoken(warmup.kind)} with warmup + cosine; "
                f"for the recipe: {for_recipe(pick, warmup)}")
    numbers = {f"highest mean, constant rate (last of {epochs} epochs)": f"{constant.kind} {constant.accuracy}",
               f"highest mean, warmup + cosine (last of {epochs} epochs)": f"{warmup.kind} {warmup.accuracy}",
               **{f"{kind} lr": float(tuned.loc[kind, "lr"]) for kind in effects},
               "better with the schedule": f"{gaining} of {len(effects)} optimizers"}
    found = [*([(f"{spoken(pick.best)} against {SPOKEN[REFERENCE]}, both with warmup + cosine", pick.comparison)]
               if pick and pick.comparison is not None else []),
             *((f"{kind}: warmup + cosine against a constant rate", c)
               for kind, c in effects.items() if kind == REFERENCE)]
    return {"headline": headline, "numbers": numbers, "findings": found, "gaining": gaining}


def findings(final: pd.DataFrame, tuned: pd.DataFrame, final_configs: dict, *, grids: dict, usual,
             tuning: tuple[int, ...], epochs: int) -> dict:
    """Everything 04 concludes, as the template, the headline and the index card need it.

    `grids` is each compared optimizer's learning-rate grid, in the study's order; `usual`
    the reference optimizer as usually configured, which the recipe keeps unless beaten.
    """
    constant, warmup = ranking(final, "constant"), ranking(final, "warmup_cosine")
    effects = schedule_effects(final, grids)
    pick = recipe_pick(final, grids)
    chosen = adopted(pick, warmup)
    winner = (final_configs[chosen] if chosen else usual).to_dict()
    said = {"tuned_on": list(tuning), "settings": tuned_settings(tuned, grids), "epochs": epochs,
            "constant": constant, "warmup": warmup, "effects": effects}
    return {**said, **card(constant, warmup, effects, pick, tuned, epochs),
            "choices": {k: winner[k] for k in OPTIMIZER_KEYS}, "adopted": chosen}
