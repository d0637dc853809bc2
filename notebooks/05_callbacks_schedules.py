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
# **Fixed**: the reference model (3×128 ReLU, batch norm before the activation,
# dropout 0.1, L2 5e-5), Adam, batch size 128, 30 epochs (schedules are defined
# over the whole run, so they need its full length).

# %% [markdown]
# ## Setup

# %%
from IPython.display import Markdown

from cifar_mlp import config, data, paths, plots, report, sweep

plots.theme()

# %% tags=["parameters"]
profile = "full"  # "smoke" runs every cell in seconds on 2,000 images
seeds = None  # None: the profile's (full: 3 seeds, as schedules differ by little)
epochs = None  # None: the profile's (full: 30, since schedules span the whole run)
train_size = None  # None: the profile's (full: all 45,000 images left after validation)
val_size = None  # None: the profile's (full: 5,000 images)
results_dir = None  # None: the profile's run store (full: results/)
schedules = None  # learning-rate schedules compared with the constant rate
es_patience = None  # epochs without a better val accuracy before EarlyStopping stops
rlr_patience = None  # epochs without a lower val loss before ReduceLROnPlateau halves the rate
step_epochs = None  # the step schedule halves the rate every this many epochs

# %%
study = config.study_from(
    globals(),
    profiles={
        "full": dict(seeds=[0, 1, 2], epochs=30,
                     schedules=["constant", "step", "cosine", "warmup_cosine"],
                     es_patience=5, rlr_patience=2, step_epochs=10),
        # Patience and step shortened so every callback acts within 3 epochs.
        "smoke": dict(schedules=["constant", "step", "cosine", "warmup_cosine"],
                      es_patience=1, rlr_patience=1, step_epochs=1),
    },
    schedules=schedules, es_patience=es_patience, rlr_patience=rlr_patience,
    step_epochs=step_epochs,
)
study

# %% [markdown]
# ## Data
#
# The stratified train/validation split every run sees; the test set stays
# untouched until the final recipe.

# %%
reference = study.base(batchnorm="before", dropout=0.1, l2=5e-5)
# uint8, as the runs hold it: a quarter of float32's memory (they scale each batch)
split = data.load_split(reference.val_size, reference.train_size, reference.split_seed,
                        scaled=False)
print(f"train {split.x_train.shape}, validation {split.x_val.shape}, "
      f"{data.describe_pixels(split.x_train)}")

# %% [markdown]
# ## Runs
#
# One reference run (constant rate, no callbacks, every epoch) and one variant
# per callback or schedule, each changing a single thing. All callbacks watch
# validation metrics: accuracy for stopping and checkpointing (what we select
# on), loss for the plateau detector (smoother, so it reacts to the onset of
# overfitting rather than to noise).

# %%
callback_runs = {
    "early_stop_restore": reference.replace(
        early_stopping=True, es_monitor="val_accuracy", es_patience=study.es_patience,
        es_restore_best=True),
    "early_stop_last": reference.replace(
        early_stopping=True, es_monitor="val_accuracy", es_patience=study.es_patience,
        es_restore_best=False),
    "checkpoint": reference.replace(checkpoint=True, ckpt_monitor="val_accuracy"),
    "reduce_lr": reference.replace(reduce_lr=True, rlr_monitor="val_loss", rlr_factor=0.5,
                                   rlr_patience=study.rlr_patience),
}
schedule_runs = {s: reference.replace(schedule=s, **({"step_epochs": study.step_epochs}
                                                      if s == "step" else {}))
                 for s in study.schedules}
runs = {"constant": reference, **schedule_runs, **callback_runs}
n_runs = sweep.plan((runs, study.seeds), root=study.results_dir)  # early stopping trains fewer

# %%
df = sweep.sweep(runs, study.seeds, root=study.results_dir)
hist = sweep.histories(df, root=study.results_dir)

