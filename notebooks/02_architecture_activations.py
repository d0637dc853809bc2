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
# # 02 · Architecture: depth, width and activation
#
# Does a plain MLP on CIFAR-10 get better with more layers, with wider layers,
# or with a different activation — and what does each cost? Depth adds little
# compute (the 3,072-wide input layer dominates), width multiplies it. We vary
# one at a time around the 3×128 ReLU baseline of notebook 01, look at the
# depth × width grid where it is cheap, and compare ReLU, GELU and tanh over
# several seeds.
#
# **Scientific**: depth (hidden layers, at width 128), width (units per layer,
# at depth 3) and the activation (at 3×128).
# **Nuisance**: training length — each run is scored at its best validation
# epoch (what early stopping with restored weights would keep), so a wide net
# that overfits after a few epochs is not penalised for the epochs past its peak.
# **Fixed**: Adam at lr 1e-3, batch size 128, Glorot-uniform initialization, no
# regularization (notebook 03), the same data split. The widest nets (from
# `wide_from` units) get one seed and `wide_epochs` epochs to fit the time
# budget; the width comparison is also shown with every width cut to that
# budget, so it stays fair.

# %% [markdown]
# ## Setup

# %%
import pandas as pd
from IPython.display import Markdown

from cifar_mlp import config, data, plots, report, sweep

plots.theme()

# %% tags=["parameters"]
profile = "full"  # "smoke" runs every cell in seconds on 2,000 images
seeds = None  # None: the profile's (full: 2 seeds for depth and width)
epochs = None  # None: the profile's (full: 12, past the baseline's best epoch at this batch size)
train_size = None  # None: the profile's (full: all 45,000 images left after validation)
val_size = None  # None: the profile's (full: 5,000 images)
results_dir = None  # None: the profile's run store (full: results/)
depths = None  # hidden layers compared at width 128
widths = None  # units per layer compared at depth 3
wide_from = None  # widths from here on get one seed and wide_epochs (3×2048 costs ~34× 3×128)
wide_epochs = None  # epochs for the wide nets: they peak early anyway
grid_depths = None  # depth × width heatmap rows (one seed): only the cheap part of the grid
grid_widths = None  # depth × width heatmap columns
activations = None  # compared at 3×128
activation_seeds = None  # activations differ by little, so they get more seeds

# %%
study = config.study_from(
    globals(),
    profiles={
        "full": dict(seeds=[0, 1], epochs=12, depths=[1, 2, 3, 4, 5],
                     widths=[64, 128, 256, 512, 1024, 2048], wide_from=1024, wide_epochs=5,
                     # Width 512 would double the grid's cost (about 4 more minutes).
                     grid_depths=[1, 2, 3, 4], grid_widths=[64, 128, 256],
                     activations=["relu", "gelu", "tanh"], activation_seeds=[0, 1, 2]),
        "smoke": dict(depths=[1, 3], widths=[64, 128, 256], wide_from=256, wide_epochs=2,
                      grid_depths=[1, 3], grid_widths=[64, 128],
                      activations=["relu", "gelu", "tanh"], activation_seeds=[0]),
    },
    depths=depths, widths=widths, wide_from=wide_from, wide_epochs=wide_epochs,
    grid_depths=grid_depths, grid_widths=grid_widths, activations=activations,
    activation_seeds=activation_seeds,
)
study

# %% [markdown]
# ## Data
#
# The same stratified split as every notebook; the test set stays untouched.

# %%
base = study.base()
# uint8, as the runs hold it: a quarter of float32's memory (they scale each batch)
split = data.load_split(base.val_size, base.train_size, base.split_seed, scaled=False)
print(f"train {split.x_train.shape}, validation {split.x_val.shape}")

# %% [markdown]
# ## Runs
#
# Each sweep changes one thing from the 3×128 ReLU baseline. Runs shared by
# two sweeps (3×128 ReLU is in all of them) are trained once: the store is
# keyed by config and seed.

# %%
depth_runs = {f"depth {d}": study.base(widths=[128] * d) for d in study.depths}
narrow_runs = {f"width {w}": study.base(widths=[w] * 3) for w in study.widths if w < study.wide_from}
wide_runs = {f"width {w}": study.base(widths=[w] * 3, epochs=study.wide_epochs)
             for w in study.widths if w >= study.wide_from}
wide_seeds = study.seeds[:1]
grid_runs = {f"{d}×{w}": study.base(widths=[w] * d)
             for d in study.grid_depths for w in study.grid_widths}
grid_seeds = study.seeds[:1]
activation_runs = {a: study.base(activation=a) for a in study.activations}
n_runs = sweep.plan((depth_runs, study.seeds), (narrow_runs, study.seeds), (wide_runs, wide_seeds),
                    (grid_runs, grid_seeds), (activation_runs, study.activation_seeds),
                    root=study.results_dir)

# %%
depth_df = sweep.sweep(depth_runs, study.seeds, root=study.results_dir)
width_df = pd.concat([sweep.sweep(runs, seeds, root=study.results_dir)
                      for runs, seeds in [(narrow_runs, study.seeds), (wide_runs, wide_seeds)] if runs],
                     ignore_index=True)
