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
# # 03 · Regularization, initialization and batch size
#
# Notebook 01 showed the plain 3×128 MLP overfitting within a few epochs:
# training accuracy runs away while validation accuracy stalls. Which of the
# usual remedies narrows that train–validation gap, and which of them also
# raises validation accuracy? We change one thing at a time from the baseline:
# batch normalization and where it sits, dropout (how much, and on the input
# pixels or the hidden units), L2 weight decay, the weight initialization, and
# the batch size. Each is judged on two numbers: the best validation accuracy,
# and the gap between training and validation accuracy at the last epoch.
#
# **Scientific**: BatchNorm (off, before or after the activation); dropout rate
# × position (input or hidden); L2 strength; initializer (He-normal or
# Glorot-uniform); batch size.
# **Nuisance**: training length — accuracy is each run's best validation epoch
# (what early stopping would keep), so a variant is not judged by the epochs
# after its peak. The learning rate is *not* tuned per variant (it should be
# for batch size, strictly: a bigger batch often wants a bigger rate); it is
# fixed to keep the budget, and notebook 04 tunes it per optimizer.
# **Fixed**: 3×128 ReLU, Adam at lr 1e-3, batch size 128, Glorot-uniform, no
# regularization, except for the one thing each sweep changes; the same data
# split; 15 epochs in the full profile, the same budget for every run (a
# variant whose best epoch falls late in it is flagged under Budgets).

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
from cifar_mlp.study.sections import Regularization, regularization

plots.theme()

# %% tags=["parameters"]
profile = "full"  # "smoke" runs every cell in seconds on 2,000 images
seeds = None  # None: the profile's seeds, declared in cifar_mlp.study.sections
epochs = None  # None: the profile's (full: 15, long enough for the baseline to overfit)
train_size = None  # None: the profile's (full: all 45,000 images left after validation)
val_size = None  # None: the profile's (full: 5,000 images)
results_dir = None  # None: the profile's run store (full: results/)
batchnorms = None  # where BatchNorm goes: off, before or after the activation
dropout_rates = None  # fractions of units dropped; 0 is the baseline
dropout_positions = None  # "input": on the 3,072 pixels (input_dropout); "hidden": after each hidden layer
l2s = None  # L2 strengths on every kernel; 0 is the baseline
initializers = None  # He-normal suits ReLU in theory; Glorot-uniform is Keras' default
batch_sizes = None  # smaller batches take more, cheaper steps per epoch

# %%
study = Regularization.from_notebook(globals())  # checks every parameter before anything trains

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
# Every sweep changes one thing from the 3×128 baseline, so the baseline run
# (the same config and seed) is shared by all of them and trained once. Input
# dropout is the config's `input_dropout` (on the pixels), hidden dropout its
# `dropout` (after every hidden activation). Small batches cost more seconds
# per epoch; the plan below counts that.

# %%
experiments = study.experiments()  # declared in cifar_mlp.study.sections.regularization
n_runs = study.plan(*experiments.values())

# %% [markdown]
# Each variant's model, as Keras builds it: its layers and weights.

# %%
study.models(*experiments.values())

# %%
frames = {family: study.run(e).assign(family=family) for family, e in experiments.items()}
df = pd.concat(frames.values(), ignore_index=True)
# Overfitting: training accuracy of the last epoch minus the final validation accuracy.
df["gap"] = df["train_accuracy"] - df["val_accuracy"]
df["position"] = df["variant"].str.split().str[0].where(df["family"] == "dropout")
df["rate"] = df["input_dropout"] + df["dropout"].astype(float)
df["L2"] = df["l2"].map("{:g}".format)  # a category: a log axis has no place for 0
# The baseline run is in every sweep under a different name; `unique` holds each run once.
baseline_keys = set(df.loc[df["variant"] == df["family"].map(
    {f: e.reference for f, e in experiments.items()}), "key"])
is_baseline = df["key"].isin(baseline_keys)
unique = pd.concat([df[~is_baseline].drop_duplicates("key"),
                    df[is_baseline].drop_duplicates("key").assign(variant="baseline", family="baseline")],
                   ignore_index=True)

# %% [markdown]
# ## Results
#
# Each table gives, per variant: its seeds (n) and mean best validation
# accuracy; its difference from the family's baseline, paired by seed, with the
# 95 % interval and the verdict; the last epoch's validation accuracy, the gap
# and the seconds per epoch. One caveat for the gap: Keras' training accuracy is
# averaged over the epoch *with dropout active*, so it understates how well a
# dropout model fits its training set, and the gap of dropout variants looks
# smaller than it is.

# %%
METRIC = regularization.METRIC  # every run at its best validation epoch: like with like


def overview(family):
    """Each variant against the family's baseline (paired by seed), with gap and cost."""
    rows = df[df["family"] == family]
    table = compare.against(rows, experiments[family].reference, metric=METRIC).set_index("variant")
    extra = rows.groupby("variant")[["last_val_accuracy", "gap", "best_epoch", "seconds_per_epoch"]].mean()
    return table.join(extra).round({"mean": 3, "last_val_accuracy": 3, "gap": 3, "best_epoch": 1,
                                    "seconds_per_epoch": 2})


