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
from IPython.display import Markdown

from cifar_mlp.core import data
from cifar_mlp.report import build as report
from cifar_mlp.report import plots
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
adam_lrs = None  # Adam and AdamW learning rates, log-spaced around their usual 1e-3
sgd_lrs = None  # SGD learning rates (momentum and Nesterov), around the usual 0.01–0.1
rmsprop_lrs = None  # RMSprop learning rates, around its usual 1e-3 and below
# Each optimizer's own hyperparameter; the first value is the usual one, used to tune the rate.
adam_betas = None  # Adam's [beta_1, beta_2] pairs: momentum and squared-gradient averaging
momentums = None  # SGD momentum, for plain and Nesterov momentum alike
rhos = None  # RMSprop's rho: how long it averages squared gradients
weight_decays = None  # AdamW's decoupled weight decay (on top of the model's L2)

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
      "and 3 follow from its choices (declared in cifar_mlp.study.sections.optimizers)")

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
final_runs = stages.experiments["final"].variants
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
# A flag on every variant of the final stage whose best validation epoch falls
# in the last fifth of its epochs: it may still have been learning when the
# epochs ran out. This section asks which optimizer learns the most within its
# stages' epochs, a question about speed as much as about the final accuracy, so
# the budget is not extended here; 06 trains the optimizer the recipe takes for
# the reference recipe's 30 epochs.

# %%
Markdown(compare.late_sentence(compare.budgets(final)))

# %% [markdown]
# ## Conclusions

# %%
def ranking(schedule):
    """The schedule's best optimizer, and every other one against it, paired by seed."""
    rows = final[final["schedule"] == schedule]
    top = compare.best(rows, metric=METRIC)
    others = "; ".join(f"{r.variant.split(',')[0]} "
                       f"{compare.difference(compare.paired(rows, r.variant, top.variant, metric=METRIC))}"
                       for r in top.table.iloc[1:].itertuples())
    return kind_of(top.variant), top.variant, others


def edge(opt):
    """A warning when the chosen rate sits at the end of its grid (the grid may be too narrow)."""
    grid_lrs = study.lr_grid(opt)
    if len(grid_lrs) > 1 and tuned.loc[opt, "lr"] in (min(grid_lrs), max(grid_lrs)):
        return " — at the edge of its grid"
    return ""


choices = "\n".join(
    f"  * {opt}: lr {tuned.loc[opt, 'lr']:g}{edge(opt)}; "
    f"{tuned.loc[opt, 'variant'].split(' ', 1)[1]} ({tuned.loc[opt, 'val_accuracy']:.3f})"
    for opt in study.optimizers)
const_best, const_name, const_rest = ranking("constant")
warm_best, warm_name, warm_rest = ranking("warmup_cosine")
schedule_effect = {opt: compare.paired(final, f"{opt}, warmup_cosine", f"{opt}, constant", metric=METRIC)
                   for opt in study.optimizers}
gaining = sum(c.verdict == compare.BETTER for c in schedule_effect.values())
Markdown(f"""
* **Tuned settings** (stages 1 and 2, mean validation accuracy over seeds
  {", ".join(map(str, tuned_on))} in brackets):
{choices}
* **Constant rate**: *{const_best}* has the best mean, {acc[const_name]}. Each other optimizer
  against it: {const_rest}.
* **Warmup + cosine**: *{warm_best}* has the best mean, {acc[warm_name]}. Each other optimizer
  against it: {warm_rest}.
* **Warmup + cosine against a constant rate**, per optimizer, paired by seed:
  {"; ".join(f"{opt} {compare.difference(c)}" for opt, c in schedule_effect.items())}
  ({gaining} of {len(schedule_effect)} better with the schedule).
* **Caveats**: the rate and the optimizer's own hyperparameter were chosen by their mean over
  {len(tuned_on)} seeds, not by the paired rule, and on {study.epochs} epochs; the schedule
  reuses the rate tuned at a constant rate as its peak.
""")

# %%
# For the recipe: the best optimizer with warmup + cosine (the reference's schedule; 05 decides
# the schedule), with its tuned settings, only if it beats Adam by the rule; otherwise Adam
# stays at its usual settings (its tuned rate was chosen by a mean, never by the rule).
pick = compare.choose(final[final["schedule"] == "warmup_cosine"], "adam, warmup_cosine", metric=METRIC) \
    if "adam" in study.optimizers else None
