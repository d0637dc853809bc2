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
# regularization (notebook 03), the same data split. The widest nets get fewer
# seeds and a shorter epoch budget to fit the time budget (both stated under
# Runs); the width comparison is also made with every width cut to that
# shorter budget, so it stays fair.

# %% [markdown]
# ## Setup

# %%
import pandas as pd
from IPython.display import Markdown

from cifar_mlp.config import RunConfig
from cifar_mlp.core import costs, data
from cifar_mlp.report import build as report
from cifar_mlp.report import plots, prose
from cifar_mlp.report.publish import finding
from cifar_mlp.study import compare
from cifar_mlp.study.sections import Architecture
from cifar_mlp.study.sections.architecture_results import EARLY, METRIC

plots.theme()

# %% tags=["parameters"]
profile = "full"  # "smoke" runs every cell in seconds on 2,000 images
seeds = None  # None: the profile's seeds, declared in cifar_mlp.study.sections
epochs = None  # None: the profile's (full: 12; variants still learning at the end are flagged)
train_size = None  # None: the profile's (full: all 45,000 images left after validation)
val_size = None  # None: the profile's (full: 5,000 images)
results_dir = None  # None: the profile's run store (full: results/)
depths = None  # hidden layers compared at width 128
widths = None  # units per layer compared at depth 3
wide_from = None  # widths from here on get three seeds and wide_epochs: they cost many times 3×128
wide_epochs = None  # epochs for the wide nets, drawn apart at this budget (every width is also cut to it)
grid_depths = None  # depth × width heatmap rows (three seeds): only the cheap part of the grid
grid_widths = None  # depth × width heatmap columns
activations = None  # compared at 3×128

# %%
study = Architecture.from_notebook(globals())  # checks every parameter before anything trains

# %% [markdown]
# ## Data
#
# The same stratified split as every notebook; the test set stays untouched.

# %%
base = study.base()
# The kernel keeps no pixels: runs train in workers, which load their own.
print(data.describe_split(base.val_size, base.train_size, base.split_seed))

# %% [markdown]
# ## Runs
#
# Each sweep changes one thing from the 3×128 ReLU baseline. Runs shared by
# two sweeps (3×128 ReLU is in all of them) are trained once: the store is
# keyed by config and seed.

# %%
experiments = study.experiments()  # declared in cifar_mlp.study.sections.architecture
n_runs = study.plan(*experiments.values())

# %% [markdown]
# Each variant's model, as Keras builds it: its layers and weights.

# %%
study.models(*experiments.values())
wide = experiments.get("wide")
Markdown(f"Every run trains {study.epochs} epochs on {len(study.seeds)} seeds"
         + (f", except the widths from {study.wide_from} units: {len(wide.seeds)} seeds and "
            f"{study.wide_epochs} epochs." if wide else "."))

# %%
depth_df, narrow_df, grid_df, act_df = (study.run(experiments[e])
                                        for e in ("depth", "width", "grid", "activation"))
wide_df = study.run(wide) if wide else narrow_df.iloc[:0]
width_df = pd.concat([narrow_df, wide_df], ignore_index=True)

# %% [markdown]
# ## Results
#
# ### Depth at width 128
#
# Best validation accuracy per run (dots: seeds; diamonds: means). The table
# gives, per variant: its seeds (n), mean and seed spread (std); its difference
# from the 3×128 baseline, paired by seed, with the 95 % interval (ci_low,
# ci_high) and the verdict; then its size and speed. Seconds per epoch are
# medians over the epochs of each run, measured on a shared 2-core CPU, so
# they are a guide, not a benchmark.

# %%
def overview(df, reference, metric=METRIC):
    """Each variant against `reference` (paired by seed), its seed spread, size, speed and epochs,
    in sweep order."""
    summary = compare.summarize(df, metric=metric)
    table = (compare.against(df, reference, metric=metric).set_index("variant")
             .reindex(summary.index).join(summary["std"]))
    cost = df.groupby("variant")[["params", "seconds_per_epoch", "epochs_run", "best_epoch"]].mean()
    table = table.join(cost.astype({"params": int, "epochs_run": int}))
    return table[["n", "mean", "std", "diff", "ci_low", "ci_high", "verdict", "params",
                  "seconds_per_epoch", "epochs_run", "best_epoch"]].round(
        {"mean": 3, "std": 3, "seconds_per_epoch": 2, "best_epoch": 1})


