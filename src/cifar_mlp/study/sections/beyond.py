"""07 · A ladder of MLP changes from 06's recipe toward a ten-minute goal; a compact CNN for contrast."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from cifar_mlp.config import AUGMENTATIONS, BATCHNORM, REFERENCE_RECIPE, RunConfig
from cifar_mlp.study import compare, held_out
from cifar_mlp.study.base import (
    Experiment,
    Study,
    config_value,
    each,
    knob,
    number,
    one_of,
    seed_list,
    whole,
)

START = "06 recipe"
FINAL = "ladder's MLP"
# The changes a ladder may try, by the config key each sets from its knob.
STEPS = ("augment", "widths", "label_smoothing", "batchnorm", "epochs")
# The goal's CPU: one where `make bench` times ours (the reference 3×128 MLP) at about this
# many seconds per epoch (benchmarks/results/bench.md). A measure of the CPU, not of the
# ladder's models; on a slower CPU the same budget is worth proportionally more minutes.
REFERENCE_BENCH = 0.7
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
    REFERENCE_BENCH: ClassVar[float] = REFERENCE_BENCH
    PROFILES = {
        # steps: flips and shifts, label smoothing 0.3 (Bachmann et al., "Scaling MLPs", 2023,
        # train MLPs with it near this value), then width. The longer schedule (`epochs`) is
        # the next step, one parameter away (`steps`): each of its runs costs twice a width
        # step's, more than this round's training time held.
        # The 16-32-64 CNN: 10 epochs (its best epochs sit at the last ones; fewer would cut it
        # off). It is a contrast, not held to the MLP's time budget: the page says where it lands.
        # goal: set as a step past the test accuracy an earlier version's widest MLP had read
        # (the page lists those reads, `earlier_test_reads`); budget_minutes: per run, on 2
        # cores of a CPU where `make bench` gives ours REFERENCE_BENCH seconds per epoch.
        "full": dict(seeds=(0, 1, 2), epochs=60, budget_minutes=10, goal=0.66,
                     steps=("augment", "label_smoothing", "widths"),
                     augment="flip_shift", mlp_widths=(1024,) * 3, label_smoothing=0.3,
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
    cnn_epochs: int = knob(whole(1, 1000), "the CNN's epochs")
    cnn_seeds: tuple[int, ...] = knob(seed_list, "the CNN's seeds")

    def changes(self, every: bool = False) -> dict[str, dict]:
        """The ladder's changes (`self.steps`, or with `every` all of STEPS) in the order they
        are tried, one config change each.

        Augmentation first: an MLP that sees new views of each image can use more
        width, and a model that sees many views of each image needs more epochs.
        """
        widths = held_out.layers(self.mlp_widths)
        available = {
            "augment": (held_out.augmentation(self.augment), dict(augment=self.augment)),
            "widths": (f"width {widths}", dict(widths=self.mlp_widths)),
            "label_smoothing": (f"label smoothing {self.label_smoothing:g}",
                                dict(label_smoothing=self.label_smoothing)),
            "batchnorm": (f"batch norm {self.batchnorm} the activation", dict(batchnorm=self.batchnorm)),
            "epochs": (f"{self.epochs} epochs", dict(epochs=self.epochs)),
        }
        return dict(available[step] for step in (STEPS if every else self.steps))

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
        finals = {"start": Experiment({START: start.replace(test=True)},
                                      tuple(dict.fromkeys((*self.seeds, *start_seeds))))}
        if ladder.final_name != START:
            finals["ladder"] = Experiment({FINAL: ladder.final.replace(test=True)}, self.seeds)
        cnn = self.base(**{**REFERENCE_RECIPE, "early_stopping": False, "widths": (128,)},
                        filters=self.cnn_filters, epochs=self.cnn_epochs, augment=self.augment,
                        label_smoothing=self.label_smoothing, test=True)
        finals["cnn"] = Experiment({f"CNN {'-'.join(map(str, self.cnn_filters))}": cnn}, self.cnn_seeds)
        return finals

    def budget(self, runs: pd.DataFrame, same: dict[str, str] | None = None) -> pd.DataFrame:
        """The page's one budget rule, per variant: its model's slowest stored run, as recorded.

        A model's minutes are the wall time (compilation and validation included) of
        the slowest of all its runs in `runs`: every seed, ladder step and test read
        alike. It is within the budget when they are at most `budget_minutes`. Records
        name their CPU but not its `make bench` speed, so the minutes are not scaled to
        the goal's CPU; they include sharing the cores with other runs (`runs_at_once`),
        so a run alone takes less: the rule errs toward "over", never toward "within".
        `same` maps a variant to the model it is under another name (the ladder's MLP is
        its last kept step, trained again to read the test set): both get one number.

        Columns: minutes, epochs, seconds_per_epoch, runs_at_once, key (of the slowest
        run), runs (of the model), within_budget; one row per variant, in the runs' order.
        """
        runs = (runs.drop_duplicates("key") if "key" in runs else runs).reset_index(drop=True)
        runs = runs.assign(model=runs["variant"].map(lambda v: (same or {}).get(v, v)))
        slowest = runs.loc[runs.groupby("model", sort=False)["wall_seconds"].idxmax()].set_index("model")
        table = pd.DataFrame({
            "minutes": slowest["wall_seconds"] / 60,
            "epochs": slowest["epochs_run" if "epochs_run" in slowest else "epochs"],
            "seconds_per_epoch": slowest.get("seconds_per_epoch", float("nan")),
            "runs_at_once": slowest.get("runs_at_once", float("nan")),
            "key": slowest.get("key"),
            "runs": runs.groupby("model").size()})
        table["within_budget"] = table["minutes"] <= self.budget_minutes
        named = runs.drop_duplicates("variant")
        return table.loc[named["model"]].set_axis(named["variant"]).rename_axis("variant")

    def earlier_test_reads(self, shown: pd.DataFrame) -> pd.DataFrame:
        """Test scores in the store of this section's kinds of model (trained on augmented
        images, or with conv stages) from runs not in `shown`: what earlier versions of the
        section read on the test set, to be disclosed (`held_out.unshown`)."""
        return held_out.unshown(shown["key"], self.results_dir,
                                  lambda t: (t["augment"] != "none") | (t["filters"].map(len) > 0))
