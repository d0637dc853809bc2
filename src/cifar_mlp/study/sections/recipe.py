"""06 · The recipe of 02–05's choices against the reference recipe on the test set; the claims."""

from dataclasses import dataclass

import pandas as pd

from cifar_mlp import optimizers
from cifar_mlp.config import REFERENCE_RECIPE, RunConfig
from cifar_mlp.study import compare, design
from cifar_mlp.study.base import (
    Experiment,
    Study,
    each,
    knob,
    number,
    one_of,
    seed_list,
    whole,
)
from cifar_mlp.study.sections import recipe_results

# The sections whose published choices make the recipe, in order (a later one wins a key).
CHOOSING = ("02_architecture_activations", "03_regularization", "04_optimizers",
            "05_callbacks_schedules")

# Claim 10: the largest MLP of "Práctica 8: Backpropagation y Optimizadores" (2025-09-28):
# six hidden layers, 5,955,466 weights, mixed activations, BN after the activation in two
# layers, SGD 0.04 with a plateau schedule, early stopping on val loss keeping the last weights.
LARGEST_MLP = dict(
    widths=(128, 256, 1024, 2048, 1024, 1024), activation=("relu", "relu", "gelu", "relu", "tanh", "tanh"),
    batchnorm=("after", "off", "off", "after", "off", "off"), dropout=(0.0, 0.0, 0.2, 0.2, 0.0, 0.0),
    optimizer="sgd", lr=0.04, reduce_lr=True, rlr_monitor="val_loss", rlr_factor=0.05, rlr_patience=4,
    rlr_min_lr=0.001, early_stopping=True, es_monitor="val_loss", es_patience=5, es_restore_best=False,
    batch_size=128, histograms=True, evaluate_train=True)

# The ablation's unit: one choice, the config keys that make it. The recipe with one of
# these set back to the reference's is one ablated variant, if the two differ there.
CHOICES = {
    "width": ("widths",),
    "activation": ("activation",),
    "batch norm": ("batchnorm",),
    "dropout": ("dropout", "input_dropout"),
    "L2": ("l2",),
    "initializer": ("initializer",),
    "optimizer": optimizers.keys(),
    "schedule": ("schedule", "warmup_epochs", "step_epochs", "step_factor", "final_lr_fraction"),
    "early stopping": ("early_stopping", "es_monitor", "es_patience", "es_restore_best"),
    "plateau schedule": ("reduce_lr", "rlr_monitor", "rlr_factor", "rlr_patience", "rlr_min_lr"),
    "checkpoint": ("checkpoint", "ckpt_monitor"),
    "batch": ("batch_size",),
    "label smoothing": ("label_smoothing",),
    "augmentation": ("augment",),
}


# The joint stage: every candidate for the recipe as one two-level factor. The candidates
# are what a screen (02–05) found better, what the reference recommends, the width and the
# optimizer that screened closest to Adam (04: SGD with momentum at its tuned rate).
# Early stopping changes no step before it stops (the schedule is set by `epochs`), so
# it is judged in the recipe's ablation, not as a factor.
FACTORS = {
    "width": design.Factor(dict(widths=(128,) * 3), dict(widths=(512,) * 3), "3×128", "3×512"),
    "batch norm": design.Factor(dict(batchnorm="off"), dict(batchnorm="before"), "none",
                                "before the activation"),
    "dropout": design.Factor(dict(dropout=0.0), dict(dropout=0.1), "none", "0.1"),
    "L2": design.Factor(dict(l2=0.0), dict(l2=5e-5), "none", "5e-5"),
    "warmup": design.Factor(dict(schedule="cosine"), dict(schedule="warmup_cosine"),
                            "none (cosine from the start)", "2 epochs, then cosine"),
    "optimizer": design.Factor(dict(optimizer="adam", lr=1e-3, momentum=0.0),
                               dict(optimizer="sgd", lr=0.03, momentum=0.9),
                               "Adam 1e-3", "SGD with momentum 0.9, 0.03"),
}


# 06 reads every run by its best validation epoch: the reference restores its own.
METRIC_RULE = "best_epoch"
REFERENCE_AT = "reference at the recipe's width"


