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
# # 04 · Optimizers
#
# Which optimizer trains the reference MLP best? Comparing optimizers at one
# shared learning rate mostly measures which of them that rate happens to suit:
# plain SGD is used with far larger rates than Adam. So each optimizer first gets
# its own learning rate, chosen on a small log-spaced grid, then its own
# hyperparameter (momentum, β, ρ or weight decay) at that rate, and only then are
# the tuned optimizers compared over several seeds, with a constant rate and
# with a warmup + cosine schedule.
#
# **Scientific**: the optimizer — Adam, SGD with momentum, SGD with Nesterov
# momentum, RMSprop, AdamW — with a constant rate and with warmup + cosine.
# **Nuisance**: the learning rate, tuned for each optimizer (by the mean over the
# first seeds, on a log-spaced grid around its usual range); then each optimizer's own
# hyperparameter at its best rate, chosen the same way: Adam's β1/β2, SGD's momentum, RMSprop's ρ,
# AdamW's weight decay.
# **Fixed**: the reference model, the recipe of "Cómo enseñar a una red a
# aprender mejor: backpropagation y optimización en CIFAR-10" (2025-10-06):
# 3×128 ReLU, batch norm before the activation, dropout 0.1, L2 5e-5; batch size 128, 15 epochs (enough to rank settings,
# and three stages of runs fit the budget).

# %% [markdown]
# ## Setup

# %%
import pandas as pd
from IPython.display import Markdown

from cifar_mlp.core import data
from cifar_mlp.report import build as report
from cifar_mlp.report import plots, prose
from cifar_mlp.report.publish import finding
from cifar_mlp.study import compare
from cifar_mlp.study.sections import Optimizers
from cifar_mlp.study.sections.optimizers import kind_of

plots.theme()

# %% tags=["parameters"]
profile = "full"  # "smoke" runs every cell in seconds on 2,000 images
seeds = None  # None: the profile's (declared in cifar_mlp.study.sections)
tuning_seeds = None  # None: the profile's; how many of the seeds (the first) stages 1 and 2 tune on
epochs = None  # None: the profile's (full: 15, for every stage, so stages can share runs)
train_size = None  # None: the profile's (full: all 45,000 images left after validation)
val_size = None  # None: the profile's (full: 5,000 images)
results_dir = None  # None: the profile's run store (full: results/)
optimizers = None  # None: the profile's (full: all five; smoke: three, to stay fast)

# %%
study = Optimizers.from_notebook(globals())  # checks every parameter before anything trains

# %% [markdown]
# ## Data
#
# The stratified train/validation split every run sees; the test set stays
# untouched until the final recipe.

# %%
reference = study.usual("adam")
# The kernel keeps no pixels: runs train in workers, which load their own.
print(data.describe_split(reference.val_size, reference.train_size, reference.split_seed))

# %% [markdown]
# ## Runs
#
# Three stages, each choosing from the stored results of the one before (by
# validation accuracy, through the DataFrame), so re-running the notebook
# re-derives every choice. Tuning picks by the mean over the first seeds; the
# final comparison uses all of them. A run that two stages share — the usual
# hyperparameter at the best rate, the tuning seeds of the final constant-rate
# runs — is trained once and read back.

# %%
tuned_on = study.tuning
print(f"stage 1: {len(study.rates().variants)} settings on seeds {list(tuned_on)}; stages 2 "
      "and 3 follow from its choices")
# Each optimizer's grids, from the one table of optimizers (cifar_mlp.optimizers).
pd.DataFrame({k: {"rates": study.lr_grid(k), "own settings (the first is the usual one)": study.own_values(k)}
              for k in study.optimizers}).T.rename_axis("optimizer")

# %% [markdown]
# ### Stage 1: a learning rate per optimizer

# %%
stages = study.stages()  # each stage chooses from the stored runs of the one before
print("every optimizer trains one model:", study.models(stages.experiments["final"])["model"].iloc[0])
grid, best_lr = stages.rates, stages.best_lr
grid["optimizer_name"] = grid["variant"].map(kind_of)
best_lr[["variant", "lr", "val_accuracy", "seeds"]].round(4)

# %% [markdown]
# ### Stage 2: each optimizer's own hyperparameter at its best rate

# %%
own, tuned = stages.own, stages.tuned
tuned[["variant", "lr", "val_accuracy", "seeds"]].round(4)

# %% [markdown]
# ### Stage 3: the tuned optimizers over every seed, constant rate and warmup + cosine
#
# The schedule keeps each optimizer's tuned rate as its peak: it ramps up to
# it over the first two epochs and decays it to zero by the last.

# %%
final = stages.final
final["optimizer_name"] = final["variant"].map(kind_of)
labels = final.groupby("variant")[["optimizer_name", "schedule"]].first()
hist = study.histories(final).join(labels, on="variant")

