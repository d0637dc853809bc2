"""06 · The recipe of 02–05's choices against the reference recipe on the test set; the claims."""

from dataclasses import dataclass

from cifar_mlp.config import REFERENCE_RECIPE, RunConfig
from cifar_mlp.study import design
from cifar_mlp.study.base import Experiment, Study, knob, number, seed_list, whole

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
    batch_size=128, histograms=True)

# The ablation's unit: one choice, the config keys that make it. The recipe with one of
# these set back to the reference's is one ablated variant, if the two differ there.
CHOICES = {
    "width": ("widths",),
    "activation": ("activation",),
    "batch norm": ("batchnorm",),
    "dropout": ("dropout", "input_dropout"),
    "L2": ("l2",),
    "initializer": ("initializer",),
    "optimizer": ("optimizer", "lr", "beta_1", "beta_2", "epsilon", "amsgrad", "momentum",
                  "nesterov", "rho", "weight_decay", "clipnorm"),
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
                            "cosine", "2 epochs' warmup, then cosine"),
    "optimizer": design.Factor(dict(optimizer="adam", lr=1e-3),
                               dict(optimizer="sgd", lr=0.03, momentum=0.9),
                               "Adam 1e-3", "SGD with momentum 0.9, 0.03"),
}


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
        "full": dict(seeds=(0, 1, 2, 3, 4), epochs=30, reach_accuracy=0.45,
                     joint_seeds=(10, 11), joint_epochs=30),
        "smoke": dict(seeds=(0, 1), reach_accuracy=0.25, joint_seeds=(10, 11), joint_epochs=3),
    }

    reach_accuracy: float = knob(number(0, 1), "claim 3: 'faster' is fewer epochs to this val accuracy")
    # Seeds no screen used: the joint stage judges its cells afresh.
    joint_seeds: tuple[int, ...] = knob(seed_list, "seeds of the joint factorial stage")
    joint_epochs: int = knob(whole(1, 1000), "epochs of each factorial cell")

    def joint(self) -> Experiment:
        """Every cell of the half-fraction factorial over `FACTORS`, on the joint seeds.

        Scored by the last epoch: no cell picks its epoch on the images that judge it.
        """
        table = design.cells(FACTORS)
        variants = {}
        for signs in table.to_dict("records"):
            changes = {}
            for name, sign in signs.items():
                changes.update(FACTORS[name].setting(sign))
            variants[cell_name(signs)] = self.base(**changes, epochs=self.joint_epochs)
        return Experiment(variants, self.joint_seeds)

    def recipes(self, choices: dict) -> Experiment:
        """The recipe (the default config with `choices` applied) and the reference, scored on test."""
        return Experiment({"recipe": self.base(**choices, test=True),
                           "reference": self.base(**REFERENCE_RECIPE, test=True)},
                          self.seeds, reference="reference")

    def ablation(self, choices: dict) -> Experiment:
        """Which choices carry the recipe: leave-one-out, and the reference at the recipe's width.

        On validation only (the test set is read once, for the recipe and the reference),
        on the first three seeds, paired with the recipe's own runs.
        """
        both = self.recipes(choices).variants
        recipe, reference = both["recipe"], both["reference"]
        variants = {name: c.replace(test=False) for name, c in reverted(recipe, reference).items()}
        if recipe.widths != reference.widths:
            # Compute-matched: the reference's every setting with the recipe's weights.
            variants[f"reference at {'×'.join(map(str, recipe.widths))}"] = \
                reference.replace(widths=recipe.widths, test=False)
        return Experiment({"recipe": recipe, **variants}, self.seeds[:3], reference="recipe")

    def largest(self) -> Experiment:
        # About 14× the weights of 3×128: three seeds, the fewest a claim rests on.
        return Experiment({"largest MLP": self.base(**LARGEST_MLP, test=True)}, self.seeds[:3])