def show(family, x, name, title, **kwargs):
    """Best validation accuracy and gap against one hyperparameter, side by side."""
    path = study.figures_dir / f"03_{name}.png"
    rows = df[df["family"] == family]
    # Dropout's baseline (rate 0) starts the line of every position.
    no_dropout = rows["variant"] == regularization.NO_DROPOUT
    rows = pd.concat([rows[~no_dropout], *(rows[no_dropout].assign(position=p) for p in study.dropout_positions)])
    plots.isolation(rows, x=x, metric=("best_val_accuracy", "gap"),
                    name=path.stem, folder=study.figures_dir, title=title, **kwargs)
    return path


# %% [markdown]
# ### BatchNorm: off, before or after the activation
#
# "Before" normalizes the Dense output and drops its bias; "after" normalizes
# what the activation (and any dropout) hands to the next layer.

# %%
compare.readable(overview("batchnorm"))

# %%
show("batchnorm", "batchnorm", "batchnorm", "BatchNorm placement at 3×128");

# %% [markdown]
# ### Dropout: rate × position
#
# Rate 0 is the baseline, drawn in both positions.

# %%
compare.readable(overview("dropout"))

# %%
show("dropout", "rate", "dropout", "Dropout on the input pixels or the hidden units",
     hue="position");

# %% [markdown]
# ### L2 weight decay

# %%
compare.readable(overview("l2"))

# %%
show("l2", "L2", "l2", "L2 strength on every kernel");

# %% [markdown]
# ### Initialization

# %%
compare.readable(overview("initializer"))

# %%
show("initializer", "initializer", "initializer", "He-normal against Glorot-uniform, ReLU");

# %% [markdown]
# ### Batch size
#
# Smaller batches take more, cheaper steps per epoch; the table gives each
# batch size's seconds per epoch on this CPU.

# %%
compare.readable(overview("batch_size"))

# %%
show("batch_size", "batch_size", "batch_size", "Batch size, Adam at lr 1e-3", log_x=True);

# %% [markdown]
# ### Accuracy against overfitting
#
# Every variant at once, by name: its best validation accuracy and its
# train–validation gap, a dot per seed and a diamond at the mean. High
# accuracy and a small gap are better on both counts.

# %%
tradeoff_path = study.figures_dir / "03_accuracy_vs_gap.png"
plots.dots(unique, metrics=("best_val_accuracy", "gap"), hue="family", name=tradeoff_path.stem,
           folder=study.figures_dir, title="Validation accuracy and the train–validation gap");

# %% [markdown]
# The baseline against the variant with the best mean in each family, epoch
# by epoch (training accuracy left, validation right; means over seeds):

# %%
best_by_family = {f: compare.best(df[df["family"] == f], metric=METRIC).variant
                  for f in experiments}
picked = pd.concat([unique[unique["variant"] == "baseline"]] +
                   [df[(df["family"] == f) & (df["variant"] == v)] for f, v in best_by_family.items()]
                   ).drop_duplicates("key")  # a family whose best is the baseline adds nothing
curves_path = study.figures_dir / "03_curves.png"
plots.curves(study.histories(picked), metrics=("accuracy", "val_accuracy"),
             name=curves_path.stem, folder=study.figures_dir,
             title="Baseline against the best of each family");

# %% [markdown]
# ### Budgets
#
# A flag on every variant at a constant rate whose best validation epoch falls
# in the last fifth of its epochs: it was judged before it had surely peaked, so
# its number is a lower bound. A schedule that decays to its floor at the last
# epoch peaks there by design and is not flagged. These are screen verdicts: what
# reaches the recipe is tested again in 06's joint stage at the recipe's budget.

# %%
Markdown(compare.late_sentence(compare.budgets(unique)))

# %% [markdown]
# ## Conclusions

# %%
found = study.findings(df, unique)  # each family's choice by the rule, the gaps, the cost of small batches
Markdown(prose.conclusions("03_regularization", **found))

# %%
report.publish(study, "03_regularization", headline=found["headline"], numbers=found["numbers"],
               figure=tradeoff_path, choices=found["choices"], runs=df, tables={f: overview(f) for f in experiments},
               findings=[finding(text, c) for text, c in found["findings"]])

# %% [markdown]
# Sanity checks: fail loudly if the runs above are nonsense.

# %%
for family, e in experiments.items():
    rows = frames[family]
    assert len(rows) == len(e.variants) * len(e.seeds), f"{family}: missing runs"
    assert (rows["status"] == "ok").all(), f"{family}: a run diverged"
    assert (rows["best_val_accuracy"] > 0.2).all(), f"{family}: a run is barely above chance (0.1)"
assert len(unique) == n_runs, "plan and runs disagree"
assert is_baseline.any(), "no sweep holds the baseline"
assert df["gap"].between(-0.2, 1).all(), "a gap outside any plausible range"
bn = frames["batchnorm"].groupby("variant")["params"].first()  # BatchNorm's scales and shifts are weights
assert not {"BN off", "BN after"} <= set(bn.index) or bn["BN after"] > bn["BN off"], "BatchNorm added no parameters"
if study.profile == "full":
    assert found["baseline_gap"] > 0.05, "the unregularized baseline should overfit within 15 epochs"
    assert found["gaps"]["l2", "L2 0.001"] < found["baseline_gap"], "strong L2 should shrink the gap"
    assert found["cost"].ratio > 1, "smaller batches should cost more seconds per epoch on a CPU"
