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
# # 05 · Callbacks and learning-rate schedules
#
# The reference MLP trained with Adam at a constant learning rate for a fixed
# number of epochs overfits after a while: its validation accuracy peaks and
# then drifts. What do Keras' training callbacks and learning-rate schedules buy
# us here? EarlyStopping should save epochs, ModelCheckpoint should keep the best
# epoch instead of the last, ReduceLROnPlateau and decaying schedules should turn
# the late epochs into gains instead of drift. We measure each against the same
# model trained for every epoch at a constant rate, over several seeds.
#
# **Scientific**: how training is controlled — EarlyStopping (restoring the best
# weights or keeping the last), ModelCheckpoint, ReduceLROnPlateau, and the
# schedule (constant, step, cosine, warmup + cosine).
# **Nuisance**: none — Adam's peak learning rate stays at its default 1e-3 so
# every variant starts from the same rate; notebook 04 tunes it per optimizer.
# **Fixed**: the reference model, the recipe of "Cómo enseñar a una red a
# aprender mejor: backpropagation y optimización en CIFAR-10" (2025-10-06):
# 3×128 ReLU, batch norm before the activation, dropout 0.1, L2 5e-5; Adam, batch size 128, 30 epochs (schedules are defined
# over the whole run, so they need its full length).

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
from cifar_mlp.study.sections import Callbacks

plots.theme()

# %% tags=["parameters"]
profile = "full"  # "smoke" runs every cell in seconds on 2,000 images
seeds = None  # None: the profile's seeds, declared in cifar_mlp.study.sections
epochs = None  # None: the profile's (full: 30, since schedules span the whole run)
train_size = None  # None: the profile's (full: all 45,000 images left after validation)
val_size = None  # None: the profile's (full: 5,000 images)
results_dir = None  # None: the profile's run store (full: results/)
schedules = None  # learning-rate schedules compared with the constant rate
es_patience = None  # epochs without a better val accuracy before EarlyStopping stops
rlr_patience = None  # epochs without a lower val loss before ReduceLROnPlateau halves the rate
step_epochs = None  # the step schedule halves the rate every this many epochs

# %%
study = Callbacks.from_notebook(globals())  # checks every parameter before anything trains

# %% [markdown]
# ## Data
#
# The stratified train/validation split every run sees; the test set stays
# untouched until the final recipe.

# %%
reference = study.reference()
# The kernel keeps no pixels: runs train in workers, which load their own.
print(data.describe_split(reference.val_size, reference.train_size, reference.split_seed))

# %% [markdown]
# ## Runs
#
# One reference run (constant rate, no callbacks, every epoch) and one variant
# per callback or schedule, each changing a single thing. All callbacks watch
# validation metrics: accuracy for stopping and checkpointing (what we select
# on), loss for the plateau detector (smoother, so it reacts to the onset of
# overfitting rather than to noise).
#
# Two callbacks change no step of training, only which epoch's weights a run
# ends with, so they are read from runs trained once instead of trained again:
# ModelCheckpoint is the constant-rate run at its best validation epoch, and
# early stopping that keeps its last weights is the early-stopping run at the
# epoch it stopped (every history keeps each epoch's validation accuracy).

# %%
experiments = study.experiments()  # declared in cifar_mlp.study.sections.callbacks
runs = {**experiments["schedules"].variants, **experiments["callbacks"].variants}
schedule_runs = experiments["schedules"].variants
n_runs = study.plan(*experiments.values())  # early stopping trains fewer epochs than planned

# %% [markdown]
# Each variant's model, as Keras builds it: its layers and weights.

# %%
study.models(*experiments.values())

# %%
df = pd.concat([study.run(e) for e in experiments.values()]).drop_duplicates("key")
hist = study.histories(df)

# %% [markdown]
# ## Results
#
# ### EarlyStopping: epochs saved against accuracy
#
# The reference trains every epoch; the early-stopping runs are the same
# config, same seeds, stopped once validation accuracy has not improved for
# as many epochs as the patience parameter (`es_patience`) says. Restoring returns the weights of the best epoch;
# keeping the last, those of the epoch it stopped at (the same run, read at
# its last epoch).
#
# Like with like: a run that restores its best epoch (a checkpoint, early
# stopping with restore) chose that epoch on the very validation images it is
# then scored on. So every variant is scored here by its best validation epoch
# (`best_val_accuracy`), and compared with the constant-rate reference paired by
# seed. Beside it: the final model's own validation accuracy (early stopping's
# restored best epoch) and the last epoch's. Kept last, early stopping is also
# compared with the constant rate's last epoch: two final models, neither of
# them an epoch picked on these images.

# %%
METRIC = "best_val_accuracy"


def overview(names):
    """Each variant against the constant rate at its best epoch, paired by seed, with epochs."""
    rows = df[df["variant"].isin(names)]
    table = compare.against(rows, "constant", metric=METRIC).set_index("variant")
    means = rows.groupby("variant")[["val_accuracy", "epochs_run", "best_epoch"]].mean()
    return table.join(means.rename(columns={"val_accuracy": "final model val accuracy"})).round(
        {"mean": 3, "final model val accuracy": 3,
         "epochs_run": 1, "best_epoch": 1})


stopping = overview(["constant", "early_stop_restore"]).drop(columns="best_epoch")
stopping["last epoch"] = df.groupby("variant")["last_val_accuracy"].mean().round(3)
stopping["epochs_saved"] = study.epochs - stopping["epochs_run"]
stopping = stopping.rename(columns={"final model val accuracy": "final model"})
# Kept last against the constant rate's last epoch: two final models, paired by seed.
kept_last = compare.paired(compare.score(df, "last_epoch"), "early_stop_restore", "constant",
                           metric="score")