# %% [markdown]
# ## Results
#
# ### EarlyStopping: epochs saved against accuracy
#
# The reference trains every epoch; the early-stopping runs are the same
# config, same seeds, stopped once validation accuracy has not improved for
# `es_patience` epochs. "Restore" returns the weights of the best epoch,
# "last" keeps those of the epoch it stopped at.

# %%
def overview(names):
    """Final-model val accuracy over seeds, with epochs trained and the best epoch."""
    rows = df[df["variant"].isin(names)]
    table = sweep.summarize(rows)
    means = rows.groupby("variant")[["epochs_run", "best_epoch"]].mean()
    return table.join(means).round(4)


stopping = overview(["constant", "early_stop_restore", "early_stop_last"])
stopping["epochs_saved"] = study.epochs - stopping["epochs_run"]
stopping

# %%
plots.curves(hist[hist["variant"].isin(stopping.index)], metrics=("val_accuracy", "val_loss"),
             name="05_early_stopping", folder=study.figures_dir,
             title="Early stopping ends the run; the reference goes on");

# %% [markdown]
# ### ModelCheckpoint: best epoch against last epoch
#
# The checkpoint keeps the weights of the epoch with the best validation
# accuracy; training itself is unchanged. `val_accuracy` is the final model
# (the restored best weights) evaluated again.

# %%
ckpt = df[df["variant"] == "checkpoint"]
ckpt_table = ckpt[["seed", "epochs_run", "best_epoch", "best_val_accuracy",
                   "last_val_accuracy", "val_accuracy"]].set_index("seed")
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
# Step halves the rate every `step_epochs` epochs; cosine decays it smoothly to
# zero at the last step; warmup + cosine first ramps it up linearly over two
# epochs. All share the same peak rate, 1e-3.

# %%
sched_hist = hist[hist["variant"].isin(schedule_runs)]
plots.curves(sched_hist, metrics=("lr", "val_accuracy"), name="05_schedules",
             folder=study.figures_dir, title="Learning-rate schedules with Adam");

# %%
scheduling = overview(list(schedule_runs) + ["reduce_lr"])
scheduling

# %% [markdown]
# ### Everything side by side
#
# Final-model validation accuracy, mean ± std over seeds. TensorBoard has the
# same runs epoch by epoch: every run logs to `runs/<key>/tensorboard`
# (the key is the `key` column), and `make tensorboard` opens them all.

# %%
summary = sweep.summarize(df)
bars_path = study.figures_dir / "05_all.png"
plots.bars(summary, name=bars_path.stem, folder=study.figures_dir,
           title="Callbacks and schedules, reference model with Adam");
print("TensorBoard logs of the first run:", paths.RUNS_DIR / df["key"].iloc[0] / "tensorboard")

# %% [markdown]
# ## Conclusions

# %%
acc = {name: sweep.mean_std(summary, name) for name in summary.index}
# Each variant changes one thing from the constant-rate reference.
noise = {name: sweep.noise_verdict(summary, name, "constant") for name in summary.index}
saved = stopping.loc["early_stop_restore", "epochs_saved"]
ckpt_gain = (ckpt["best_val_accuracy"] - ckpt["last_val_accuracy"]).mean()
schedule_summary = sweep.summarize(df[df["variant"].isin(schedule_runs)])
best_schedule = schedule_summary.index[0]
ranking = ", ".join(f"{name} {mean:.3f}" for name, mean in scheduling["mean"].items())
Markdown(f"""
* **EarlyStopping** (patience {study.es_patience}) trained
  {stopping.loc['early_stop_restore', 'epochs_run']:.1f} of {study.epochs} epochs on average,
  saving {saved:.1f} epochs ({saved / study.epochs:.0%} of the training time). Restoring the
  best weights gave {acc['early_stop_restore']} against {acc['constant']} for training every
  epoch ({noise['early_stop_restore']}); keeping the last weights gave
  {acc['early_stop_last']} ({noise['early_stop_last']}).
* **ModelCheckpoint**: the best epoch was on average epoch {ckpt['best_epoch'].mean():.1f} of
  {study.epochs}; keeping it instead of the last epoch added {ckpt_gain:+.4f} validation
  accuracy ({acc['checkpoint']} against {acc['constant']}, {noise['checkpoint']}).
* **ReduceLROnPlateau** halved the rate {reductions['halvings'].mean():.1f} times on average,
  ending at {reductions['final_lr'].min():.1e}–{reductions['final_lr'].max():.1e}:
  {acc['reduce_lr']} against {acc['constant']} ({noise['reduce_lr']}).
* **Schedules**: {sweep.best_against(schedule_summary, 'constant')}.
  Ranking, with ReduceLROnPlateau (which lowers the rate too): {ranking}.
""")

