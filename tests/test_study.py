"""Section declarations: every parameter checked where it is declared, and the committed
full profile declares only runs that are stored (so a render never needs to train)."""


import pandas as pd
import pytest

from cifar_mlp import paths
from cifar_mlp.config import ConfigError, RunConfig
from cifar_mlp.runs import store
from cifar_mlp.study.sections import (
    SECTIONS,
    Architecture,
    Beyond,
    Optimizers,
    Regularization,
    optimizers,
)

NOTEBOOK = {"profile": "smoke", "seeds": None, "epochs": None, "train_size": None,
            "val_size": None, "results_dir": None}


@pytest.mark.parametrize("section", SECTIONS.values(), ids=list(SECTIONS))
@pytest.mark.parametrize("profile", ["smoke", "full"])
def test_every_section_declares_every_knob_in_every_profile(section, profile):
    study = section.at(profile)
    assert study.SECTION in SECTIONS and study.profile == profile
    for f in study.knobs():
        assert getattr(study, f.name) is not None or f.name == "train_size", f.name


@pytest.mark.parametrize("section, given, named", [
    (Architecture, {"seeds": [0, 0]}, "seeds=[0, 0] is not allowed: each seed once"),
    (Architecture, {"depths": [0, 3]}, "depths[0]=0 is not allowed: it must be >= 1"),
    (Architecture, {"depths": []}, "depths=[] is not allowed: a non-empty list"),
    (Architecture, {"widths": [64, 64]}, "widths=[64, 64] is not allowed: a list without repeated"),
    (Architecture, {"activations": ["relu", "relux"]}, "activations[1]='relux' is not allowed"),
    (Architecture, {"epochs": "ten"}, "epochs='ten' is not allowed: it must be an integer"),
    (Beyond, {"budget_minutes": -3}, "budget_minutes=-3 is not allowed: it must be > 0"),
    (Beyond, {"cnn_seeds": [1.5]}, "cnn_seeds[0]=1.5 is not allowed: it must be an integer"),
    (Regularization, {"l2s": [0.0, -1e-4]}, "l2s[1]=-0.0001 is not allowed: it must be >= 0"),
    (Regularization, {"batch_sizes": [0]}, "batch_sizes[0]=0 is not allowed: it must be >= 1"),
    (Regularization, {"dropout_positions": ["output"]}, "dropout_positions[0]='output' is not allowed"),
    (Optimizers, {"optimizers": ["lion"]}, "optimizers[0]='lion' is not allowed: one of adam"),
    (Optimizers, {"adam_betas": [[0.9]]}, "unknown notebook parameter 'adam_betas'"),
    (Optimizers, {"seeds": [0, 1], "tuning_seeds": 3}, "tuning_seeds=3 is not allowed: at most the 2 seeds"),
    (Optimizers, {"tuning_seeds": 0}, "tuning_seeds=0 is not allowed: it must be >= 1"),
    (Optimizers, {"learnig_rate": 0.1}, "unknown notebook parameter 'learnig_rate'. Allowed: profile, seeds"),
    (Architecture, {"profile": "quick"}, "profile='quick' is not allowed: one of smoke, full"),
])
def test_a_bad_parameter_is_refused_naming_it(section, given, named):
    with pytest.raises(ConfigError) as error:
        section.from_notebook({**NOTEBOOK, **given})
    assert named in str(error.value)


def test_parameters_override_the_profile_and_ignore_ipython_names():
    study = Architecture.from_notebook({**NOTEBOOK, "depths": [2, 4], "Out": {}, "_x": 1})
    assert study.depths == (2, 4) and study.widths == Architecture.at("smoke").widths
    assert study.experiments()["depth"].variants["depth 4"].widths == (128,) * 4


def test_a_study_is_bound_to_its_profile_folders(tmp_path):
    assert Architecture.at("full").results_dir == paths.profile_dirs("full")["results"]
    assert Architecture.at("smoke").results_dir == paths.profile_dirs("smoke")["results"]
    assert Architecture.at("full", results_dir=str(tmp_path)).results_dir == tmp_path
    assert "/" not in repr(Architecture.at("full")), "a study shows its knobs, not a machine's paths"


def test_one_grid_feeds_every_reader():
    """06 and 07 read 02-05's declarations: the same configs, never restated."""
    full = Regularization.at("full")
    again = Regularization.at("full").experiments()["l2"].variants
    assert again == full.experiments()["l2"].variants
    assert len(again) == len(full.l2s)