compare.readable(stopping)

# %%
plots.curves(hist[hist["variant"].isin(stopping.index)], metrics=("val_accuracy", "val_loss"),
             name="05_early_stopping", folder=study.figures_dir,
             title="Early stopping ends the run; the reference goes on");

# %% [markdown]
# ### ModelCheckpoint: best epoch against last epoch
#
# The checkpoint keeps the weights of the epoch with the best validation
# accuracy; training itself is unchanged, so it is the constant-rate run read
# at its best epoch. What it adds over keeping the last epoch is measured on
# the images that chose the epoch: an optimistic number.

# %%
ckpt = df[df["variant"] == "constant"]
ckpt_table = ckpt[["seed", "epochs_run", "best_epoch", "best_val_accuracy",
                   "last_val_accuracy"]].set_index("seed")
ckpt_table.assign(gain=ckpt_table["best_val_accuracy"] - ckpt_table["last_val_accuracy"]).round(4)

# %% [markdown]
# ### ReduceLROnPlateau: the learning rate it chose
#
# The `lr` column of each history is the rate each epoch started with, so the
# trace shows every halving the callback made when validation loss stalled.

# %%
plateau = hist[hist["variant"].isin(["constant", "reduce_lr"])]
fig = plots.curves(plateau, metrics=("lr", "val_accuracy"), title="ReduceLROnPlateau")
fig.axes[0].set_yscale("log")  # each halving is one equal step on a log axis
plots.save(fig, "05_reduce_lr", study.figures_dir);

# %%
reductions = (hist[hist["variant"] == "reduce_lr"].groupby("seed")["lr"]
              .agg(halvings=lambda lr: int((lr.diff() < 0).sum()), final_lr="last"))
reductions

# %% [markdown]
# ### Schedules: learning-rate curves and accuracy
#
# Step halves the rate at a fixed interval of epochs (the `step_epochs`
# parameter); cosine decays it smoothly to
# zero at the last step; warmup + cosine first ramps it up linearly over two
# epochs. All share the same peak rate, 1e-3.

# %%
sched_hist = hist[hist["variant"].isin(schedule_runs)]
plots.curves(sched_hist, metrics=("lr", "val_accuracy"), name="05_schedules",
             folder=study.figures_dir, title="Learning-rate schedules with Adam");

# %%
scheduling = overview(list(schedule_runs) + ["reduce_lr"])
compare.readable(scheduling)

# %% [markdown]
# ### Everything side by side
#
# Every variant against the constant rate, at its best validation epoch:
# the difference paired by seed, with its 95 % interval. TensorBoard has the
# same runs epoch by epoch (`make tensorboard`; each run's folder is named by
# its `key`).

# %%
summary = compare.summarize(df, metric=METRIC)
bars_path = study.figures_dir / "05_all.png"
plots.differences(compare.against(df, "constant", metric=METRIC), metric=METRIC,
                  name=bars_path.stem, folder=study.figures_dir,
                  title="Callbacks and schedules against the constant rate");

# %% [markdown]
# ### Budgets
#
# A flag on every variant at a constant rate whose best validation epoch falls
# in the last fifth of its epochs. Every variant here trains for the reference
# recipe's epochs, the budget the callbacks and schedules are meant for; a
# schedule that decays to its floor at the last epoch peaks there by design and
# is not flagged. Whether a longer schedule pays is 07's `epochs` step.

# %%
Markdown(compare.late_sentence(compare.budgets(df)))

# %% [markdown]
# ## Conclusions

# %%
found = study.findings(df, stopping, kept_last, reductions, scheduling)
Markdown(prose.conclusions("05_callbacks_schedules", **found))

# %%
# For the recipe: the schedule that passed the rule and the checkpoint; early stopping and the
# plateau callback only with a constant rate, and only if they pass the rule.
report.publish(study, "05_callbacks_schedules", headline=found["headline"], numbers=found["numbers"],
               figure=bars_path, choices=found["choices"], runs=df, findings=[finding(*f) for f in found["findings"]],
               tables={"against_constant": compare.against(df, "constant", metric=METRIC)})

# %% [markdown]
# Sanity checks: fail loudly if the runs above are nonsense.

# %%
assert len(df) == n_runs and (df.groupby("variant")["seed"].nunique() == len(study.seeds)).all(), "missing runs"
assert (df["status"] == "ok").all() and (df["val_accuracy"] > 0.2).all(), "a run diverged or is barely above chance"
by, lr = df.set_index("variant"), hist.set_index("variant")["lr"]
assert (by["epochs_run"] <= study.epochs).all(), "a run trained past its epochs"
assert (by.loc[["constant"], "epochs_run"] == study.epochs).all(), "the reference stopped early"
assert lr.loc[["constant"]].nunique() == 1, "the constant rate moved"
# Each callback's final model is the epoch it promises: best or last.
for name, column in {"early_stop_restore": "best_val_accuracy", "constant": "last_val_accuracy"}.items():
    assert (by.loc[[name], "val_accuracy"] - by.loc[[name], column]).abs().max() < 2e-3, name
assert not (hist[hist["variant"] == "reduce_lr"].groupby("seed")["lr"].diff() > 0).any(), "ReduceLROnPlateau raised lr"
assert all(lr.loc[[s]].min() < reference.lr for s in study.schedules if s != "constant"), "a schedule kept its peak"
assert study.profile != "full" or summary.loc["constant", "mean"] > 0.45, "the reference MLP should clear 0.45"
assert study.profile != "full" or reductions["halvings"].min() >= 1, "val loss never stalled in 30 epochs?"
