# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (cifar-mlp)
#     language: python
#     name: cifar-mlp
# ---

# %% [markdown]
# # 06 · The recipe: every candidate tested together, confirmed on fresh seeds, read on test
#
# Notebooks 02–05 screened one choice at a time at 3×128, each judged on the
# runs that picked it. A screen finds candidates; it cannot say how they combine
# (batch norm did nothing detectable at 3×128 and much at 3×512), and picking the
# best of many variants on the same runs that judge it favours luck. So this
# page tests the candidates together, then confirms on seeds no earlier stage
# used, and reads the test set once, at the end.
#
# 1. **The joint stage**: a two-level factorial over six candidates — the width
#    (3×128 or 3×512), batch norm before the activation, dropout 0.1, L2 5e-5,
#    two epochs of warmup before the cosine decay, and the optimizer (Adam or
#    SGD with momentum, the one 04 found closest). Half of the 64 combinations
#    (every main effect and two-factor interaction estimable, each aliased only
#    with interactions of four or more factors), two seeds each; one linear model
#    with the seed as a block reads every effect and compares every cell with the best.
# 2. **The confirmation**: the cells the model cannot tell from the best, and the
#    reference recipe at their width, on five fresh seeds. The recipe is the best
#    arm by the rule, or the simplest (fewest choices away from the reference) of
#    those with no detectable difference from it.
# 3. **The ablation**: each of the recipe's choices taken back on its own (to
#    its low level in the joint stage; early stopping off), and the reference at
#    the recipe's width when that is another model. If one is *better* than the
#    recipe, it becomes the recipe.
# 4. **Twice the epochs**: the recipe against the reference, at its width and at
#    3×128, again at 60 epochs.
# 5. **The test set**, read once: the recipe, the reference and the reference at
#    the recipe's width, five seeds each.
#
# **Scientific**: the six candidate choices, jointly. **Nuisance**: each
# optimizer's rate, tuned in 04; the seeds (a block in every comparison).
# **Fixed**: 30 epochs, batch 128, ReLU, Glorot initialization, every run scored
# at its best validation epoch (the reference restores its own).

# %% [markdown]
# ## Setup

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown

from cifar_mlp.core import data
from cifar_mlp.report import build as report
from cifar_mlp.report import keras_code, plots, prose
from cifar_mlp.report.publish import finding
from cifar_mlp.runs import store
from cifar_mlp.study import claims, compare
from cifar_mlp.study.sections import Recipe
from cifar_mlp.study.sections.recipe import FACTORS

plots.theme()

# %% tags=["parameters"]
profile = "full"  # "smoke" runs every cell in seconds on 2,000 images
seeds = None  # None: the profile's (claim 10's MLP trains on the first 3)
epochs = None  # None: the profile's (full: 30, the reference recipe's length)
train_size = None  # None: the profile's (full: all 45,000 images left after validation)
val_size = None  # None: the profile's (full: 5,000 images)
results_dir = None  # None: the profile's run store (full: results/)
reach_accuracy = None  # claim 3: "faster" is fewer epochs to this validation accuracy
factors = None  # None: the profile's candidates (full: all six)
joint_seeds = None  # None: the profile's (full: 2 per cell, seeds no screen used)
joint_epochs = None  # None: the profile's (full: 30)
confirm_seeds = None  # None: the profile's (full: 5 fresh seeds; the ablation takes the first 3)

# %%
study = Recipe.from_notebook(globals())  # checks every parameter before anything trains

# %% [markdown]
# ## Data
#
# The same stratified split as every notebook; the test set waits for step 5.

# %%
base = study.base()
print(f"{data.describe_split(base.val_size, base.train_size, base.split_seed)}; "
      f"test {data.SHAPES['x_test'][0]:,} images (read only at the end)")

# %% [markdown]
# ## Runs
#
# ### The joint stage
#
# Each candidate's two levels:

# %%
pd.DataFrame({name: {"low": FACTORS[name].low_name, "high": FACTORS[name].high_name}
              for name in study.factors}).T.rename_axis("candidate")

