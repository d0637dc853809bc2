"""06's ablation and 07's ladder: what they declare and how they decide, on synthetic runs."""

import pandas as pd
import pytest

from cifar_mlp.config import REFERENCE_RECIPE, RunConfig
from cifar_mlp.study.sections import Beyond, Recipe
from cifar_mlp.study.sections.beyond import START, STEPS
from cifar_mlp.study.sections.recipe import reverted

RECIPE_CHOICES = dict(widths=(512, 512, 512), dropout=0.1, schedule="cosine", checkpoint=True)


def differing(config: RunConfig, other: RunConfig) -> dict:
    return {k: getattr(config, k) for k in RunConfig().to_dict() if getattr(config, k) != getattr(other, k)}


def test_the_ablation_takes_back_each_choice_alone_also_when_the_recipe_is_the_reference():
    study = Recipe.at("full")
    recipe = study.base(**REFERENCE_RECIPE).replace(widths=(512,) * 3, checkpoint=True)
    ablation = study.ablation_of(recipe)
    assert ablation.reference == "recipe" and ablation.variants["recipe"] == recipe
    assert ablation.seeds == study.confirm_seeds[:3]
    rows = {n: differing(c, recipe) for n, c in ablation.variants.items() if n != "recipe"}
    # Each choice the joint stage varied, back at its low level; early stopping off. The
    # optimizer is at its low level already, and the reference at this width is the recipe.
    assert rows == {
        "width: 3×128": {"widths": (128,) * 3},
        "batch norm: none": {"batchnorm": "off"},
        "dropout: none": {"dropout": 0.0},
        "L2: none": {"l2": 0.0},
        "warmup: none (cosine from the start)": {"schedule": "cosine"},
        "early stopping: none": {"early_stopping": False},
    }
    assert not any(c.test for c in ablation.variants.values()), "the ablation would read the test set"


def test_the_ablation_adds_the_reference_at_the_width_when_the_recipe_is_another_model():
    study = Recipe.at("full")
    recipe = study.base(**REFERENCE_RECIPE).replace(widths=(512,) * 3, dropout=0.0, early_stopping=False,
                                                   optimizer="sgd", lr=0.03, momentum=0.9, checkpoint=True)
    rows = {n: differing(c, recipe) for n, c in study.ablation_of(recipe).variants.items() if n != "recipe"}
    assert "dropout: none" not in rows and "early stopping: none" not in rows
    assert rows["optimizer: Adam 1e-3"] == {"optimizer": "adam", "lr": 1e-3, "momentum": 0.0}
    assert set(rows["reference at the recipe's width"]) == {"optimizer", "lr", "momentum", "dropout",
                                                             "early_stopping"}


def test_nothing_to_revert_when_the_recipe_is_the_reference():
    reference = RunConfig.from_dict(REFERENCE_RECIPE)
    assert reverted(reference, reference) == {}


def fake_runs(study, gains: dict):
    """A `run` that makes up runs: a model scores the gains of every step whose change its
    config carries, the same on every seed but for a small seed effect."""
    calls = []
    changes = study.changes()

    def run(experiment):
        calls.append(experiment)
        rows = []
        for name, config in experiment.variants.items():
            score = 0.5 + sum(g for step, g in gains.items()
                              if all(getattr(config, k) == v for k, v in changes[step].items()))
            for seed in experiment.seeds:
                rows.append(dict(variant=name, seed=seed, key=f"{name}/{seed}", status="ok",
                                 best_val_accuracy=score + 0.001 * seed + 0.0001 * (seed % 2) * len(name),
                                 test=config.test, epochs=config.epochs, best_epoch=config.epochs,
                                 wall_seconds=60.0))
        return pd.DataFrame(rows)
    return run, calls


def test_the_ladder_keeps_a_step_only_when_it_is_better_and_climbs_from_the_kept_model():
    study = Beyond.at("full", steps=("augment", "widths", "label_smoothing", "epochs"))
    start = Recipe.at("full").base(**RECIPE_CHOICES)
    steps = list(study.changes())
    # Augmentation helps a lot, width does nothing, label smoothing helps, epochs hurt.
    run, calls = fake_runs(study, {steps[0]: 0.03, steps[1]: 0.0, steps[2]: 0.01, steps[3]: -0.02})
    ladder = study.climb(start, run)
    assert ladder.steps["kept"].tolist() == [True, False, True, False]
    assert ladder.steps["n"].tolist() == [3, 3, 3, 3]
    # Each step starts from the last kept model: the width step from the augmented recipe,
    # label smoothing from it again (width was not kept), epochs from label smoothing.
    bases = [list(e.variants)[0] for e in calls]
    assert bases == [START, ladder.steps["model"][0], ladder.steps["model"][0], ladder.steps["model"][2]]
    assert ladder.final_name == ladder.steps["model"][2]
    assert ladder.final == start.replace(augment=study.augment, label_smoothing=study.label_smoothing,
                                         test=False)
    tried = [c for e in calls for n, c in e.variants.items() if n != START]
    assert not any(c.test for c in tried), "a ladder step read the test set"
    finals = study.finals(start, ladder, start_seeds=(0, 1, 2, 3, 4))
    assert list(finals) == ["start", "ladder", "cnn"] and list(finals["start"].variants) == [START]
    # The start keeps 06's seeds, so it has one number on both pages; the ladder's model
    # is paired with it on the ladder's.
    assert finals["start"].seeds == (0, 1, 2, 3, 4) and finals["ladder"].seeds == study.seeds
    assert set(finals["ladder"].variants) == {"ladder's MLP"}
    assert ladder.steps["on"].tolist() == [START, *ladder.steps["model"][[0, 0, 2]]]
    assert all(c.test for e in finals.values() for c in e.variants.values())


def test_a_step_that_changes_nothing_trains_nothing():
    study = Beyond.at("full", steps=("augment", "widths", "label_smoothing", "epochs"),
                      label_smoothing=0.0)
    start = Recipe.at("full").base(**RECIPE_CHOICES)
    run, calls = fake_runs(study, {})
    ladder = study.climb(start, run)
    assert len(calls) == 3 and ladder.steps.set_index("step")["note"]["label smoothing 0"] == "already so"
    assert ladder.final_name == START and list(study.finals(start, ladder)) == ["start", "cnn"]


def test_the_full_ladder_tries_the_steps_it_declares_in_order():
    assert list(Beyond.at("full").changes()) == ["flips + shifts", "label smoothing 0.3", "width 3×1024"]
    assert "width 3×1024" in Beyond.at("full", steps=["augment", "widths"]).changes()
    changed = [next(iter(c)) for c in Beyond.at("full", steps=STEPS).changes().values()]
    assert changed == ["augment", "widths", "label_smoothing", "batchnorm", "epochs"]
    assert list(Beyond.at("full", steps=["epochs", "augment"]).changes()) == ["60 epochs", "flips + shifts"]


@pytest.mark.parametrize("knob, value, named", [("goal", 1.5, "goal=1.5"), ("steps", ["depth"], "steps[0]='depth'"),
                                               ("mlp_widths", [0, 10], "mlp_widths[0]=0")])
def test_a_bad_ladder_knob_is_refused(knob, value, named):
    from cifar_mlp.config import ConfigError
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        Beyond.at("full", **{knob: value})