def test_dropout_has_one_baseline_named_as_such():
    """Rate 0 is one model whatever its position: one row, and comparisons read "against no dropout"."""
    dropout = Regularization.at("full").experiments()["dropout"]
    zero = [v for v, c in dropout.variants.items() if c.dropout == 0 and c.input_dropout == 0]
    assert zero == ["no dropout"] and dropout.reference == "no dropout"
    assert {"input 0.1", "hidden 0.1"} <= set(dropout.variants)


@pytest.mark.parametrize("name", [n for n in SECTIONS
                                  if n not in ("04_optimizers", "06_recipe", "07_beyond")])
def test_the_committed_full_profile_declares_only_stored_runs(name):
    """What `make report` renders from a fresh clone: nothing of it needs training."""
    study = SECTIONS[name].at("full")
    missing = [f"{exp} / {variant} seed {seed}"
               for exp, e in study.experiments().items() for variant, config in e.variants.items()
               for seed in e.seeds if store.load(config, seed, paths.RESULTS_DIR) is None]
    assert not missing, f"{name} declares runs that are not under results/: {missing[:5]}"


@pytest.mark.parametrize("name", [n for n, s in SECTIONS.items() if hasattr(s, "experiments")])
def test_no_section_trains_one_run_twice(name):
    """Configs that differ only in how a run ends (restore, checkpoint, test) train the
    same run: a section reads such a variant from the run it has (05's checkpoint is its
    constant-rate run at the best epoch), it does not train it again."""
    study = SECTIONS[name].at("full")
    declared = [(f"{exp} / {variant}", config, set(e.seeds))
                for exp, e in study.experiments().items() for variant, config in e.variants.items()]
    twice = [(a, b) for i, (a, ca, sa) in enumerate(declared) for b, cb, sb in declared[i + 1:]
             if ca != cb and ca.same_training(cb) and sa & sb]
    assert not twice, f"{name} trains the same run under two configs: {twice[:3]}"


def test_same_training_ignores_only_how_a_run_ends():
    base = RunConfig()
    assert base.same_training(base.replace(checkpoint=True, es_restore_best=False, test=True))
    assert not base.same_training(base.replace(checkpoint=True, lr=3e-4))


def test_the_optimizer_stages_are_stored_and_chosen_again(monkeypatch):
    monkeypatch.setenv("CIFAR_MLP_NO_TRAIN", "1")  # a missing stage run fails here, by name
    study = Optimizers.at("full")
    stages = study.stages()
    assert set(stages.tuned.index) == set(study.optimizers)
    assert (stages.tuned["seeds"] == study.tuning_seeds).all() and study.tuning_seeds >= 3
    assert len(stages.final) == 2 * len(stages.tuned) * len(study.seeds)


def test_tuning_picks_by_the_mean_over_seeds_and_a_diverged_run_scores_as_chance():
    """Seed 0 alone would pick lr 0.1 (0.60); its mean over three seeds is the lowest,
    because it diverged on seed 2; lr 0.03 has the best mean."""
    rows = [("sgd lr=0.01", 0.01, s, a, "ok") for s, a in enumerate((0.50, 0.50, 0.50))]
    rows += [("sgd lr=0.03", 0.03, s, a, "ok") for s, a in enumerate((0.55, 0.56, 0.57))]
    rows += [("sgd lr=0.1", 0.1, s, a, st) for s, a, st in ((0, 0.60, "ok"), (1, 0.58, "ok"),
                                                          (2, float("nan"), "diverged"))]
    rows += [("adam lr=0.001", 0.001, s, 0.52, "ok") for s in range(3)]
    df = pd.DataFrame(rows, columns=["variant", "lr", "seed", "val_accuracy", "status"])
    picked = optimizers.pick(df)
    assert picked.loc["sgd", "variant"] == "sgd lr=0.03"
    assert picked.loc["sgd", "val_accuracy"] == pytest.approx(0.56)
    assert picked.loc["adam", "seeds"] == 3 and set(picked.index) == {"sgd", "adam"}