adopted = pick is None or pick.variant != pick.reference
winner = (final_runs[pick.variant if pick else warm_name] if adopted else study.usual("adam")).to_dict()
optimizer_keys = ("optimizer", "lr", "beta_1", "beta_2", "epsilon", "amsgrad", "momentum",
                  "nesterov", "rho", "weight_decay")
# The optimizers' names in prose (the variants keep their config names).
SPOKEN = {"adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "sgd_momentum": "SGD with momentum",
          "sgd_nesterov": "SGD with Nesterov momentum", "sgd": "plain SGD"}


def spoken(variant: str) -> str:
    """'sgd_momentum, warmup_cosine' -> 'SGD with momentum'."""
    name = variant.split(", ")[0]
    return SPOKEN.get(name, name)


decisive = pick.decisive if pick else None
for_recipe = (f"{spoken(decisive.a)} {compare.difference(decisive)} against {spoken(decisive.b)}, both "
              f"with warmup + cosine, so {spoken(pick.variant)} {'is chosen' if adopted else 'stays'}"
              if decisive else spoken(warm_best))
report.publish(
    study, "04_optimizers",
    headline=f"Each optimizer at its own tuned rate: {spoken(const_best)} has the highest mean at a "
             f"constant rate, {spoken(warm_best)} with warmup + cosine; for the recipe: {for_recipe}",
    numbers={f"highest mean, constant rate (last of {study.epochs} epochs)": f"{const_best} {acc[const_name]}",
             f"highest mean, warmup + cosine (last of {study.epochs} epochs)": f"{warm_best} {acc[warm_name]}",
             **{f"{opt} lr": float(tuned.loc[opt, "lr"]) for opt in study.optimizers},
             "better with the schedule": f"{gaining} of {len(schedule_effect)} optimizers"},
    figure=final_path,
    choices={k: winner[k] for k in optimizer_keys},
    runs=[grid, own, final],
    tables={"learning_rates": grid[["variant", "lr", "val_accuracy", "best_val_accuracy"]],
            "final": table},
    findings=[*([finding(f"{spoken(pick.best)} against Adam, both with warmup + cosine",
                         pick.comparison)]
                if pick and pick.comparison is not None else []),
              *(finding(f"{opt}: warmup + cosine against a constant rate", c)
                for opt, c in schedule_effect.items() if opt == "adam")],
)

# %% [markdown]
# Sanity checks: fail loudly if the runs above are nonsense.

# %%
assert len(grid) == len(stages.experiments["rates"].variants) * len(tuned_on), "missing stage 1 runs"
assert len(own) == len(stages.experiments["own"].variants) * len(tuned_on), "missing stage 2 runs"
assert len(final) == len(final_runs) * len(study.seeds), "missing final runs"
assert set(best_lr.index) == set(tuned.index) == set(study.optimizers), "an optimizer lost all its runs"
assert (own["status"] == "ok").all() and (final["status"] == "ok").all(), \
    "a tuned setting diverged: only the learning-rate grid may explore unstable rates"
assert (final["val_accuracy"] > 0.2).all(), "a tuned optimizer is barely above chance (0.1)"
# Stages share runs: the usual value at the best rate, and the constant-rate tuning seeds.
reused = final[(final["schedule"] == "constant") & final["seed"].isin(tuned_on)]
assert set(reused["key"]) == set(own[own["variant"].isin(tuned["variant"])]["key"]), \
    "the final runs are not the tuned ones"
assert set(grid[grid["variant"].isin(best_lr["variant"])]["key"]) <= set(own["key"]), \
    "stage 2 did not start from the best rate"
assert (tuned["seeds"] == len(tuned_on)).all(), "a tuned setting is missing a tuning seed"
assert (tuned["lr"] == best_lr.loc[tuned.index, "lr"]).all()
assert not adopted or winner["lr"] == tuned.loc[kind_of(pick.variant if pick else warm_name), "lr"], \
    "published an untuned rate"
if study.profile == "full":
    assert summary["mean"].max() > 0.45, "the tuned reference MLP should clear 0.45"