def changes_from_reference(config: RunConfig) -> int:
    """How many of the ablation's choices `config` sets otherwise than the reference (at its width)."""
    reference = RunConfig(**REFERENCE_RECIPE).replace(widths=config.widths)
    return len(reverted(config.replace(checkpoint=reference.checkpoint, test=False), reference))


@dataclass(frozen=True)
class Pick:
    """The confirmation's pick: the best arm, or the simplest of the arms tied with it."""

    variant: str
    best: str
    tied: tuple[str, ...]          # arms with no detectable difference from the best
    comparison: compare.Comparison | None  # pick − best, when the pick is not the best

    @property
    def sentence(self) -> str:
        if self.variant == self.best and not self.tied:
            return f"*{self.best}* has the best mean and is better than every other arm by the rule"
        if self.variant == self.best:
            return (f"*{self.best}* has the best mean and is also the simplest of the arms the rule "
                    f"cannot tell from it ({', '.join(f'*{t}*' for t in self.tied)})")
        return (f"*{self.best}* has the best mean; *{self.variant}*, with fewer choices away from the "
                f"reference, shows no detectable difference from it ({compare.difference(self.comparison)}), "
                "so the simpler one is the recipe")


def simplest(runs: pd.DataFrame, variants: dict) -> Pick:
    """The best arm by mean if it is better than every other by the rule; otherwise the
    simplest of the arms with no detectable difference from it (fewest changes from the
    reference; the higher mean on a tie)."""
    scored = compare.score(runs, METRIC_RULE)
    best = compare.best(scored, metric="score")
    table = best.table.set_index("variant")
    tied = [best.variant] + list(table.index[table["verdict"] == compare.NO_DIFFERENCE])
    means = compare.summarize(scored, metric="score")["mean"]
    pick = min(tied, key=lambda v: (changes_from_reference(variants[v]), -means[v]))
    comparison = None if pick == best.variant else compare.paired(scored, pick, best.variant, metric="score")
    return Pick(pick, best.variant, tuple(tied[1:]), comparison)


def cell_name(signs: dict) -> str:
    """A cell's name: the factors at their high level, "+" joined ("baseline" if none)."""
    return " + ".join(n for n, s in signs.items() if s > 0) or "baseline"


def reverted(recipe: RunConfig, reference: RunConfig) -> dict[str, RunConfig]:
    """The recipe with each choice where it differs from the reference set back to the reference's."""
    found = {}
    for choice, keys in CHOICES.items():
        back = {k: getattr(reference, k) for k in keys if getattr(recipe, k) != getattr(reference, k)}
        if back:
            found[f"{choice} reverted"] = recipe.replace(**back)
    return found


