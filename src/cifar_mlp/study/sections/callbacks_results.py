"""05's results, read from its runs: each callback and schedule against the constant rate, the pick.

What the conclusions, the headline and the index card say is computed here once,
from the records, so the notebook's last cells are calls.
"""

from __future__ import annotations

import pandas as pd

from cifar_mlp.study import compare

# Every variant at its best validation epoch: a checkpoint or a restore picks that epoch, so
# like is compared with like.
METRIC = "best_val_accuracy"
REFERENCE = "constant"  # constant rate, no callbacks, every epoch: each variant changes one thing
# The reference recipe's own schedule: a schedule the rule picks is also set against it.
REFERENCE_SCHEDULE = "warmup_cosine"
NO_WORSE_MARGIN = 0.005  # half a point of validation accuracy: what saved epochs may cost
# The checkpoint's gain: the same runs read two ways.
READ_AT = {"best epoch": "best_epoch", "last epoch": "last_epoch"}


def checkpoint_gain(runs: pd.DataFrame) -> compare.Comparison:
    """The reference's best epoch against its last, paired by seed. Its verdict is not used:
    the best epoch was picked on the very images that score it."""
    reads = pd.concat([compare.score(runs, rule).assign(variant=name) for name, rule in READ_AT.items()])
    return compare.paired(reads, "best epoch", "last epoch", metric="score")


def against_reference_schedule(df: pd.DataFrame, pick: compare.Choice) -> compare.Comparison | None:
    """The picked schedule against the reference recipe's, when it is neither that nor constant."""
    if pick.variant in (REFERENCE, REFERENCE_SCHEDULE) or REFERENCE_SCHEDULE not in set(df["variant"]):
        return None
    return compare.paired(df, pick.variant, REFERENCE_SCHEDULE, metric=METRIC)


def settings(config, prefix: str) -> dict:
    """The callback's own config values, taken from the config that uses it."""
    return {k: v for k, v in config.to_dict().items() if k.startswith(prefix)}


def choices(pick: compare.Choice, against: dict, configs: dict, checkpoint) -> dict:
    """What the recipe takes: the schedule that passed the rule, and the checkpoint (the
    reference's too: it keeps the best validation epoch).

    Early stopping and the plateau callback come only with a constant rate (a decaying schedule
    does its work in the last epochs, which they would cut short or fight), and only if they
    pass the rule: the plateau callback better than the constant rate, early stopping no worse
    by more than NO_WORSE_MARGIN. The checkpoint's config is not trained: its runs are the
    constant-rate runs at their best epoch.
    """
    chosen = {"schedule": pick.variant, "checkpoint": True, **settings(checkpoint, "ckpt_")}
    if pick.variant == REFERENCE:
        if against["reduce_lr"].verdict == compare.BETTER:
            chosen.update(reduce_lr=True, **settings(configs["reduce_lr"], "rlr_"))
        if compare.no_worse(against["early_stop_restore"], margin=NO_WORSE_MARGIN) == compare.SUPPORTED:
            chosen.update(early_stopping=True, **settings(configs["early_stop_restore"], "es_"))
    return chosen


def card(pick: compare.Choice, against: dict, summary: pd.DataFrame, saved: float, epochs: int) -> dict:
    """The index card: headline, numbers and findings."""
    acc = {name: compare.describe(summary, name) for name in (REFERENCE, pick.best)}
    numbers = {"constant rate, best epoch": acc[REFERENCE], "schedule chosen": pick.variant,
               "best schedule": acc[pick.best], "early stopping epochs saved": float(saved),
               "early stopping (restore) against constant": compare.difference(against["early_stop_restore"]),
               "reduce-on-plateau against constant": compare.difference(against["reduce_lr"])}
    found = [*([(f"{pick.best} against a constant rate, Adam (best epoch)", pick.comparison)]
               if pick.comparison is not None else []),
             (f"Early stopping (saves {saved:.1f} of {epochs} epochs) against every epoch (best epoch)",
              against["early_stop_restore"])]
    headline = f"Schedules with Adam: {pick.verdict_line}; early stopping saved {saved:.1f} of {epochs} epochs"
    return {"headline": headline, "numbers": numbers, "findings": found}


def findings(df: pd.DataFrame, stopping: pd.DataFrame, kept_last: compare.Comparison,
             reductions: pd.DataFrame, scheduling: pd.DataFrame, *, experiments: dict, checkpoint,
             epochs: int, patience: int) -> dict:
    """Everything 05 concludes, as the template, the headline and the index card need it.

    `stopping`, `reductions` and `scheduling` are the tables the page shows (the conclusions
    say their rounded means); `kept_last` is early stopping kept last against the constant
    rate's last epoch.
    """
    summary = compare.summarize(df, metric=METRIC)
    against = {name: compare.paired(df, name, REFERENCE, metric=METRIC) for name in summary.index.drop(REFERENCE)}
    schedules = experiments["schedules"].variants
    pick = compare.choose(df[df["variant"].isin(schedules)], REFERENCE, metric=METRIC)
    configs = {**schedules, **experiments["callbacks"].variants}
    stopped, reference = stopping.loc["early_stop_restore"], df[df["variant"] == REFERENCE]
    said = {"epochs": epochs, "patience": patience, "epochs_run": stopped["epochs_run"],
            "saved": stopped["epochs_saved"], "against": against, "kept_last": kept_last,
            "best_epoch": reference["best_epoch"].mean(), "checkpoint_gain": checkpoint_gain(reference),
            "halvings": reductions["halvings"].mean(),
            "final_lr": (reductions["final_lr"].min(), reductions["final_lr"].max()), "pick": pick,
            "ranking": list(scheduling["mean"].sort_values(ascending=False).items()),
            "against_reference": against_reference_schedule(df, pick), "reference_schedule": REFERENCE_SCHEDULE}
    return {**said, **card(pick, against, summary, said["saved"], epochs),
            "choices": choices(pick, against, configs, checkpoint)}