# %%
joint = study.joint()
joint_runs = study.run(joint)

# %% [markdown]
# ### The confirmation, the ablation, twice the epochs, the test set
#
# Each stage's arms follow from the stage before, read from the stored runs.

# %%
settled = study.settle(quiet=False)
recipe = settled.recipe
doubled, finals, largest = study.doubled(recipe), study.finals(recipe), study.largest()
doubled_runs, final_runs, big_df = study.run(doubled), study.run(finals), study.run(largest)

# %% [markdown]
# The models of the arms after the joint stage, as Keras builds them:

# %%
study.models(settled.confirmation, *(a for a, _, _ in settled.ablations), largest)

# %% [markdown]
# ## Results
#
# ### What each candidate does, and how they interact
#
# Each effect is the change in validation accuracy from a candidate's low to its
# high level, averaged over every setting of the others; an interaction A × B is
# how much A's effect changes when B is high (halved). Points, with 95 % intervals.

# %%
effects = settled.effects.assign(diff=settled.effects["effect"] / 100, ci_low=settled.effects["low"] / 100,
                                 ci_high=settled.effects["high"] / 100, n=joint_runs["seed"].nunique())
effects["verdict"] = compare.verdict(effects["ci_low"], effects["ci_high"], effects["n"])
effects_path = study.figures_dir / "06_effects.png"
plots.differences(effects.set_index("term").rename_axis("variant"), reference="none",
                  name=effects_path.stem, folder=study.figures_dir,
                  title="Each candidate's effect, and each pair's interaction (validation)");

# %% [markdown]
# Every cell against the best cell, from the same model (each cell's own two
# runs would give intervals as wide as the effects); the cells it cannot tell
# from the best go on to the confirmation.

# %%
cells = settled.cells.sort_values("fitted", ascending=False)
levels = {name: cells[name].map({-1: FACTORS[name].low_name, 1: FACTORS[name].high_name}) for name in study.factors}
compare.readable(cells.assign(**levels, fitted=cells["fitted"].round(2)).rename(
    columns={"fitted": "fitted accuracy (%)", "low": "ci_low", "high": "ci_high"}).drop(columns="best"), unit="")

# %% [markdown]
# ### The confirmation, on fresh seeds

# %%
confirm = compare.score(settled.confirm_runs, "best_epoch")
confirm_table = compare.against(confirm, settled.pick.best, metric="score")
confirm_table.insert(1, "choices away from the reference",
                     [study.changes(settled.confirmation.variants[v]) for v in confirm_table["variant"]])
compare.readable(confirm_table.set_index("variant"))

# %% [markdown]
# ### The ablation of the recipe
#
# Each row is the recipe with one choice taken back (named by what it becomes),
# paired by seed with the recipe on the first three confirmation seeds.

# %%
_, ablation_runs, ablation_table = settled.ablations[-1]
ablation_path = study.figures_dir / "06_ablation.png"
plots.differences(ablation_table, metric="score", name=ablation_path.stem, folder=study.figures_dir,
                  title="Each choice taken back, against the recipe (validation)");

# %% [markdown]
# ### Twice the epochs
#
# The decisive comparisons again at 60 epochs (the schedule stretched to the
# new length), beside the same comparison at 30 epochs on the same seeds: on
# every confirmation seed. The check first ran on three, the floor for a check,
# where the recipe against the reference left an interval too wide to say
# either way; the last two confirmation seeds were then added, to both arms.

# %%
checks = study.budget_checks(settled, doubled_runs)
compare.readable(checks.set_index("comparison"))

# %% [markdown]
# ### The test set
#
# Read once, by the three final models. Each test accuracy carries an interval
# over both its noises, the seeds and the 10,000 test images
# (`compare.seeds_and_images`); differences are paired by seed.

# %%
tested = study.tested(final_runs)
test_path = study.figures_dir / "06_test_accuracy.png"
plots.intervals(tested.summary, metric="test_accuracy", band=study.LITERATURE, name=test_path.stem,
                folder=study.figures_dir, title="Recipe and reference, test set");
