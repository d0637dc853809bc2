"""07 · A ladder from 06's recipe to the best MLP in ten minutes of CPU; a compact CNN for contrast."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from cifar_mlp import compare
from cifar_mlp.config import AUGMENTATIONS, BATCHNORM, REFERENCE_RECIPE, RunConfig
from cifar_mlp.study import (Experiment, Study, config_value, each, knob, number, one_of,
                             seed_list, whole)

START = "06 recipe"
FINAL = "ladder's MLP"
# The changes a ladder may try, by the config key each sets from its knob.
STEPS = ("augment", "widths", "label_smoothing", "batchnorm", "epochs")
# Every rung is judged on validation by its restored best epoch (all runs keep a checkpoint).
METRIC = compare.RULES["best_epoch"]


@dataclass(frozen=True)
class Ladder:
    """The climb: one row per step, every run it trained or read, and the model it ends on."""

    steps: pd.DataFrame   # step, model (tried), on (the model before it), kept, and the paired gain
    runs: pd.DataFrame    # one row per run, variant named after the model it is
    final: RunConfig      # the last kept model, scored on validation only
    final_name: str


@dataclass(frozen=True, kw_only=True)
class Beyond(Study):
    SECTION = "07_beyond"
    START: ClassVar[str] = START
    FINAL: ClassVar[str] = FINAL
    METRIC: ClassVar[str] = METRIC
    PROFILES = {
        # steps: the longer schedule (`epochs`) and the width step (`widths`) are left
        # out of the full profile. With flips and shifts a 3×1024 epoch costs more than
        # the budget leaves for a longer schedule on the 2-core CPU of benchmarks/results,
        # and the width step alone would take a third of this section's training, more
        # than the whole study's time goal leaves for it (report_progress.md). Both stay
        # one parameter away (`steps`); the width step's runs are stored, so it costs
        # nothing to read back.
        # The 16-32-64 CNN: 10 epochs, what fits the budget there.
        # goal: a step past what the previous round's wide MLP reached on test.
        "full": dict(seeds=(0, 1, 2), epochs=40, budget_minutes=10, goal=0.66,
                     steps=("augment", "label_smoothing", "batchnorm"),
                     augment="flip_shift", mlp_widths=(1024,) * 3, label_smoothing=0.1,
                     batchnorm="before", cnn_filters=(16, 32, 64), cnn_epochs=10, cnn_seeds=(0, 1, 2)),
        "smoke": dict(seeds=(0, 1), epochs=4, budget_minutes=10, goal=0.3, steps=STEPS,
                      augment="flip_shift", mlp_widths=(256,) * 3, label_smoothing=0.1,
                      batchnorm="before", cnn_filters=(8, 16), cnn_epochs=4,
                      cnn_seeds=(0,)),
    }

    steps: tuple[str, ...] = knob(each(one_of(STEPS)), "the changes tried, in order")
    budget_minutes: float = knob(number(0), "the most training time a run may take")
    goal: float = knob(number(0, 1), "the MLP test accuracy the ladder sets out to reach")
    mlp_widths: tuple[int, ...] = knob(each(whole(1, 16384), distinct=False), "the width step's hidden layers")
    augment: str = knob(one_of(AUGMENTATIONS), "the augmentation step: flips, or flips and shifts")
    label_smoothing: float = knob(config_value("label_smoothing"), "the label smoothing step")
    batchnorm: str = knob(one_of(BATCHNORM), "the batch norm step: where it goes")
    cnn_filters: tuple[int, ...] = knob(each(whole(1, 1024)), "channels of the CNN's conv stages")
    cnn_epochs: int = knob(whole(1, 1000), "the CNN's epochs in the budget")
    cnn_seeds: tuple[int, ...] = knob(seed_list, "the CNN's seeds")

    def changes(self) -> dict[str, dict]:
        """The ladder's changes (`self.steps`) in the order they are tried, one config change each.

        Augmentation first: an MLP that sees new views of each image can use more
        width, and a model that sees many views of each image needs more epochs.
        """
        widths = "×".join(map(str, self.mlp_widths)) if len(set(self.mlp_widths)) > 1 \
            else f"{len(self.mlp_widths)}×{self.mlp_widths[0]}"
        available = {
            "augment": (self.augment.replace("_", " + ").replace("flip", "flips").replace("shift", "shifts"),
                        dict(augment=self.augment)),
            "widths": (f"width {widths}", dict(widths=self.mlp_widths)),
            "label_smoothing": (f"label smoothing {self.label_smoothing:g}",
                                dict(label_smoothing=self.label_smoothing)),
            "batchnorm": (f"batch norm {self.batchnorm} the activation", dict(batchnorm=self.batchnorm)),
            "epochs": (f"{self.epochs} epochs", dict(epochs=self.epochs)),
        }
        return dict(available[step] for step in self.steps)

    def climb(self, start: RunConfig, run: Callable[[Experiment], pd.DataFrame]) -> Ladder:
        """Try each step on the best model so far; keep it only if it is *better* on validation.

        `run(experiment)` trains or reads an experiment's runs (a study's `run`). Each
        step depends on the steps before it, so the ladder trains one step at a time.
        """
        current, name = start, START
        rows, frames = [], []
        for step, change in self.changes().items():
            candidate = current.replace(**change, test=False)
            if candidate.replace(test=current.test) == current:
                rows.append(dict(step=step, model=name, on=name, n=0, kept=False, note="already so"))
                continue
            tried = f"+ {step}"  # each step is tried once: its name names the model
            runs = run(Experiment({name: current, tried: candidate}, self.seeds, reference=name))
            frames.append(runs)
            c = compare.paired(runs, tried, name, metric=METRIC)
            kept = c.verdict == compare.BETTER
            rows.append(dict(step=step, model=tried, on=name, n=c.n, mean=runs.loc[runs["variant"] == tried,
                        METRIC].mean(), diff=c.diff, ci_low=c.ci_low, ci_high=c.ci_high,
                        verdict=c.verdict, kept=kept, note="kept" if kept else "not kept"))
            if kept:
                current, name = candidate, tried
        runs = pd.concat(frames, ignore_index=True).drop_duplicates(["variant", "seed"]) \
            if frames else pd.DataFrame()
        return Ladder(pd.DataFrame(rows), runs, current, name)

    def finals(self, start: RunConfig, ladder: Ladder,
               start_seeds: tuple[int, ...] = ()) -> dict[str, Experiment]:
        """What the test set sees, once: the ladder's start ("start"), its last model
        ("ladder", if a step was kept), and the CNN ("cnn").

        The start is 06's recipe, stored on 06's seeds: it is read on those
        (`start_seeds`) as well as the ladder's, so that it has one number on
        every page; the ladder's model is paired with it on the seeds they share.
        """
        finals = {"start": Experiment({START: start}, tuple(dict.fromkeys((*self.seeds, *start_seeds))))}
        if ladder.final_name != START:
            finals["ladder"] = Experiment({FINAL: ladder.final.replace(test=True)}, self.seeds)
        cnn = self.base(**{**REFERENCE_RECIPE, "early_stopping": False, "widths": (128,)},
                        filters=self.cnn_filters, epochs=self.cnn_epochs, augment=self.augment,
                        label_smoothing=self.label_smoothing, test=True)
        finals["cnn"] = Experiment({f"CNN {'-'.join(map(str, self.cnn_filters))}": cnn}, self.cnn_seeds)
        return finals