# %%
# For the recipe: the best schedule, and the checkpoint (it keeps the best validation epoch,
# so it never loses on validation). Early stopping and the plateau callback come only with a
# constant rate, and only if they did not cost accuracy: a decaying schedule does its work in
# the last epochs, which they would cut short or fight.
def settings(name, prefix):
    """The callback's own config values, taken from the run that used it."""
    return {k: v for k, v in runs[name].to_dict().items() if k.startswith(prefix)}


chosen = {"schedule": best_schedule, "checkpoint": True, **settings("checkpoint", "ckpt_")}
if best_schedule == "constant":
    if summary.loc["reduce_lr", "mean"] > summary.loc["constant", "mean"]:
        chosen.update(reduce_lr=True, **settings("reduce_lr", "rlr_"))
    if (summary.loc["early_stop_restore", "mean"] >= summary.loc["constant", "mean"]
            or sweep.within_noise(summary, "early_stop_restore", "constant")):
        chosen.update(early_stopping=True, **settings("early_stop_restore", "es_"))
report.publish(
    study, "05_callbacks_schedules",
    headline=f"Best schedule with Adam: {best_schedule} at {acc[best_schedule]} (constant rate: "
             f"{acc['constant']}); early stopping saved {saved:.1f} of {study.epochs} epochs "
             f"at {acc['early_stop_restore']}",
    numbers={"constant rate val accuracy": acc["constant"],
             "best schedule": best_schedule,
             "best schedule val accuracy": acc[best_schedule],
             "early stopping epochs saved": float(saved),
             "early stopping (restore best) val accuracy": acc["early_stop_restore"],
             "checkpoint gain over last epoch": float(ckpt_gain),
             "reduce-on-plateau val accuracy": acc["reduce_lr"]},
    figure=bars_path,
    choices=chosen,
    runs=df,
)

# %% [markdown]
# Sanity checks: fail loudly if the runs above are nonsense.

# %%
assert len(df) == n_runs and (df["status"] == "ok").all(), "missing or diverged runs"
assert (df["val_accuracy"] > 0.2).all(), "a run is barely above chance (0.1)"
assert (df["epochs_run"] <= study.epochs).all()
assert (df.loc[df["variant"] == "constant", "epochs_run"] == study.epochs).all()
by = df.set_index("variant")
# Each callback's final model is the epoch it promises: best or last.
promises = {"early_stop_restore": "best_val_accuracy", "checkpoint": "best_val_accuracy",
            "early_stop_last": "last_val_accuracy", "constant": "last_val_accuracy"}
for name, column in promises.items():
    assert (by.loc[[name], "val_accuracy"] - by.loc[[name], column]).abs().max() < 2e-3, name
lr = hist.set_index("variant")["lr"]
assert lr.loc[["constant"]].nunique() == 1, "the constant rate moved"
assert (hist[hist["variant"] == "reduce_lr"].groupby("seed")["lr"].diff().dropna() <= 0).all(), \
    "ReduceLROnPlateau raised the rate"
assert all(lr.loc[[s]].min() < reference.lr for s in study.schedules if s != "constant"), \
    "a schedule never lowered the rate"
if study.profile == "full":
    assert summary.loc["constant", "mean"] > 0.45, "the reference MLP should clear 0.45"
    assert reductions["halvings"].min() >= 1, "val loss never stalled in 30 epochs?"
