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
# # 01 · Baseline: a plain MLP on CIFAR-10
#
# How well does a plain multilayer perceptron do on CIFAR-10, and where does it
# overfit? An MLP sees each 32×32 colour image as 3,072 unrelated numbers: it
# knows nothing of neighbouring pixels, so it has to learn from 45,000 images
# what a convolutional network gets for free. We train the simplest reasonable
# one, three hidden layers of 128 ReLU units with no regularization, and follow
# training and validation accuracy and loss epoch by epoch to see when it stops
# learning things that generalize. Every later notebook is measured against it.
#
# **Scientific**: training time — the epoch, on the training and validation curves.
# **Nuisance**: none — Adam at its default rate 1e-3 with batch 128 is the usual
# starting point; notebooks 02–05 vary the model and its training.
# **Fixed**: 3 hidden layers × 128 units, ReLU, Glorot-uniform initialization,
# no batch norm, dropout or L2, Adam (lr 1e-3), batch size 128, 30 epochs;
# 45,000 training and 5,000 stratified validation images.

# %% [markdown]
# ## Setup

# %%
import numpy as np
import pandas as pd
from IPython.display import Markdown

from cifar_mlp.core import costs, data, models
from cifar_mlp.report import build as report
from cifar_mlp.report import plots, prose
from cifar_mlp.report.publish import finding
from cifar_mlp.study.sections import Baseline

plots.theme()

# %% tags=["parameters"]
profile = "full"  # "smoke" runs every cell in seconds on 2,000 images
seeds = None  # None: the profile's (full: 3 seeds, enough to see the spread of one model)
epochs = None  # None: the profile's (full: 30, well past the best epoch, so overfitting shows)
train_size = None  # None: the profile's (full: all 45,000 images left after validation)
val_size = None  # None: the profile's (full: 5,000 images)
results_dir = None  # None: the profile's run store (full: results/)

# %%
study = Baseline.from_notebook(globals())  # checks every parameter before anything trains

# %% [markdown]
# ## Data
#
# Ten classes of 32×32 colour images. A few training images per class (the
# validation and test images are never shown or inspected):

# %%
raw = data.load_cifar10()
plots.sample_grid(raw["x_train"], raw["y_train"], name="01_samples", folder=study.figures_dir);

# %% [markdown]
# Every run trains on the same seeded, stratified split of the 50,000 training
# images; the 10,000 test images stay aside until the final recipe. Only the
# test *labels* are counted here, to show that all three sets are balanced, so
# plain accuracy is a fair summary (chance is 0.1).

# %%
base = study.base()
# uint8, as the runs hold it: a quarter of float32's memory (they scale each batch)
split = data.load_split(base.val_size, base.train_size, base.split_seed, scaled=False)
balance = pd.DataFrame({
    "train": np.bincount(split.y_train, minlength=data.NUM_CLASSES),
    "validation": np.bincount(split.y_val, minlength=data.NUM_CLASSES),
    "test": np.bincount(raw["y_test"], minlength=data.NUM_CLASSES),
}, index=pd.Index(data.CLASS_NAMES, name="class"))
balance.loc["total"] = balance.sum()
print(f"inputs: {split.x_train.shape[1]:,} features per image, "
      f"{data.describe_pixels(split.x_train)}")
balance

# %% [markdown]
# ## Runs
#
# The baseline spelled out, although every value is the config's default: the
# later notebooks change one thing at a time from here.

# %%
experiments = study.experiments()
baseline = experiments["baseline"].variants["baseline"]
print({k: v for k, v in baseline.to_dict().items()
       if k in ("widths", "activation", "initializer", "batchnorm", "dropout", "l2", "optimizer",
                "lr", "batch_size", "epochs")})
n_runs = study.plan(*experiments.values())

# %% [markdown]
# ### The model Keras builds
#
# Three Dense layers with ReLU and a 10-way softmax, on the 3,072 pixels of
# each image:

# %%
model = models.build_model(baseline)
model.summary()

# %% [markdown]
# ### One run in plain Keras
#
# The same run written as a Keras user would write it: the model, `compile`
# with the optimizer and its learning-rate schedule (the baseline's is
# constant), then `fit` with the callbacks. Here it trains for one epoch on
# part of the training images, to show the code runs; the study trains every
# run through the library's own loop instead, which compiles a whole epoch
# into one program and is about twice as fast on these CPUs
# (`benchmarks/results/bench.md`). A test trains both ways on a small problem
# and checks they give the same history (`tests/test_plain_keras.py`).

# %%
import keras  # noqa: E402 (plain Keras, as a reader would import it)