grid_df = sweep.sweep(grid_runs, grid_seeds, root=study.results_dir)
act_df = sweep.sweep(activation_runs, study.activation_seeds, root=study.results_dir)

# %% [markdown]
# ## Results
#
# ### Depth at width 128
#
# Best validation accuracy per run (dots: seeds; diamonds: means), with each
# variant's size and speed. Seconds per epoch are medians over the epochs of
# each run, measured on a shared 2-core CPU, so they are a guide, not a benchmark.

# %%
def overview(df, metric="best_val_accuracy"):
    """Mean ± spread over seeds of `metric`, with size, speed and epochs per variant, in sweep order."""
    table = sweep.summarize(df, metric=metric)
    costs = df.groupby("variant")[["params", "seconds_per_epoch", "epochs_run", "best_epoch"]].mean()
    order = df["variant"].unique()
    return table.join(costs).loc[order].round({"mean": 4, "std": 4, "min": 4, "max": 4,
                                               "seconds_per_epoch": 2, "best_epoch": 1})


depth_table = overview(depth_df)
depth_table

# %%
depth_path = study.figures_dir / "02_depth.png"
plots.isolation(depth_df, x="depth", metric="best_val_accuracy", name=depth_path.stem,
                folder=study.figures_dir, title="Depth at width 128");

# %% [markdown]
# ### Width at depth 3
#
# The wide nets ran fewer epochs with one seed, so the figure shows every
# width twice: at its best epoch over all it trained, and at its best within
# the first `wide_epochs` epochs, the budget every width had.

# %%
width_table = overview(width_df)
width_hist = sweep.histories(width_df, root=study.results_dir)
early = (width_hist[width_hist["epoch"] <= study.wide_epochs]
         .groupby(["variant", "seed"])["val_accuracy"].max().rename("best_val_accuracy_early"))
width_df = width_df.join(early, on=["variant", "seed"])
width_table[f"mean in {study.wide_epochs} epochs"] = (
    width_df.groupby("variant")["best_val_accuracy_early"].mean().round(4))
width_table

# %%
budgets = {"all epochs trained": "best_val_accuracy",
           f"first {study.wide_epochs} epochs": "best_val_accuracy_early"}
width_long = pd.concat([width_df.assign(budget=b, best_val_accuracy=width_df[col])
                        for b, col in budgets.items()], ignore_index=True)
width_path = study.figures_dir / "02_width.png"
plots.isolation(width_long, x="width", metric="best_val_accuracy", hue="budget", log_x=True,
                name=width_path.stem, folder=study.figures_dir,
                title=f"Width at depth 3 (widths ≥ {study.wide_from}: 1 seed, {study.wide_epochs} epochs)");

# %% [markdown]
# ### What accuracy costs
#
# Every depth and width variant placed by its seconds per epoch; a point higher
# and further left is a better deal.

# %%
arch_df = pd.concat([depth_df.assign(varied="depth"), width_df.assign(varied="width")],
                    ignore_index=True).drop_duplicates("key")
tradeoff_path = study.figures_dir / "02_tradeoff.png"
plots.tradeoff(arch_df, x="seconds_per_epoch", metric="best_val_accuracy", hue="varied",
               name=tradeoff_path.stem, folder=study.figures_dir,
               title="Validation accuracy against training time");

# %% [markdown]
# ### Depth × width
#
# One seed per cell, so a difference smaller than the seed spread seen above
# (the std columns) means nothing. Only the cheap corner of the grid is
# trained: widths past the grid's cost the most and are covered at depth 3.

# %%
grid_path = study.figures_dir / "02_depth_width.png"
plots.heatmap(grid_df, x="width", y="depth", metric="best_val_accuracy", name=grid_path.stem,
              folder=study.figures_dir, title="Best validation accuracy, one seed per cell");

# %% [markdown]
# ### Activation at 3×128
#
# Curves are means over seeds with a band spanning them.

# %%
act_table = overview(act_df)
act_table

# %%
act_hist = sweep.histories(act_df, root=study.results_dir)
act_path = study.figures_dir / "02_activations.png"
plots.curves(act_hist, metrics=("accuracy", "val_accuracy"), name=act_path.stem,
             folder=study.figures_dir, title="Activations at 3×128");

# %% [markdown]
# ## Conclusions

# %%
depth_sum = sweep.summarize(depth_df, metric="best_val_accuracy")
width_sum = sweep.summarize(width_df, metric="best_val_accuracy")
early_sum = sweep.summarize(width_df, metric="best_val_accuracy_early")
act_sum = sweep.summarize(act_df, metric="best_val_accuracy")
best_depth, best_width, best_act = depth_sum.index[0], width_sum.index[0], act_sum.index[0]
best_early = early_sum.index[0]
narrow, widest = width_table.index[0], width_table.index[-1]
cost_ratio = width_table.loc[widest, "seconds_per_epoch"] / width_table.loc[narrow, "seconds_per_epoch"]
grid_best = grid_df.loc[grid_df["best_val_accuracy"].idxmax()]


def ranking(summary):
    return ", ".join(f"{v} {m:.3f}" for v, m in summary["mean"].items())