@dataclass(frozen=True, kw_only=True)
class Recipe(Study):
    SECTION = "06_recipe"
    CHOOSING = CHOOSING
    PROFILES = {
        # 30 epochs: the reference recipe's length.
        # The joint stage: every candidate of FACTORS, two seeds a cell (each effect is
        # a contrast of half the runs against the other half: 32 runs a side); its
        # confirmation and the recipe's ablation on five fresh seeds.
        "full": dict(seeds=(0, 1, 2, 3, 4), epochs=30, reach_accuracy=0.45, factors=tuple(FACTORS),
                     joint_seeds=(10, 11), joint_epochs=30, confirm_seeds=(20, 21, 22, 23, 24)),
        # Three factors (four cells) and two seeds: every step runs in seconds.
        "smoke": dict(seeds=(0, 1), reach_accuracy=0.25, factors=("width", "batch norm", "dropout"),
                      joint_seeds=(10, 11), joint_epochs=3, confirm_seeds=(20, 21)),
    }

    reach_accuracy: float = knob(number(0, 1), "claim 3: 'faster' is fewer epochs to this val accuracy")
    # Seeds no screen used: the joint stage judges its cells afresh.
    joint_seeds: tuple[int, ...] = knob(seed_list, "seeds of the joint factorial stage")
    joint_epochs: int = knob(whole(1, 1000), "epochs of each factorial cell")
    factors: tuple[str, ...] = knob(each(one_of(FACTORS)), "the candidate choices the joint stage varies")
    confirm_seeds: tuple[int, ...] = knob(seed_list, "fresh seeds of the confirmation and the ablation")

    def cells(self) -> pd.DataFrame:
        """The factorial's cells: a ±1 column per factor of `factors`, indexed by cell name."""
        table = design.cells(self.factors)
        return table.set_index(pd.Index([cell_name(r) for r in table.to_dict("records")], name="cell"))

    def cell_config(self, signs: dict, **changes) -> RunConfig:
        """The config of one cell: every factor at its level, the rest the library's defaults."""
        settings = {}
        for name, sign in signs.items():
            settings.update(FACTORS[name].setting(sign))
        return self.base(**settings, **changes)

    def joint(self) -> Experiment:
        """Every cell of the half-fraction factorial over `factors`, on the joint seeds."""
        return Experiment({name: self.cell_config(signs, epochs=self.joint_epochs)
                           for name, signs in self.cells().to_dict("index").items()}, self.joint_seeds)

    def effects(self, runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The joint stage read: main effects and interactions (points, 95 % CI), and each cell
        against the best cell, from one linear model with the seed as a block."""
        scored = compare.score(runs, METRIC_RULE)[["variant", "seed", "score"]].join(self.cells(), on="variant")
        scored["score"] *= 100  # points
        model = design.fit(scored, self.factors)
        return design.effects(scored, self.factors), design.against_best(model, self.cells())

    def confirmation(self, cells: pd.DataFrame) -> Experiment:
        """The cells that the joint stage cannot tell from its best, and the reference at the
        best cell's width, on fresh seeds; each keeps its best epoch's weights, so the
        recipe and the reference can be scored on test later without training again."""
        chosen = cells[cells["overlaps"]]
        variants = {name: self.cell_config(chosen.loc[name, list(self.factors)].to_dict(), checkpoint=True)
                    for name in chosen.sort_values("fitted", ascending=False).index}
        best = variants[chosen["fitted"].idxmax()]
        variants[REFERENCE_AT] = self.base(**REFERENCE_RECIPE).replace(widths=best.widths)
        return Experiment(variants, self.confirm_seeds)

    def choose(self, quiet: bool = True) -> RunConfig:
        """The recipe: what 06 answers, and what 07 and the claims ask (`Recipe.at(p).choose()`).

        The best arm of the confirmation by the rule, or the simplest (fewest choices away
        from the reference) of the arms with no detectable difference from it; then the
        ablation may replace it (`settled`).
        """
        return self.settle(quiet=quiet).recipe

    def settle(self, quiet: bool = True) -> "Settled":
        joint = self.run(self.joint(), quiet)
        effects, cells = self.effects(joint)
        confirmation = self.confirmation(cells)
        confirm_runs = self.run(confirmation, quiet)
        pick = simplest(confirm_runs, confirmation.variants)
        recipe = confirmation.variants[pick.variant]
        ablations, replaced = [], []
        for _ in range(len(CHOICES)):  # each round drops one choice: it ends
            ablation = self.ablation_of(recipe)
            runs = self.run(ablation, quiet)
            table = compare.against(compare.score(runs, METRIC_RULE), "recipe", metric="score")
            ablations.append((ablation, runs, table))
            better = table[table["verdict"] == compare.BETTER]
            if better.empty:
                break
            name = better.sort_values("diff").iloc[-1]["variant"]
            replaced.append(name)
            recipe = ablation.variants[name]
        return Settled(joint, effects, cells, confirmation, confirm_runs, pick, recipe,
                       ablations, replaced)

    def arms(self, recipe: RunConfig) -> dict[str, RunConfig]:
        """The recipe and what it is judged against at the end: the reference, and the reference
        at the recipe's width (compute-matched). An arm that trains as the recipe does (the
        recipe *is* the reference at its width), or as another arm does, is left out."""
        found = {"recipe": recipe}
        for name, arm in ((REFERENCE_AT, self.base(**REFERENCE_RECIPE).replace(widths=recipe.widths)),
                          ("reference", self.base(**REFERENCE_RECIPE))):
            if not any(arm.same_training(kept) for kept in found.values()):
                found[name] = arm
        return found

    def ablation_of(self, recipe: RunConfig) -> Experiment:
        """Leave-one-out: each choice the recipe makes, taken back on its own.

        A choice the joint stage varied goes back to its low level (FACTORS): what the
        recipe is without it, even where the reference makes the same choice (the recipe
        may *be* the reference at its width). Early stopping, which no factor varied,
        is turned off. The reference at the recipe's width joins when it is another model.
        """
        variants = {f"{name}: {FACTORS[name].low_name}": recipe.replace(**FACTORS[name].low)
                    for name in self.factors if recipe.replace(**FACTORS[name].high) == recipe}
        if recipe.early_stopping:
            variants["early stopping: none"] = recipe.replace(early_stopping=False)
        if REFERENCE_AT in self.arms(recipe):
            reference = self.base(**REFERENCE_RECIPE).replace(widths=recipe.widths)
            variants[REFERENCE_AT] = reference.replace(checkpoint=recipe.checkpoint)
        return Experiment({"recipe": recipe, **variants}, self.confirm_seeds[:3], reference="recipe")

    def doubled(self, recipe: RunConfig) -> Experiment:
        """The decisive comparisons again at twice the epochs, on every confirmation seed.

        Three seeds is a check's floor; on three, the recipe against the reference at 60
        epochs left an interval too wide to decide either way, so the last two seeds of
        the confirmation were added (the page says so).
        """
        return Experiment({name: c.replace(epochs=2 * c.epochs, checkpoint=True)
                           for name, c in self.arms(recipe).items()}, self.confirm_seeds, reference="recipe")

    def finals(self, recipe: RunConfig) -> Experiment:
        """The test set, read once at the end, by the recipe and the arms it is judged against."""
        return Experiment({name: c.replace(test=True, checkpoint=True) for name, c in self.arms(recipe).items()},
                          self.confirm_seeds, reference="recipe")

    LITERATURE = recipe_results.LITERATURE

    def changes(self, config: RunConfig) -> int:
        return changes_from_reference(config)

    def budget_checks(self, settled: "Settled", doubled_runs: pd.DataFrame) -> pd.DataFrame:
        """The recipe against the reference at its width and at 3×128, at 30 and at 60 epochs."""
        normal = pd.concat([settled.ablations[-1][1], self.run(self.finals(settled.recipe), quiet=True)])
        arms = list(self.arms(settled.recipe))
        normal = normal[normal["variant"].isin(arms)].drop_duplicates(["variant", "seed"])
        return recipe_results.budget_checks([("recipe", arm) for arm in arms[1:]], normal, doubled_runs)

    def tested(self, final_runs: pd.DataFrame) -> recipe_results.Tested:
        return recipe_results.tested(final_runs, self.results_dir)

    def findings(self, settled: "Settled", checks, tested, claim_table) -> dict:
        return recipe_results.findings(settled, checks, tested, claim_table,
                                       {n: FACTORS[n] for n in self.factors}, REFERENCE_AT)

    def largest(self) -> Experiment:
        # About 14× the weights of 3×128: three seeds, the fewest a claim rests on.
        return Experiment({"largest MLP": self.base(**LARGEST_MLP, test=True)}, self.seeds[:3])


@dataclass(frozen=True)
class Settled:
    """06's answer and how it was reached, stage by stage."""

    joint: pd.DataFrame          # the factorial's runs
    effects: pd.DataFrame        # main effects and interactions, points
    cells: pd.DataFrame          # each cell against the best cell, from the model
    confirmation: Experiment     # the arms confirmed on fresh seeds
    confirm_runs: pd.DataFrame
    pick: Pick                   # the confirmation's pick (the simplest of the best's equals)
    recipe: RunConfig            # the pick, after the ablation
    ablations: list              # (experiment, runs, table) per round
    replaced: list[str]          # ablation rows that beat the recipe and became it