# The first 5,000 training images, scaled as every run scales them.
x_train, y_train = data.scale(split.x_train[:5000]), split.y_train[:5000]
x_val, y_val = data.scale(split.x_val), split.y_val

keras.utils.set_random_seed(0)  # the seed of the study's first run: the same initial weights
plain = keras.Sequential(
    [keras.Input((data.INPUT_DIM,))]
    + [keras.layers.Dense(width, activation=baseline.activation) for width in baseline.widths]
    + [keras.layers.Dense(data.NUM_CLASSES, activation="softmax")])
plain.compile(optimizer=keras.optimizers.Adam(learning_rate=baseline.lr),  # constant rate
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = plain.fit(x_train, y_train, batch_size=baseline.batch_size, epochs=1,
                    validation_data=(x_val, y_val), verbose=0,
                    callbacks=[keras.callbacks.TerminateOnNaN()])
pd.DataFrame(history.history).round(3)

# %%
df = study.run(experiments["baseline"])
hist = study.histories(df)

# %% [markdown]
# ## Results
#
# ### Size and speed
#
# Almost all the weights sit in the first layer, which maps 3,072 pixels to
# 128 units; the deeper layers are cheap.

# %%
layers = pd.DataFrame([(layer.name, layer.count_params()) for layer in model.layers
                       if layer.count_params()], columns=["layer", "parameters"]).set_index("layer")
layers["share"] = (layers["parameters"] / layers["parameters"].sum()).round(3)
layers

# %% [markdown]
# Per seed: the stored run's size and speed (the median seconds per epoch,
# so the first epoch's compilation does not count), the best epoch by
# validation accuracy, and the train–validation gap of the last epoch.

# %%
per_seed = df.set_index("seed")[["params", "seconds_per_epoch", "wall_seconds", "best_epoch",
                                 "best_val_accuracy", "val_accuracy", "train_accuracy"]]
per_seed = per_seed.assign(gap=per_seed["train_accuracy"] - per_seed["val_accuracy"])
per_seed.round(3)

# %% [markdown]
# ### Training against validation
#
# Mean over seeds, the band spans them; the dotted line is the best
# validation epoch of the mean curve.

# %%
curves_path = study.figures_dir / "01_curves.png"
plots.train_val(hist, metrics=("accuracy", "loss"), name=curves_path.stem,
                folder=study.figures_dir, title="Baseline 3×128 MLP: training against validation");

# %% [markdown]
# The gap epoch by epoch (mean over seeds; every few epochs):

# %%
by_epoch = (hist.assign(gap=hist["accuracy"] - hist["val_accuracy"])
            .groupby("epoch")[["accuracy", "val_accuracy", "gap", "loss", "val_loss"]].mean())
step = max(1, len(by_epoch) // 8)
by_epoch.iloc[sorted({*range(0, len(by_epoch), step), len(by_epoch) - 1})].round(3)

# %% [markdown]
# ## Conclusions

# %%
found = study.findings(df, by_epoch, layers, train_images=len(split.y_train))
Markdown(prose.conclusions("01_baseline", **found))

# %%
report.publish(study, "01_baseline", headline=found["headline"], numbers=found["numbers"], figure=curves_path,
               runs=df, tables={"per_seed": per_seed, "by_epoch": by_epoch},
               findings=[finding(text, c, verdict=verdict) for text, c, verdict in found["findings"]])

# %% [markdown]
# Sanity checks: fail loudly if the runs above are nonsense.

# %%
assert len(df) == n_runs == len(study.seeds), "missing runs"
assert (df["status"] == "ok").all(), "the baseline diverged"
assert (df["epochs_run"] == study.epochs).all(), "a run stopped early"
assert (df["best_val_accuracy"] > 0.2).all(), "barely above chance (0.1)"
assert (df["params"] == layers["parameters"].sum()).all(), "the stored run is not this model"
assert layers["parameters"].sum() == costs.weight_count(baseline) == 427_658, "3×128 has 427,658 weights"
assert hist.groupby("seed")["loss"].agg(lambda s: s.iloc[-1] < s.iloc[0]).all(), "training loss did not fall"
assert balance.loc["total"].tolist() == [len(split.y_train), len(split.y_val), len(raw["y_test"])]
assert (balance.drop(index="total").agg(np.ptp) <= 1).all(), "a set is not stratified by class"
if study.profile == "full":
    assert found["best_mean"] > 0.45, "the baseline MLP should clear 0.45 on CIFAR-10"
    assert found["last"]["gap"] > 0.05, "30 unregularized epochs should overfit"