def readable(table):
    """The table as shown: differences in points, weight counts with thousands separators
    (the CSV keeps numbers)."""
    return compare.readable(table.assign(params=table["params"].map("{:,}".format)))


depth_table = overview(depth_df, experiments["depth"].reference)
readable(depth_table)

# %%
depth_path = study.figures_dir / "02_depth.png"
plots.isolation(depth_df, x="depth", metric="best_val_accuracy", name=depth_path.stem,
                folder=study.figures_dir, title="Depth at width 128");

# %% [markdown]
# ### Width at depth 3
#
# The wide nets ran fewer epochs on fewer seeds, so width is compared twice.
# The first table holds the widths that had every seed and epoch, against the
# baseline width. The second cuts every width to the wide nets' budget (its
# best validation accuracy within those first epochs, on the seeds every width
# has), so the wide nets are judged like with like; its `best_epoch` is the
# best epoch within the cut. The figure shows both budgets.

# %%
width_table = overview(narrow_df, experiments["width"].reference)
readable(width_table)

# %%
width_hist = study.histories(width_df)
cut = width_hist[width_hist["epoch"] <= study.wide_epochs]
peaks = cut.loc[cut.groupby(["variant", "seed"])["val_accuracy"].idxmax(),
                ["variant", "seed", "val_accuracy", "epoch"]]
width_df = width_df.merge(peaks.rename(columns={"val_accuracy": "best_val_accuracy_early",
                                                "epoch": "best_epoch_early"}), on=["variant", "seed"])
# At the cut every width has the same budget; on the wide nets' seeds, the same seeds too.
cut_seeds = wide_df["seed"].unique() if len(wide_df) else study.seeds
early_df = width_df[width_df["seed"].isin(cut_seeds)].assign(
    best_epoch=width_df["best_epoch_early"], epochs_run=study.wide_epochs, epochs=study.wide_epochs)
early_table = overview(early_df, experiments["width"].reference, metric=EARLY)
readable(early_table)

# %%
budgets = {"all epochs trained": "best_val_accuracy",
           f"first {study.wide_epochs} epochs": "best_val_accuracy_early"}
width_long = pd.concat([width_df.assign(budget=b, best_val_accuracy=width_df[col])
                        for b, col in budgets.items()], ignore_index=True)
width_path = study.figures_dir / "02_width.png"
plots.isolation(width_long, x="width", metric="best_val_accuracy", hue="budget", log_x=True,
                name=width_path.stem, folder=study.figures_dir,
                title=f"Width at depth 3 (widths ≥ {study.wide_from}: {wide_df['seed'].nunique()} seeds, "
                      f"{study.wide_epochs} epochs)");

# %% [markdown]
# ### What accuracy costs
#
# Every depth and width variant placed by its seconds per epoch; a point higher
# and further left is a better deal.

# %%
arch_df = pd.concat([depth_df.assign(varied="depth"), width_df.assign(varied="width")],
                    ignore_index=True).drop_duplicates("key")
# The shared 3×128 is drawn once, under both names; the wide nets say their shorter budget.
short = {v: f"{v} ({study.wide_epochs} epochs)" for v in wide_df["variant"].unique()}
arch_df["variant"] = arch_df["variant"].replace({**short, "depth 3": "depth 3 = width 128"})
tradeoff_path = study.figures_dir / "02_tradeoff.png"
plots.tradeoff(arch_df, x="seconds_per_epoch", metric="best_val_accuracy", hue="varied",
               name=tradeoff_path.stem, folder=study.figures_dir,
               title="Validation accuracy against training time");