tested.table

# %%
plots.curves(study.histories(final_runs), metrics=("accuracy", "val_accuracy"), name="06_curves",
             folder=study.figures_dir, title="The final models, epoch by epoch");

# %% [markdown]
# ### Use this recipe
#
# The recipe as plain Keras, generated from its config (`report.keras_code`):
# `x_train, y_train, x_val, y_val` as `keras.datasets.cifar10.load_data()`
# gives them, with 5,000 training images held out for validation.

# %%
Markdown(f"```python\n{keras_code.source(recipe)}```")

# %% [markdown]
# ### What the recipe gets wrong
#
# The recipe's run with the highest validation accuracy, from the class it
# stored for each test image.

# %%
pick = final_runs[final_runs["variant"] == "recipe"].sort_values("best_val_accuracy").iloc[-1]
y_pred = store.predictions(store.read(store.record_dir(pick["key"], study.results_dir)),
                           study.results_dir)["test"]
_, y_test = data.load_test(scaled=False)
confusion_path = study.figures_dir / "06_confusion.png"
plots.confusion(y_test, y_pred, name=confusion_path.stem, folder=study.figures_dir,
                title=f"The recipe, seed {pick['seed']}: test set");

# %% [markdown]
# ### The claims of the two reference documents
#
# Claims 1–9 come from "Cómo enseñar a una red a aprender mejor:
# backpropagation y optimización en CIFAR-10" (2025-10-06), claim 10 from
# "Práctica 8: Backpropagation y Optimizadores" (2025-09-28). Each is quoted
# from its source, with where it stands, and judged by the rule stated beside
# it, on the runs and the scoring of the section that tested its subject
# (`cifar_mlp.study.claims`). Our validation numbers are never set against the
# reference's test numbers.

# %%
evidence = claims.gather(study.profile, study.results_dir, final_runs, big_df, study.reach_accuracy)
claim_table = claims.judge_all(evidence)
Markdown(claims.markdown(claim_table))

# %%
big_path = study.figures_dir / "06_largest_mlp.png"
plots.train_val(study.histories(big_df), metrics=("accuracy", "loss"), name=big_path.stem,
                folder=study.figures_dir, title="The largest MLP of claim 10");

# %% [markdown]
# ## Conclusions

# %%
found = study.findings(settled, checks, tested, claim_table)
Markdown(prose.conclusions("06_recipe", **found))

# %%
report.publish(study, "06_recipe", headline=found["headline"], numbers=found["numbers"], figure=test_path,
               runs=[joint_runs, settled.confirm_runs, *(r for _, r, _ in settled.ablations), doubled_runs,
                     final_runs, big_df, *evidence.frames.values()],
               tables={"effects": settled.effects, "cells": cells, "confirmation": confirm_table,
                       "ablation": ablation_table, "doubled_budget": checks, "claims": claim_table},
               findings=[finding(text, c, anchor=anchor) for text, c, anchor in found["findings"]],
               choices=recipe.replace(test=False).changed(),
               answer={**found["answer"], "code": keras_code.source(recipe)}, stage="confirmed")

# %% [markdown]
# Sanity checks: fail loudly if the runs above are nonsense.

# %%
assert (joint_runs["status"] == "ok").all() and len(joint_runs) == len(joint.variants) * len(joint.seeds)
assert not set(joint_runs["seed"]) & set(study.confirm_seeds), "the confirmation reuses a joint seed"
assert (ablation_table["verdict"] != compare.BETTER).all(), "an ablation row beats the recipe"
assert set(final_runs["variant"]) == set(finals.variants) and final_runs["test"].all()
assert not settled.confirm_runs["test"].any() and not joint_runs["test"].any(), "a stage before 5 read test"
assert abs(np.mean(y_pred == y_test) - pick["test_accuracy"]) < 1e-3, "stored predictions disagree"
assert len(claim_table) == 10
if study.profile == "full":
    assert tested.summary["mean"].min() > 0.5, "every final model should clear 0.5 test accuracy"