# %% [markdown]
# ## Results
#
# ### Learning rate per optimizer
#
# Each cell is the mean over the tuning seeds; a blank cell is a rate outside
# that optimizer's grid (or a rate that diverged on every seed). The grids follow the usual ranges: adaptive optimizers (Adam,
# AdamW, RMSprop) divide each step by a running gradient scale and are used near
# 1e-3, SGD moves along raw gradients and is used with much larger rates.

# %%
plots.heatmap(grid, x="lr", y="optimizer_name", name="04_lr_grid", folder=study.figures_dir,
              title=f"Stage 1: learning rate per optimizer (mean of {len(tuned_on)} seeds)");

# %% [markdown]
# ### Each optimizer's own hyperparameter
#
# At each optimizer's best rate, the tuning seeds per value. Changing SGD's momentum
# also changes its effective step (lr / (1 − momentum)), so these values are
# tried at a rate tuned for the usual momentum: a fair but not exhaustive search.

# %%
plots.intervals(compare.summarize(own, metric="val_accuracy"), metric="val_accuracy",
                name="04_own_hyperparameters", folder=study.figures_dir,
                title=f"Stage 2: own hyperparameter at the best rate ({len(tuned_on)} seeds)");

# %%
own.groupby("variant", sort=False)[["lr", "val_accuracy", "best_val_accuracy"]].mean().round(4)

# %% [markdown]
# ### The tuned optimizers over seeds
#
# Final-model validation accuracy (no run restores an earlier epoch here), mean
# and 95 % interval over seeds, for both schedules.

# %%
METRIC = "val_accuracy"
summary = compare.summarize(final, metric=METRIC)
final_path = study.figures_dir / "04_final.png"
plots.intervals(summary, metric=METRIC, name=final_path.stem, folder=study.figures_dir,
                title="Tuned optimizers over seeds");

# %%
acc = {name: compare.describe(summary, name) for name in summary.index}
table = summary.join(labels).assign(accuracy=summary.index.map(acc))
table.pivot(index="optimizer_name", columns="schedule", values="accuracy")

# %% [markdown]
# Training loss and validation accuracy per epoch with a constant rate: how
# fast each optimizer fits the training set, and what that buys on validation.

# %%
plots.curves(hist[hist["schedule"] == "constant"], metrics=("loss", "val_accuracy"),
             hue="optimizer_name", name="04_curves",
             folder=study.figures_dir, title="Tuned optimizers, constant rate");

# %% [markdown]
# ### Budgets
#
# A flag on every variant of the final stage at a constant rate whose best
# validation epoch falls in the last fifth of its epochs: it may still have been
# learning when the epochs ran out. A schedule that decays to its floor at the
# last epoch peaks there by design and is not flagged. The optimizer that
# screened closest is tested again in 06's joint stage, for 30 epochs.

# %%
Markdown(compare.late_sentence(compare.budgets(final)))

# %% [markdown]
# ## Conclusions

# %%
found = study.findings(stages)
Markdown(prose.conclusions("04_optimizers", **found))

# %%
# For the recipe: the best optimizer with warmup + cosine, only if it beats Adam by the rule.
report.publish(study, "04_optimizers", headline=found["headline"], numbers=found["numbers"], figure=final_path,
               choices=found["choices"], runs=[grid, own, final], findings=[finding(*f) for f in found["findings"]],
               tables={"learning_rates": grid[["variant", "lr", "val_accuracy", "best_val_accuracy"]], "final": table})

# %% [markdown]
# Sanity checks: fail loudly if the runs above are nonsense.

# %%
assert not stages.missing, f"missing runs in stage(s) {stages.missing}"
assert set(best_lr.index) == set(tuned.index) == set(study.optimizers), "an optimizer lost all its runs"
# Only the learning-rate grid may explore unstable rates; a tuned optimizer clears chance (0.1).
assert (own["status"] == "ok").all() and (final["status"] == "ok").all() and (final["val_accuracy"] > 0.2).all()
# Stages share runs: the usual value at the best rate, and the constant-rate tuning seeds.
assert set(stages.reused["key"]) == set(own[own["variant"].isin(tuned["variant"])]["key"]), "final runs not tuned"
assert set(grid[grid["variant"].isin(best_lr["variant"])]["key"]) <= set(own["key"]), "stage 2 left the best rate"
assert (tuned["seeds"] == len(tuned_on)).all() and tuned["lr"].eq(best_lr["lr"]).all(), "tuning lost a seed or rate"
assert not found["adopted"] or found["choices"]["lr"] == tuned.loc[kind_of(found["adopted"]), "lr"], "untuned rate"
assert study.profile != "full" or summary["mean"].max() > 0.45, "the tuned reference MLP should clear 0.45"
