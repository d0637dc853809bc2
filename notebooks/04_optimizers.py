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
# SGD wants rates a hundred times larger than Adam. So each optimizer first gets
# its own learning rate, chosen on a small log-spaced grid, then its own
# hyperparameter (momentum, β, ρ or weight decay) at that rate, and only then are
# the tuned optimizers compared over several seeds, with a constant rate and
# with a warmup + cosine schedule.
#
# **Scientific**: the optimizer — Adam, SGD with momentum, SGD with Nesterov
# momentum, RMSprop, AdamW — with a constant rate and with warmup + cosine.
# **Nuisance**: the learning rate, tuned for each optimizer (one seed, on a
# log-spaced grid around its usual range); then each optimizer's own
# hyperparameter at its best rate: Adam's β1/β2, SGD's momentum, RMSprop's ρ,
# AdamW's weight decay.
# **Fixed**: the reference model (3×128 ReLU, batch norm before the activation,
# dropout 0.1, L2 5e-5), batch size 128, 15 epochs (enough to rank settings,
# and three stages of runs fit the budget).

# %% [markdown]
# ## Setup

# %%
from IPython.display import Markdown

from cifar_mlp import config, data, plots, report, sweep

plots.theme()

# %% tags=["parameters"]
profile = "full"  # "smoke" runs every cell in seconds on 2,000 images
seeds = None  # None: the profile's (full: 3 for the final comparison; tuning uses the first)
epochs = None  # None: the profile's (full: 15, for every stage, so stages can share runs)
train_size = None  # None: the profile's (full: all 45,000 images left after validation)
val_size = None  # None: the profile's (full: 5,000 images)
results_dir = None  # None: the profile's run store (full: results/)
optimizers = None  # None: the profile's (full: all five; smoke: three, to stay fast)
adam_lrs = None  # Adam and AdamW learning rates, log-spaced around their usual 1e-3
sgd_lrs = None  # SGD learning rates (momentum and Nesterov), around the usual 0.01–0.1
rmsprop_lrs = None  # RMSprop learning rates, around its usual 1e-3 and below
# Each optimizer's own hyperparameter; the first value is the usual one, used to tune the rate.
adam_betas = None  # Adam's [beta_1, beta_2] pairs: momentum and squared-gradient averaging
momentums = None  # SGD momentum, for plain and Nesterov momentum alike
rhos = None  # RMSprop's rho: how long it averages squared gradients
weight_decays = None  # AdamW's decoupled weight decay (on top of the model's L2)

