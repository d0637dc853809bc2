"""01 · How a plain 3×128 MLP learns, and where it overfits."""

from dataclasses import dataclass

import pandas as pd

from cifar_mlp.study import compare
from cifar_mlp.study.base import Experiment, Study

CHANCE = 0.1  # ten balanced classes
# The best epoch is picked on the validation images that score it: the rule cannot judge it.
OPTIMISTIC = "optimistic: no verdict"


def best_against_last(runs: pd.DataFrame) -> compare.Comparison:
    """Each run's best epoch against its last epoch, paired by seed."""
    by_rule = pd.concat([runs.assign(variant="best epoch", score=runs["best_val_accuracy"]),
                         runs.assign(variant="last epoch", score=runs["last_val_accuracy"])])
    return compare.paired(by_rule, "best epoch", "last epoch", metric="score")


def epochs_span(epochs) -> str:
    """'epoch 12' or 'epochs 8–13': where the seeds' best epochs fall."""
    seen = sorted(set(epochs))
    return f"epoch {seen[0]}" if len(seen) == 1 else f"epochs {seen[0]}–{seen[-1]}"


@dataclass(frozen=True, kw_only=True)
class Baseline(Study):
    SECTION = "01_baseline"
    PROFILES = {"full": dict(seeds=(0, 1, 2), epochs=30)}  # 30: well past the best epoch

    def experiments(self) -> dict[str, Experiment]:
        # Every value is the config's default: 3×128 ReLU, Glorot, Adam 1e-3, batch 128.
        return {"baseline": Experiment({"baseline": self.base()}, self.seeds)}

    def findings(self, runs: pd.DataFrame, by_epoch: pd.DataFrame, layers: pd.DataFrame,
                 train_images: int) -> dict:
        """Everything 01 concludes, as its template, its headline and its index card need it.

        `by_epoch` is the mean over seeds per epoch (with the train−val `gap`), `layers`
        the model's weights per layer with their `share`.
        """
        best = compare.summarize(runs, metric="best_val_accuracy")
        last_epoch = compare.summarize(runs, metric="last_val_accuracy")
        best_epoch = int(by_epoch["val_accuracy"].idxmax())  # of the mean curve
        loss_epoch = int(by_epoch["val_loss"].idxmin())  # where validation loss turns up
        last = by_epoch.iloc[-1]
        params = int(runs["params"].iloc[0])
        found = {"params": params, "printed_params": f"{params:,}", "first_layer": layers["share"].iloc[0],
                 "best": compare.describe(best, "baseline"), "best_mean": best.loc["baseline", "mean"],
                 "chance": CHANCE, "at": epochs_span(runs["best_epoch"]),
                 "last_epoch": compare.describe(last_epoch, "baseline"), "epochs": self.epochs,
                 "best_epoch": best_epoch, "loss_epoch": loss_epoch, "overfits": loss_epoch < self.epochs,
                 "loss_rise": last["val_loss"] / by_epoch["val_loss"].min() - 1,
                 "best_vs_last": best_against_last(runs), "last": last,
                 "gap_at_best": by_epoch["gap"].loc[best_epoch],
                 "printed_train_images": f"{train_images:,}", "seconds": runs["seconds_per_epoch"].median()}
        return {**found, **self.card(found)}

    def card(self, found: dict) -> dict:
        """The index card: headline, numbers and the finding, from `findings`' values."""
        headline = (f"A plain 3×128 MLP reaches {found['best_mean']:.3f} validation accuracy at its best "
                    f"epoch (each seed's, {found['at']}; the mean curve peaks at epoch {found['best_epoch']}), "
                    f"then overfits: train−val gap {found['last']['gap']:.2f} after {self.epochs} epochs")
        numbers = {"best val accuracy": found["best"], "last-epoch val accuracy": found["last_epoch"],
                   "best epoch (mean curve)": found["best_epoch"],
                   "val loss minimum at epoch": found["loss_epoch"],
                   "train−val gap, last epoch": float(found["last"]["gap"]),
                   "parameters": found["params"], "seconds per epoch": float(found["seconds"])}
        text = (f"The plain 3×128 MLP overfits: its best validation epoch against its last ({self.epochs} "
                "epochs; the best is picked on the same images, so the gap is optimistic)")
        return {"headline": headline, "numbers": numbers,
                "findings": [(text, found["best_vs_last"], OPTIMISTIC)]}
