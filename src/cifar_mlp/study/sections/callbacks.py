"""05 · Early stopping, checkpoints, ReduceLROnPlateau, and four learning-rate schedules."""

from dataclasses import dataclass

import pandas as pd

from cifar_mlp.config import REFERENCE_MODEL, SCHEDULES
from cifar_mlp.study import compare
from cifar_mlp.study.base import Experiment, Study, each, knob, one_of, whole
from cifar_mlp.study.sections import callbacks_results


@dataclass(frozen=True, kw_only=True)
class Callbacks(Study):
    SECTION = "05_callbacks_schedules"
    PROFILES = {
        # 30 epochs: schedules span the whole run. Patience 5 as in the reference's claim.
        "full": dict(seeds=(0, 1, 2, 3, 4), epochs=30, schedules=SCHEDULES, es_patience=5,
                     rlr_patience=2, step_epochs=10),
        # Patience and step shortened so every callback acts within 3 epochs.
        "smoke": dict(schedules=SCHEDULES, es_patience=1, rlr_patience=1, step_epochs=1),
    }

    schedules: tuple[str, ...] = knob(each(one_of(SCHEDULES)), "schedules beside the constant rate")
    es_patience: int = knob(whole(0), "epochs without a better val accuracy before stopping")
    rlr_patience: int = knob(whole(0), "epochs without a lower val loss before halving the rate")
    step_epochs: int = knob(whole(1), "the step schedule halves the rate every this many epochs")

    def reference(self):
        """Constant rate, no callbacks, every epoch: what each variant changes one thing of."""
        return self.base(**REFERENCE_MODEL)

    def checkpoint(self):
        """The reference with ModelCheckpoint on validation accuracy: the settings a recipe takes.

        Not trained here: a checkpoint changes no step of training, only which epoch's
        weights the run ends with, so its run is the constant-rate run read at its best
        epoch (every history keeps each epoch's validation accuracy).
        """
        return self.reference().replace(checkpoint=True, ckpt_monitor="val_accuracy")

    def experiments(self) -> dict[str, Experiment]:
        ref = self.reference()
        # Callbacks watch validation accuracy to stop (what we select on), and validation
        # loss for the plateau (smoother: it reacts to overfitting, not noise).
        # Early stopping is trained once, restoring its best epoch: restoring or keeping the
        # last weights changes no step of training, so "keep the last" is the same run read
        # at its last epoch, as the checkpoint is the constant-rate run read at its best.
        stop = dict(early_stopping=True, es_monitor="val_accuracy", es_patience=self.es_patience)
        callbacks = {
            "early_stop_restore": ref.replace(**stop, es_restore_best=True),
            "reduce_lr": ref.replace(reduce_lr=True, rlr_monitor="val_loss", rlr_factor=0.5,
                                     rlr_patience=self.rlr_patience),
        }
        schedules = {s: ref.replace(schedule=s, **({"step_epochs": self.step_epochs} if s == "step" else {}))
                     for s in self.schedules}
        return {"schedules": Experiment({"constant": ref, **schedules}, self.seeds, reference="constant"),
                "callbacks": Experiment({"constant": ref, **callbacks}, self.seeds, reference="constant")}

    def findings(self, df: pd.DataFrame, stopping: pd.DataFrame, kept_last: compare.Comparison,
                 reductions: pd.DataFrame, scheduling: pd.DataFrame) -> dict:
        """What 05 concludes from its runs (`df`) and the tables its page shows: early stopping
        (`stopping`, and `kept_last` against the constant rate's last epoch), the plateau
        callback's `reductions`, the schedules' overview (`scheduling`)."""
        return callbacks_results.findings(df, stopping, kept_last, reductions, scheduling,
                                          experiments=self.experiments(), checkpoint=self.checkpoint(),
                                          epochs=self.epochs, patience=self.es_patience)