# %%
study = config.study_from(
    globals(),
    profiles={
        "full": dict(seeds=[0, 1, 2], epochs=15,
                     optimizers=["adam", "sgd_momentum", "sgd_nesterov", "rmsprop", "adamw"],
                     adam_lrs=[3e-4, 1e-3, 3e-3], sgd_lrs=[0.01, 0.03, 0.1],
                     rmsprop_lrs=[1e-4, 3e-4, 1e-3],
                     adam_betas=[[0.9, 0.999], [0.8, 0.999], [0.9, 0.99]],
                     momentums=[0.9, 0.8, 0.95], rhos=[0.9, 0.95, 0.99],
                     weight_decays=[1e-4, 1e-5, 1e-3]),
        # Three optimizers, two rates for Adam and two values of its betas, so
        # every selection step has something to choose from.
        "smoke": dict(optimizers=["adam", "sgd_nesterov", "rmsprop"],
                      adam_lrs=[1e-3, 3e-3], sgd_lrs=[0.03], rmsprop_lrs=[1e-3],
                      adam_betas=[[0.9, 0.999], [0.8, 0.999]], momentums=[0.9],
                      rhos=[0.9], weight_decays=[1e-4]),
    },
    optimizers=optimizers, adam_lrs=adam_lrs, sgd_lrs=sgd_lrs, rmsprop_lrs=rmsprop_lrs,
    adam_betas=adam_betas, momentums=momentums, rhos=rhos, weight_decays=weight_decays,
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
# Three stages, each choosing from the stored results of the one before (by
# validation accuracy, through the DataFrame), so re-running the notebook
# re-derives every choice. Tuning uses one seed; the final comparison all of
# them. A run that two stages share — the usual hyperparameter at the best rate,
# the first seed of the final constant-rate runs — is trained once and read back.

# %%
tuning_seed = study.seeds[:1]
schedules = ["constant", "warmup_cosine"]
kinds = {"adam": dict(optimizer="adam"), "sgd_momentum": dict(optimizer="sgd"),
         "sgd_nesterov": dict(optimizer="sgd", nesterov=True),
         "rmsprop": dict(optimizer="rmsprop"), "adamw": dict(optimizer="adamw")}
config.check_keys(study.optimizers, allowed=list(kinds), what="optimizer")
lr_grids = {"adam": study.adam_lrs, "sgd_momentum": study.sgd_lrs, "sgd_nesterov": study.sgd_lrs,
            "rmsprop": study.rmsprop_lrs, "adamw": study.adam_lrs}
own_values = {"adam": [dict(beta_1=b1, beta_2=b2) for b1, b2 in study.adam_betas],
              "sgd_momentum": [dict(momentum=m) for m in study.momentums],
              "sgd_nesterov": [dict(momentum=m) for m in study.momentums],
              "rmsprop": [dict(rho=r) for r in study.rhos],
              "adamw": [dict(weight_decay=w) for w in study.weight_decays]}
lr_grids, own_values = ({opt: d[opt] for opt in study.optimizers} for d in (lr_grids, own_values))
# Each optimizer as usually configured: the first value of its own hyperparameter.
usual = {opt: reference.replace(**kinds[opt], **own_values[opt][0]) for opt in study.optimizers}
at_most = (sum(map(len, lr_grids.values())) + sum(map(len, own_values.values()))
           + len(usual) * len(schedules) * len(study.seeds))
print(f"whole notebook: at most {at_most} runs of {study.epochs} epochs (fewer: stages share "
      f"runs), about {at_most * sweep.estimated_seconds(reference) / 60:.0f} min of training")

# %% [markdown]
# ### Stage 1: a learning rate per optimizer

# %%
def optimizer_of(variant):
    """The optimizer's name that starts every variant name, e.g. "adam lr=0.001" → "adam"."""
    return variant.split()[0].rstrip(",")


def tune(runs):
    """Train a stage's runs on the tuning seed; its runs, and the best per optimizer."""
    sweep.plan((runs, tuning_seed), root=study.results_dir)
    df = sweep.sweep(runs, tuning_seed, root=study.results_dir)
    df["optimizer_name"] = df["variant"].map(optimizer_of)
    return df, df.loc[df.groupby("optimizer_name")["val_accuracy"].idxmax()].set_index("optimizer_name")


grid_runs = {f"{opt} lr={lr:g}": usual[opt].replace(lr=lr)
             for opt in usual for lr in lr_grids[opt]}
grid, best_lr = tune(grid_runs)
best_lr[["variant", "lr", "val_accuracy"]].round(4)

# %% [markdown]
# ### Stage 2: each optimizer's own hyperparameter at its best rate

# %%
def setting(changes):
    return ", ".join(f"{k}={v:g}" for k, v in changes.items())


own_runs = {f"{opt} {setting(changes)}": grid_runs[best_lr.loc[opt, "variant"]].replace(**changes)
            for opt, values in own_values.items() for changes in values}
own, tuned = tune(own_runs)
tuned[["variant", "lr", "val_accuracy"]].round(4)

# %% [markdown]
# ### Stage 3: the tuned optimizers over every seed, constant rate and warmup + cosine
#
# The schedule keeps each optimizer's tuned rate as its peak: it ramps up to
# it over the first two epochs and decays it to zero by the last.

# %%
final_runs = {f"{opt}, {schedule}": own_runs[tuned.loc[opt, "variant"]].replace(schedule=schedule)
              for opt in usual for schedule in schedules}
n_final = sweep.plan((final_runs, study.seeds), root=study.results_dir)
final = sweep.sweep(final_runs, study.seeds, root=study.results_dir)
final["optimizer_name"] = final["variant"].map(optimizer_of)
labels = final.groupby("variant")[["optimizer_name", "schedule"]].first()
hist = sweep.histories(final, root=study.results_dir).join(labels, on="variant")

# %% [markdown]
# ## Results
#
# ### Learning rate per optimizer
#
# One seed per rate; a blank cell is a rate outside that optimizer's grid (or a
# diverged run). The grids follow the usual ranges: adaptive optimizers (Adam,
# AdamW, RMSprop) divide each step by a running gradient scale and are used near
# 1e-3, SGD moves along raw gradients and is used with much larger rates.

# %%
plots.heatmap(grid, x="lr", y="optimizer_name", name="04_lr_grid", folder=study.figures_dir,
              title="Stage 1: learning rate per optimizer (1 seed)");

# %% [markdown]
# ### Each optimizer's own hyperparameter
#
# At each optimizer's best rate, one seed per value. Changing SGD's momentum
# also changes its effective step (lr / (1 − momentum)), so these values are
# tried at a rate tuned for the usual momentum: a fair but not exhaustive search.

# %%
plots.bars(sweep.summarize(own), name="04_own_hyperparameters", folder=study.figures_dir,
           title="Stage 2: own hyperparameter at the best rate (1 seed)");

# %%
own.set_index("variant")[["lr", "val_accuracy", "best_val_accuracy"]].round(4)

# %% [markdown]
# ### The tuned optimizers over seeds
#
# Final-model validation accuracy, mean ± std over seeds, for both schedules.

# %%
summary = sweep.summarize(final)
final_path = study.figures_dir / "04_final.png"
plots.bars(summary, name=final_path.stem, folder=study.figures_dir,
           title="Tuned optimizers, mean ± std over seeds");

# %%
acc = {name: sweep.mean_std(summary, name) for name in summary.index}
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
# ## Conclusions

# %%
def ranking(schedule):
    """The schedule's winner and, for every other optimizer, its gap and noise verdict."""
    rows = table[table["schedule"] == schedule]
    winner = rows.index[0]
    others = "; ".join(f"{rows.loc[name, 'optimizer_name']} {acc[name]} "
                       f"({sweep.noise_verdict(summary, name, winner)})" for name in rows.index[1:])
    return rows.loc[winner, "optimizer_name"], winner, others


def edge(opt):
    """A warning when the chosen rate sits at the end of its grid (the grid may be too narrow)."""
    grid_lrs = lr_grids[opt]
    if len(grid_lrs) > 1 and tuned.loc[opt, "lr"] in (min(grid_lrs), max(grid_lrs)):
        return " — at the edge of its grid"
    return ""


choices = "\n".join(
    f"  * {opt}: lr {tuned.loc[opt, 'lr']:g}{edge(opt)}; "
    f"{tuned.loc[opt, 'variant'].split(' ', 1)[1]} ({tuned.loc[opt, 'val_accuracy']:.3f})"
    for opt in usual)
const_best, const_name, const_rest = ranking("constant")
warm_best, warm_name, warm_rest = ranking("warmup_cosine")
gains = (table.pivot_table(index="optimizer_name", columns="schedule", values="mean")
         .eval("warmup_cosine - constant"))
schedule_effect = "; ".join(
    f"{opt} {gain:+.3f} "
    f"({sweep.noise_verdict(summary, f'{opt}, warmup_cosine', f'{opt}, constant')})"
    for opt, gain in gains.items())
Markdown(f"""
* **Tuned settings** (stage 1 and 2, seed {tuning_seed[0]}, validation accuracy in brackets):
{choices}
* **Constant rate**: *{const_best}* is best at {acc[const_name]} over {len(study.seeds)} seed(s).
  Against it: {const_rest}.
* **Warmup + cosine**: *{warm_best}* is best at {acc[warm_name]}. Against it: {warm_rest}.
* **Warmup + cosine against a constant rate**, per optimizer: {schedule_effect}
  ({sum(gains > 0)} of {len(gains)} gain on average).
* **Caveats**: the rate and the optimizer's own hyperparameter were chosen on one seed and
  {study.epochs} epochs, and the schedule reuses the rate tuned at a constant rate as its peak.
""")

# %%
# For the recipe: the optimizer settings of the best tuned variant over both schedules
# (notebook 05 decides the schedule).
optimizer_keys = ("optimizer", "lr", "beta_1", "beta_2", "momentum", "nesterov", "rho",
                  "weight_decay")
winner = final_runs[summary.index[0]].to_dict()
report.publish(
    study, "04_optimizers",
    headline=f"Each optimizer with its own tuned rate: {const_best} is best at a constant rate "
             f"({acc[const_name]}), {warm_best} with warmup + cosine ({acc[warm_name]})",
    numbers={"best, constant rate": f"{const_best} {acc[const_name]}",
             "best, warmup + cosine": f"{warm_best} {acc[warm_name]}",
             **{f"{opt} lr": float(tuned.loc[opt, "lr"]) for opt in usual},
             "optimizers gaining from the schedule": f"{sum(gains > 0)} of {len(gains)}"},
    figure=final_path,
    choices={k: winner[k] for k in optimizer_keys},
    runs=[grid, own, final],
)

# %% [markdown]
# Sanity checks: fail loudly if the runs above are nonsense.

# %%
assert len(grid) == len(grid_runs) and len(own) == len(own_runs), "missing tuning runs"
assert len(final) == n_final == len(final_runs) * len(study.seeds), "missing final runs"
assert set(best_lr.index) == set(tuned.index) == set(usual), "an optimizer lost all its runs"
assert (own["status"] == "ok").all() and (final["status"] == "ok").all(), \
    "a tuned setting diverged: only the learning-rate grid may explore unstable rates"
assert (final["val_accuracy"] > 0.2).all(), "a tuned optimizer is barely above chance (0.1)"
# Stages share runs: the usual value at the best rate, and the constant-rate first seed.
reused = final[(final["schedule"] == "constant") & (final["seed"] == tuning_seed[0])]
assert set(reused["key"]) == set(tuned["key"]), "the final runs are not the tuned ones"
assert set(best_lr["key"]) <= set(own["key"]), "stage 2 did not start from the best rate"
assert (tuned["lr"] == best_lr.loc[tuned.index, "lr"]).all()
assert winner["lr"] == tuned.loc[optimizer_of(summary.index[0]), "lr"], "published an untuned rate"
if study.profile == "full":
    assert summary["mean"].max() > 0.45, "the tuned reference MLP should clear 0.45"