def test_the_recipe_its_stages_and_the_ladder_are_stored(monkeypatch, tmp_path):
    """06 answers from its own stored runs and 07 asks 06's study: with training forbidden
    and no reports/ at all (nothing reads a page's output), every run they reach is read back."""
    from cifar_mlp.study.sections import Recipe

    monkeypatch.setenv("CIFAR_MLP_NO_TRAIN", "1")
    monkeypatch.setenv("CIFAR_MLP_REPORTS", str(tmp_path / "no-reports"))
    recipe = Recipe.at("full")
    settled = recipe.settle()
    for experiment in (recipe.doubled(settled.recipe), recipe.finals(settled.recipe), recipe.largest()):
        assert (recipe.run(experiment)["status"] == "ok").all()
    assert recipe.choose() == settled.recipe
    beyond = Beyond.at("full")
    ladder = beyond.climb(settled.recipe, beyond.run)
    assert (ladder.steps["n"] == len(beyond.seeds)).all()
    for experiment in beyond.finals(settled.recipe, ladder, start_seeds=recipe.confirm_seeds).values():
        assert (beyond.run(experiment)["status"] == "ok").all()
    assert not (tmp_path / "no-reports").exists()


def test_a_missing_run_names_the_section_that_declares_it(tmp_path, monkeypatch):
    from cifar_mlp.runs import sweep
    monkeypatch.setenv(sweep.NO_TRAIN_VARIABLE, "1")
    study = Architecture.at("smoke", results_dir=tmp_path)
    with pytest.raises(sweep.TrainingForbidden) as error:
        study.run(study.experiments()["activation"])
    assert "make report ONLY=02_architecture_activations PROFILE=smoke" in str(error.value)
    assert not any(tmp_path.glob("[!.]*")), "nothing is stored"


# What a kernel's `In` holds after Run All of a notebook, then more cells.
CELLS = ["import numpy as np\nfrom cifar_mlp.study.sections import Architecture",
         'profile = "smoke"  # why\nseeds = None\ndepths = None',
         "study = Architecture.from_notebook(globals())",
         "n_runs = 3\nrows = len([1, 2])"]


def test_a_kernel_can_run_the_parameters_and_study_cells_again():
    # Later cells made plain globals (n_runs, rows, a scratch x): none is a parameter.
    namespace = {"In": CELLS + CELLS[1:3] + ["x = 5"], "profile": "smoke", "seeds": None,
                 "depths": None, "n_runs": 3, "rows": 2, "x": 5, "np": object()}
    assert Architecture.from_notebook(namespace) == Architecture.at("smoke")


def test_an_edited_parameter_cell_is_read_and_its_typo_refused():
    edited = 'profile = "smoke"\nseeds = None\ndepths = [2, 4]'
    namespace = {"In": CELLS + [edited, CELLS[2]], "profile": "smoke", "seeds": None,
                 "depths": [2, 4], "n_runs": 3}
    assert Architecture.from_notebook(namespace).depths == (2, 4)
    typo = 'profile = "smoke"\ndepth = [2, 4]'
    with pytest.raises(ConfigError, match="unknown notebook parameter 'depth'. Did you mean 'depths'"):
        Architecture.from_notebook({**namespace, "In": CELLS + [typo], "depth": [2, 4]})


def test_papermills_injected_cell_is_a_parameter_cell_even_with_only_unknown_names():
    injected = "# Parameters\nlearnig_rate = 0.1\n"
    with pytest.raises(ConfigError, match="unknown notebook parameter 'learnig_rate'"):
        Architecture.from_notebook({"In": CELLS[:2] + [injected], "profile": "smoke", "seeds": None,
                                    "depths": None, "learnig_rate": 0.1})


def test_screens_say_they_are_screens_and_nothing_claims_a_confirmation_by_default():
    from cifar_mlp.study.sections import SECTIONS
    stages = {name: cls.at("smoke").stage for name, cls in SECTIONS.items()}
    assert {n for n, s in stages.items() if s == "screen"} == {
        "02_architecture_activations", "03_regularization", "04_optimizers", "05_callbacks_schedules"}
    assert "confirmed" not in stages.values()  # only a page that confirmed says so (publish(stage=...))


def test_a_screen_says_how_many_comparisons_it_ran():
    from cifar_mlp.study.sections import Recipe, Regularization
    study = Regularization.at("full")
    expected = sum(len(e.variants) - 1 for e in study.experiments().values())
    assert study.stage == "screen" and study.comparisons() == expected > 10
    assert Recipe.at("full").comparisons() is None, "06 is confirmed, not a screen"