def baseline_of(summary, name):
    """The 3×128 ReLU baseline's variant, if this sweep has it; else the sweep's last."""
    return name if name in summary.index else summary.index[-1]


Markdown(f"""
* **Depth** (width 128, seeds: {len(study.seeds)}): {sweep.best_against(depth_sum, baseline_of(depth_sum, "depth 3"))}.
  Ranking: {ranking(depth_sum)}. From *{depth_table.index[0]}* to *{depth_table.index[-1]}* the
  parameters go from {depth_table['params'].iloc[0]:,.0f} to {depth_table['params'].iloc[-1]:,.0f}
  and the seconds per epoch from {depth_table['seconds_per_epoch'].iloc[0]:.2f} to
  {depth_table['seconds_per_epoch'].iloc[-1]:.2f}: the input layer holds most of the weights.
* **Width** (depth 3): {sweep.best_against(width_sum, baseline_of(width_sum, "width 128"))}. Ranking over all epochs
  trained: {ranking(width_sum)}. Cut to the first {study.wide_epochs} epochs for every width, the
  best is *{best_early}* at {early_sum.loc[best_early, 'mean']:.3f}. The widest, *{widest}*
  ({width_table.loc[widest, 'params']:,.0f} parameters), costs {cost_ratio:.0f}× the seconds per
  epoch of *{narrow}*.
* **Depth × width** (one seed per cell): the best cell is
  {int(grid_best['depth'])}×{int(grid_best['width'])} at {grid_best['best_val_accuracy']:.3f}, the
  worst is at {grid_df['best_val_accuracy'].min():.3f}; differences smaller than the seed spreads
  above are noise.
* **Activation** (3×128, seeds: {len(study.activation_seeds)}):
  {sweep.best_against(act_sum, baseline_of(act_sum, "relu"))}. Ranking: {ranking(act_sum)}.
""")

# %%
# For the recipe: the best architecture among the runs trained in full (every seed, every
# epoch: the depth and the narrower widths; the budgeted wide nets and the one-seed grid
# cannot be compared with them fairly), and the best activation.
full_runs = {**depth_runs, **narrow_runs}
full_sum = sweep.summarize(pd.concat([depth_df, width_df[width_df["variant"].isin(narrow_runs)]]),
                           metric="best_val_accuracy")
chosen = {"widths": list(full_runs[full_sum.index[0]].widths),
          "activation": activation_runs[best_act].activation}

report.publish(
    study, "02_architecture_activations",
    headline=f"Best depth: {best_depth} ({depth_sum.loc[best_depth, 'mean']:.3f}); best width: "
             f"{best_width} ({width_sum.loc[best_width, 'mean']:.3f}) at "
             f"{width_table.loc[best_width, 'seconds_per_epoch']:.1f} s/epoch; "
             f"best activation: {best_act} ({act_sum.loc[best_act, 'mean']:.3f})",
    numbers={"best depth": best_depth, "best depth val accuracy": sweep.mean_std(depth_sum, best_depth),
             "best width": best_width, "best width val accuracy": sweep.mean_std(width_sum, best_width),
             f"best width within {study.wide_epochs} epochs": best_early,
             f"cost of {widest} vs {narrow}": f"{cost_ratio:.0f}×",
             "best activation": best_act,
             "best activation val accuracy": sweep.mean_std(act_sum, best_act)},
    figure=tradeoff_path,
    choices=chosen,
    runs=[depth_df, width_df, grid_df, act_df],
)

# %% [markdown]
# Sanity checks: fail loudly if the runs above are nonsense.

# %%
frames = {"depth": depth_df, "width": width_df, "grid": grid_df, "activation": act_df}
expected = {"depth": len(depth_runs) * len(study.seeds),
            "width": len(narrow_runs) * len(study.seeds) + len(wide_runs) * len(wide_seeds),
            "grid": len(grid_runs) * len(grid_seeds),
            "activation": len(activation_runs) * len(study.activation_seeds)}
for name, frame in frames.items():
    assert len(frame) == expected[name], f"{name}: {len(frame)} runs, expected {expected[name]}"
    assert (frame["status"] == "ok").all(), f"{name}: a run diverged"
    assert (frame["best_val_accuracy"] > 0.2).all(), f"{name}: a run is barely above chance (0.1)"
    weights = [sweep.weight_count(config.RunConfig(widths=[w] * d))
               for d, w in zip(frame["depth"], frame["width"])]
    assert (frame["params"] == weights).all(), f"{name}: unexpected parameter count"
assert len(pd.concat(frames.values()).drop_duplicates("key")) == n_runs, "plan and runs disagree"
assert depth_table["params"].is_monotonic_increasing and width_table["params"].is_monotonic_increasing
assert (width_df["best_val_accuracy_early"] <= width_df["best_val_accuracy"]).all()
assert full_sum.index[0] in full_runs and chosen["activation"] in study.activations
assert grid_df.pivot_table(index="depth", columns="width", values="best_val_accuracy").notna().all().all()
if study.profile == "full":
    assert cost_ratio > 5, "the widest net should cost many times the narrowest per epoch"