# %% [markdown]
# ### Depth × width
#
# A map, not a decision: each cell is the mean of the grid's seeds, with no
# interval, so a difference smaller than the seed spread seen above (the std
# columns) means nothing. Only the cheap corner of the grid is trained: widths
# past the grid's cost the most and are covered at depth 3. The conclusions
# set the best cell against the baseline cell, paired by seed.

# %%
grid_path = study.figures_dir / "02_depth_width.png"
plots.heatmap(grid_df, x="width", y="depth", metric="best_val_accuracy", name=grid_path.stem,
              folder=study.figures_dir,
              title=f"Best validation accuracy, mean of {grid_df['seed'].nunique()} seeds per cell");

# %% [markdown]
# ### Activation at 3×128
#
# The table reads like the depth table; the curves are means over seeds with a
# band spanning them.

# %%
act_table = overview(act_df, experiments["activation"].reference)
readable(act_table)

# %%
act_hist = study.histories(act_df)
act_path = study.figures_dir / "02_activations.png"
plots.curves(act_hist, metrics=("accuracy", "val_accuracy"), name=act_path.stem,
             folder=study.figures_dir, title="Activations at 3×128");

# %% [markdown]
# ### Budgets
#
# A flag on every variant at a constant rate whose best validation epoch falls
# in the last fifth of its epochs: it was judged before it had surely peaked, so
# its number is a lower bound. A schedule that decays to its floor at the last
# epoch peaks there by design and is not flagged. The wide nets are flagged at
# their own, shorter budget; the second line flags the widths at the cut every
# width shares. These are screen verdicts: what reaches the recipe is tested
# again in 06's joint stage at the recipe's width and budget.

# %%
late = compare.budgets(pd.concat([depth_df, narrow_df, wide_df, act_df],
                                 ignore_index=True).drop_duplicates("key"))
late_early = compare.budgets(early_df)
Markdown(f"{compare.late_sentence(late)}\n\nCut to the first {study.wide_epochs} epochs: "
         f"{compare.late_sentence(late_early)}")

# %% [markdown]
# ## Conclusions

# %%
frames = {"depth": depth_df, "width": narrow_df, "wide": wide_df, "grid": grid_df, "activation": act_df}
tables = {"depth": depth_table, "width": width_table, "width_cut": early_table, "activation": act_table}
found = study.findings(frames, tables, early_df)
Markdown(prose.conclusions("02_architecture_activations", **found))

# %%
report.publish(study, "02_architecture_activations", headline=found["headline"], numbers=found["numbers"],
               figure=tradeoff_path, choices=found["choices"], runs=[depth_df, width_df, grid_df, act_df],
               tables=tables, findings=[finding(text, c) for text, c in found["findings"]])

# %% [markdown]
# Sanity checks: fail loudly if the runs above are nonsense.

# %%
for name, frame in frames.items():
    e = experiments.get(name)
    expected = len(e.variants) * len(e.seeds) if e else 0
    assert len(frame) == expected, f"{name}: {len(frame)} runs, expected {expected}"
    assert (frame["status"] == "ok").all(), f"{name}: a run diverged"
    assert (frame["best_val_accuracy"] > 0.2).all(), f"{name}: a run is barely above chance (0.1)"
    weights = [costs.weight_count(RunConfig(widths=[w] * d)) for d, w in zip(frame["depth"], frame["width"])]
    assert (frame["params"] == weights).all(), f"{name}: unexpected parameter count"
assert len(pd.concat(frames.values()).drop_duplicates("key")) == n_runs, "plan and runs disagree"
assert all(t["params"].is_monotonic_increasing for t in (depth_table, width_table, early_table))
assert (early_df["best_epoch"] <= study.wide_epochs).all()
assert (width_df["best_val_accuracy_early"] <= width_df["best_val_accuracy"]).all()
assert found["choices"]["activation"] in study.activations and len(found["choices"]["widths"]) in study.depths
assert grid_df.pivot_table(index="depth", columns="width", values="best_val_accuracy").notna().all().all()
if study.profile == "full":
    assert found["cut"].cost > 5, "the widest net should cost many times the narrowest per epoch"
