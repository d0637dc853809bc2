"""The reference studies' claims, each quoted, with its verdict rule written before the data.

The claims come from "Cómo enseñar a una red a aprender mejor: backpropagation
y optimización en CIFAR-10" (2025-10-06; claims 1–9) and "Práctica 8:
Backpropagation y Optimizadores" (2025-09-28; claim 10). Each is judged on the
runs of the section that tested its subject, read through that section's
declaration, by the rules of `compare`: paired by seed, 95 % intervals, one
scoring rule per comparison, and our validation against our validation, our
test against their test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from cifar_mlp.study import compare
from cifar_mlp.study.sections import Architecture, Callbacks, Optimizers, Regularization

STUDY = ('"Cómo enseñar a una red a aprender mejor: backpropagation y optimización en CIFAR-10" '
         "(2025-10-06)")
PRACTICE = '"Práctica 8: Backpropagation y Optimizadores" (2025-09-28)'
# How close "≈" is: one point of accuracy, about the seed spread of one 3×128 run.
MATCH_MARGIN = 0.01
# What "without losing accuracy" allows: half a point, below any difference the study acts on.
NO_WORSE_MARGIN = 0.005
BEST, LAST = "best_val_accuracy", "last_val_accuracy"


@dataclass(frozen=True)
class Claim:
    number: int
    short: str        # for the index card
    quote: str        # the source's words, verbatim
    translation: str
    where: str        # the document and its section
    rule: str         # what supports it, what refutes it; anything else is inconclusive
    judge: Callable   # (Evidence) -> (ours, brief, verdict)


@dataclass(frozen=True)
class Evidence:
    """The runs behind the claims, from the declarations of 02–06, read from one store."""

    frames: dict                  # {experiment: runs} of 02, 03, 04 (final) and 05
    histories: Callable           # runs -> per-epoch histories
    recipes: pd.DataFrame         # 06: recipe and reference, scored on test
    largest: pd.DataFrame         # 06: claim 10's MLP, scored on test
    epochs: dict                  # {section: its epochs}
    reach_accuracy: float         # claim 3's mark


def gather(profile: str, results_dir, recipes: pd.DataFrame, largest: pd.DataFrame,
           reach_accuracy: float) -> Evidence:
    """Every run the claims need, read (or trained) through the sections' declarations."""
    arch, reg = Architecture.at(profile, results_dir), Regularization.at(profile, results_dir)
    opt, cb = Optimizers.at(profile, results_dir), Callbacks.at(profile, results_dir)
    a, r = arch.experiments(), reg.experiments()
    # Quiet: these are 02–05's runs, announced on their own pages.
    frames = {name: arch.run(a[name], quiet=True) for name in ("depth", "width", "activation")}
    frames |= {name: reg.run(r[name], quiet=True) for name in ("batchnorm", "dropout", "l2")}
    frames["optimizers"] = opt.stages(quiet=True).final
    frames["callbacks"] = pd.concat([cb.run(e, quiet=True) for e in cb.experiments().values()]
                                    ).drop_duplicates("key")
    return Evidence(frames, arch.histories, recipes, largest,
                    {"02": arch.epochs, "03": reg.epochs, "04": opt.epochs, "05": cb.epochs},
                    reach_accuracy)


def markdown(table: pd.DataFrame) -> str:
    """The claims as the page's table: number, claim with its quote and place, rule, ours, verdict."""
    rows = [f"| {n} | “{c['claim']}” <br><small>{c['where']}: «{c['quote']}»</small> | {c['rule']} | "
            f"{c['ours']} | **{c['verdict']}** |" for n, c in table.to_dict("index").items()]
    return "| # | claim (quoted, translated) | rule | ours | verdict |\n|---|---|---|---|---|\n" + "\n".join(rows)


def judge_all(evidence: Evidence) -> pd.DataFrame:
    """One row per claim: number, claim, quote, where, rule, ours, brief, verdict."""
    rows = []
    for c in CLAIMS:
        ours, brief, verdict = c.judge(evidence)
        rows.append(dict(number=c.number, claim=c.translation, short=c.short, quote=c.quote,
                         where=c.where, rule=c.rule, ours=ours, brief=brief, verdict=verdict))
    return pd.DataFrame(rows).set_index("number")


# ---------------------------------------------------------------- the judges

def _diff(runs, a, b, metric, **kw):
    return compare.paired(runs, a, b, metric=metric, **kw)


def _short(name: str, c, unit: str = "points") -> str:
    """'AdamW − Adam −0.6 (−1.3 to +0.1)': a part's numbers, for the card."""
    scale = 100 if unit == "points" else 1
    return (f"{name} {compare.signed(scale * c.diff)} ({compare.bound(scale * c.ci_low)} to "
            f"{compare.bound(scale * c.ci_high)})")


def _decided(parts: list[tuple[str | None, str]]) -> tuple[str, str]:
    """The verdict of a claim of several (verdict, label) parts, and the card's brief: the
    part that decided it (the first that fails, else the first undecided), or that all hold."""
    verdict = compare.overall(*(v for v, _ in parts))
    for wanted, word in ((compare.REFUTED, "fails"), (compare.INCONCLUSIVE, "undecided")):
        hit = [label for v, label in parts if v == wanted]
        if hit:
            return verdict, f"{word}: {hit[0]}"
    return verdict, "every part holds" if parts else "not tested"


def _sweet_spot(e: Evidence):
    """Accuracy and time together: is 3×128 on the front of 02's depths and widths, where no
    net is both at most as slow per epoch and better by the rule?"""
    parts, shown, dearer = [], [], []
    for name, reference in (("depth", "depth 3"), ("width", "width 128")):
        runs = e.frames[name]
        per_epoch = runs.groupby("variant")["seconds_per_epoch"].mean()
        for v in per_epoch.index.drop(reference):
            c = _diff(runs, v, reference, BEST)
            cost = per_epoch[v] / per_epoch[reference]
            dominates = c.verdict == compare.BETTER and cost <= 1
            parts.append(compare.REFUTED if dominates else compare.SUPPORTED)
            shown.append(f"{v}: {compare.difference(c)}, at {cost:.1f}× the seconds per epoch")
            if c.verdict == compare.BETTER and cost > 1:
                dearer.append(f"{v} better at {cost:.1f}× the time")
    dominated = [s for s, p in zip(shown, parts) if p == compare.REFUTED]
    brief = (f"dominated by {dominated[0].split(':')[0]}" if dominated
             else "on the accuracy–time front: no net as fast is better"
             + (f" ({', '.join(dearer)})" if dearer else ""))
    return "; ".join(shown), brief, compare.overall(*parts)


def _activations(e: Evidence):
    runs = e.frames["activation"]
    gelu, tanh_r, tanh_g = (_diff(runs, "gelu", "relu", BEST), _diff(runs, "relu", "tanh", BEST),
                            _diff(runs, "gelu", "tanh", BEST))
    ours = (f"GELU − ReLU {compare.difference(gelu)}; ReLU − tanh {compare.difference(tanh_r)}; "
            f"GELU − tanh {compare.difference(tanh_g)}")
    verdict, brief = _decided([(compare.matches(gelu, margin=MATCH_MARGIN), _short("GELU − ReLU", gelu)),
                               (compare.beats(tanh_r), _short("ReLU − tanh", tanh_r)),
                               (compare.beats(tanh_g), _short("GELU − tanh", tanh_g))])
    return ours, brief, verdict


def _batchnorm(e: Evidence):
    runs = e.frames["batchnorm"]
    hist = e.histories(runs)
    by_run = hist.groupby(["variant", "seed"])
    reached = hist[hist["val_accuracy"] >= e.reach_accuracy].groupby(["variant", "seed"])["epoch"].min()
    late = hist[hist["epoch"] > by_run["epoch"].transform("max") // 2]
    jitter = late.groupby(["variant", "seed"])["val_accuracy"].apply(lambda s: s.diff().abs().mean())
    index = pd.MultiIndex.from_frame(runs[["variant", "seed"]])
    # A run that never reaches the mark counts as one epoch past its last.
    runs = runs.assign(epochs_to_reach=reached.reindex(index).fillna(
        runs.set_index(["variant", "seed"])["epochs_run"] + 1).to_numpy(),
        jitter=jitter.reindex(index).to_numpy())
    faster = _diff(runs, "BN before", "BN off", "epochs_to_reach", higher_is_better=False)
    steadier = _diff(runs, "BN before", "BN off", "jitter", higher_is_better=False)
    accuracy = _diff(runs, "BN before", "BN off", BEST)
    ours = (f"epochs to {e.reach_accuracy:g}: {compare.difference(faster, unit='epochs')}; "
            f"epoch-to-epoch change: {compare.difference(steadier, unit='', digits=4)}; "
            f"accuracy: {compare.difference(accuracy)}")
    verdict, brief = _decided([
        (compare.beats(faster), _short(f"epochs to {e.reach_accuracy:g}", faster, unit="epochs")),
        (compare.beats(steadier), "epoch-to-epoch change"),
        (compare.no_worse(accuracy, margin=NO_WORSE_MARGIN), _short("accuracy", accuracy))])
    return ours, brief, verdict


def _dropout(e: Evidence):
    runs = e.frames["dropout"]
    hidden = sorted(v for v in runs["variant"].unique() if v.startswith("hidden "))
    higher = [v for v in hidden if v != "hidden 0.1"]
    best_higher = compare.best(runs[runs["variant"].isin(higher)], metric=BEST).variant if higher else None
    parts, shown = [], []
    if "hidden 0.1" in hidden and best_higher:
        c = _diff(runs, "hidden 0.1", best_higher, BEST)
        parts.append((compare.beats(c), _short(f"hidden 0.1 − {best_higher}", c)))
        shown.append(f"hidden 0.1 − {best_higher} (the best higher rate): {compare.difference(c)}")
    if {"hidden 0.1", "input 0.1"} <= set(runs["variant"]):
        c = _diff(runs, "hidden 0.1", "input 0.1", BEST)
        parts.append((compare.beats(c), _short("hidden 0.1 − input 0.1", c)))
        shown.append(f"hidden 0.1 − input 0.1: {compare.difference(c)}")
    verdict, brief = _decided(parts)
    return "; ".join(shown) or "rate 0.1 not in this profile's grid", brief, verdict


def _l2(e: Evidence):
    runs = e.frames["l2"].assign(gap=lambda d: d["train_accuracy"] - d["val_accuracy"])
    claimed = [v for v in runs["variant"].unique()
               if v != "L2 0" and 5e-5 <= float(v.split()[1]) <= 1e-4]
    parts, shown = [], []
    for v in claimed:
        gap, acc = _diff(runs, v, "L2 0", "gap", higher_is_better=False), _diff(runs, v, "L2 0", BEST)
        parts += [(compare.beats(gap), _short(f"{v} gap", gap)),
                  (compare.no_worse(acc, margin=NO_WORSE_MARGIN), _short(f"{v} accuracy", acc))]
        shown.append(f"{v}: gap {compare.difference(gap)}, accuracy {compare.difference(acc)}")
    verdict, brief = _decided(parts)
    return "; ".join(shown) or "no L2 in 5e-5–1e-4 in this profile's grid", brief, verdict


def _fixed_rate(e: Evidence):
    runs = e.frames["optimizers"]
    have = {v.split(",")[0] for v in runs["variant"]}
    parts, shown = [], []
    for a, b, test in (("rmsprop", "adam", "≈"), ("adamw", "adam", "≈"),
                       ("adam", "sgd_momentum", ">"), ("adam", "sgd_nesterov", ">")):
        if {a, b} <= have:
            c = _diff(runs, f"{a}, constant", f"{b}, constant", "val_accuracy")
            parts.append((compare.matches(c, margin=MATCH_MARGIN) if test == "≈" else compare.beats(c),
                          _short(f"{a} − {b}", c)))
            shown.append(f"{a} − {b}: {compare.difference(c)}")
    verdict, brief = _decided(parts)
    return "; ".join(shown), brief, verdict


def _scheduled_adam(e: Evidence):
    runs = e.frames["optimizers"]
    others = [v for v in runs["variant"].unique() if v.endswith("warmup_cosine") and not v.startswith("adam,")]
    parts, shown = [], []
    if "adam, warmup_cosine" in set(runs["variant"]):
        c = _diff(runs, "adam, warmup_cosine", "adam, constant", "val_accuracy")
        parts.append((compare.beats(c), _short("Adam with − without the schedule", c)))
        shown.append(f"Adam with − without the schedule: {compare.difference(c)}")
        for v in others:
            c = _diff(runs, "adam, warmup_cosine", v, "val_accuracy")
            name = v.split(",")[0]
            parts.append((compare.beats(c), _short(f"Adam − {name}, both scheduled", c)))
            shown.append(f"Adam − {name}, both with the schedule: {compare.difference(c)}")
    test = compare.summarize(e.recipes, metric="test_accuracy").loc["reference"]
    parts.append((compare.overlaps((test["ci_low"], test["ci_high"]), 0.555, 0.561),
                  f"reference test {test['mean']:.3f} against 0.555–0.561"))
    shown.append(f"reference recipe on test {compare.describe(compare.summarize(e.recipes, metric='test_accuracy'), 'reference')}")
    verdict, brief = _decided(parts)
    return "; ".join(shown), brief, verdict


def _early_stopping(e: Evidence):
    """05's own rule: early stopping against training every epoch, both at their best epoch."""
    runs = e.frames["callbacks"]
    stopped = runs[runs["variant"] == "early_stop_restore"]
    constant = runs[runs["variant"] == "constant"]
    epochs = e.epochs["05"]
    saved = stopped["epochs_run"] < epochs
    c = _diff(runs, "early_stop_restore", "constant", BEST)
    peaked_early = int((constant["best_epoch"] < constant["epochs_run"]).sum())
    ours = (f"stopped after {stopped['epochs_run'].mean():.1f} of {epochs} epochs; at the best epoch "
            f"{compare.difference(c)}; the last epoch was not the best in {peaked_early} of "
            f"{len(constant)} constant-rate runs")
    kept = {compare.WORSE: compare.REFUTED}.get(c.verdict, compare.SUPPORTED
                                                if c.verdict == compare.BETTER else compare.INCONCLUSIVE)
    verdict, brief = _decided([
        (compare.SUPPORTED if saved.all() else compare.INCONCLUSIVE if saved.any() else compare.REFUTED,
         f"stopped after {stopped['epochs_run'].mean():.1f} of {epochs} epochs"),
        (kept, _short("accuracy", c)),
        (compare.SUPPORTED if peaked_early else compare.REFUTED,
         f"last epoch not the best in {peaked_early} of {len(constant)} runs")])
    return ours, brief, verdict


def _plateau_and_step(e: Evidence):
    """05's own scoring, every run at its best epoch, as its tables and its verdicts read them."""
    runs = e.frames["callbacks"]
    pairs = [("reduce_lr", "constant"), ("step", "constant"), ("cosine", "step"), ("reduce_lr", "step")]
    pairs = [(a, b) for a, b in pairs if {a, b} <= set(runs["variant"])]
    found = [(a, b, _diff(runs, a, b, BEST)) for a, b in pairs]
    ours = "; ".join(f"{a} − {b}: {compare.difference(c)}" for a, b, c in found)
    verdict, brief = _decided([(compare.beats(c), _short(f"{a} − {b}", c)) for a, b, c in found])
    return ours, brief, verdict


# The source's other figures, from its training log: the last epoch it ran (14 of 30, early
# stopping) logged 0.6887 running training accuracy (dropout on) and 0.5345 validation
# accuracy, on the test set it validated on; its text says its tries ranged from about 20 %
# to 55 %.
SOURCE_LOG = {"last epoch": 14, "epochs": 30, "running train": 0.6887, "val on test": 0.5345}


def _largest(e: Evidence):
    """As the source measured: training accuracy by `evaluate` on the whole training split
    (dropout off), test accuracy; each against where one more of our runs would land."""
    runs = e.largest[e.largest["status"] == "ok"]
    parts, shown, ranges = [], [], {}
    for column, label, claimed in (("train_evaluated_accuracy", "train (evaluate)", 0.738),
                                   ("test_accuracy", "test", 0.535)):
        low, high = ranges[column] = compare.prediction_interval(runs[column])
        parts.append(compare.overlaps((low, high), claimed, claimed))
        shown.append(f"{label} {runs[column].mean():.3f} (one more run: {low:.3f}–{high:.3f})")
    ours = ("; ".join(shown) + f"; {len(runs)} seeds, {runs['epochs_run'].mean():.1f} epochs. The source's "
            f"other figures: it stopped after {SOURCE_LOG['last epoch']} of {SOURCE_LOG['epochs']} epochs, its last "
            f"logged {SOURCE_LOG['running train']:.3f} running training accuracy (ours "
            f"{runs['train_accuracy'].mean():.3f}) and {SOURCE_LOG['val on test']:.3f} on the test set it "
            f"validated on (ours, at the last epoch on validation, {runs['last_val_accuracy'].mean():.3f})")
    brief = "; ".join(f"{label} {runs[column].mean():.3f} (claimed {claimed:.3f}; one more run "
                      f"{ranges[column][0]:.3f}–{ranges[column][1]:.3f})"
                      for column, label, claimed in (("train_evaluated_accuracy", "train", 0.738),
                                                     ("test_accuracy", "test", 0.535)))
    return ours, brief, compare.overall(*parts)


# ---------------------------------------------------------------- the claims, as written

CLAIMS = [
    Claim(1, "3×128 is the sweet spot",
          "Comparaciones de 1–5 capas y 64–2048 neuronas mostraron que 3×128 es un sweet spot: "
          "buena capacidad con tiempos razonables.",
          "Comparing 1–5 layers and 64–2048 units showed 3×128 to be a sweet spot: good capacity "
          "at reasonable times.", f"{STUDY}, §1 Baseline y arquitectura",
          "Accuracy and time together, on 02's depths at width 128 and widths at depth 3 (all "
          "seeds, all epochs; the wide nets, trained for fewer epochs, are not judged): refuted "
          "if a net at most as slow per epoch (the mean of its records' seconds per epoch) is "
          "better than 3×128 at its best epoch, so 3×128 is off the accuracy–time front; "
          "supported if none is.", _sweet_spot),
    Claim(2, "ReLU ≈ GELU, tanh behind",
          "ReLU y GELU ofrecieron comportamientos similares; tanh quedó por detrás.",
          "ReLU and GELU behaved alike; tanh fell behind.", f"{STUDY}, §1, Conclusiones",
          f"02's activations at 3×128, best epoch: GELU − ReLU inside ±{MATCH_MARGIN * 100:.0f} point, "
          "and ReLU and GELU each better than tanh.", _activations),
    Claim(3, "BatchNorm before stabilizes and speeds up",
          "Batch Normalization antes de la activación estabilizó y aceleró el entrenamiento.",
          "Batch normalization before the activation stabilized and sped up training.",
          f"{STUDY}, §2 Regularización",
          "03's BN before against off: fewer epochs to the mark (faster), a smaller epoch-to-epoch "
          f"change of validation accuracy over the second half (steadier), and accuracy at most "
          f"{NO_WORSE_MARGIN * 100:.1f} points behind.", _batchnorm),
    Claim(4, "dropout 0.1, after the hidden layers",
          "Dropout moderado (≈0.10) funcionó mejor que tasas altas; es más efectivo después de "
          "densas intermedias que en la entrada.",
          "Moderate dropout (≈0.10) worked better than high rates; it is more effective after the "
          "hidden dense layers than on the input.", f"{STUDY}, §2 Regularización",
          "03, best epoch: hidden 0.1 better than the best higher hidden rate, and better than "
          "input 0.1.", _dropout),
    Claim(5, "L2 5e-5–1e-4 curbs the gap",
          "La penalización L2 leve (≈5e-5–1e-4) ayudó a contener el sobreajuste sin degradar la "
          "convergencia.",
          "A light L2 penalty (≈5e-5–1e-4) helped contain overfitting without hurting convergence.",
          f"{STUDY}, §2 Regularización",
          "03: each L2 in 5e-5–1e-4 against none: a smaller last-epoch train − validation gap, and "
          f"best-epoch accuracy at most {NO_WORSE_MARGIN * 100:.1f} points behind.", _l2),
    Claim(6, "fixed rate: RMSprop ≈ Adam ≈ AdamW > SGD",
          "Adam: … exactitudes ~0.52–0.53 con LR fijos. SGD (con/ sin Nesterov): … resultados en el "
          "rango 0.50–0.52. RMSprop: desempeño sólido y estable con LR fijos (~0.53). AdamW …: "
          "comportamiento muy cercano a Adam.",
          "At fixed rates Adam reached ~0.52–0.53, SGD (with or without Nesterov) 0.50–0.52, "
          "RMSprop ~0.53, and AdamW behaved very close to Adam.", f"{STUDY}, §3 Optimizadores",
          "04's tuned optimizers at a constant rate, on validation: RMSprop and AdamW each within "
          f"±{MATCH_MARGIN * 100:.0f} point of Adam, Adam better than both SGDs. Their absolute "
          "numbers are test accuracies of other runs and are not set against our validation.",
          _fixed_rate),
    Claim(7, "Adam with a schedule is best, 0.555–0.561",
          "Con programación de LR (warmup + cosine o ReduceLROnPlateau), Adam mejoró y alcanzó el "
          "mejor test (~0.555–0.561), superando sus propios resultados con LR constante.",
          "With a learning-rate schedule (warmup + cosine or ReduceLROnPlateau) Adam improved and "
          "reached the best test accuracy (~0.555–0.561), beating its own constant-rate results.",
          f"{STUDY}, §3, Conclusión clave",
          "04 on validation: Adam with warmup + cosine better than Adam constant and than every "
          "other optimizer with the schedule; 06 on test: the reference recipe's 95 % interval "
          "reaches 0.555–0.561.", _scheduled_adam),
    Claim(8, "early stopping saves time, not accuracy",
          "EarlyStopping (monitor val_accuracy, paciencia 5, restore_best_weights=True) redujo "
          "tiempo sin pérdida de métrica. ModelCheckpoint … confirmó que la última época no siempre "
          "es la mejor.",
          "EarlyStopping (val_accuracy, patience 5, best weights restored) cut time without losing "
          "accuracy; ModelCheckpoint confirmed that the last epoch is not always the best.",
          f"{STUDY}, §4 Callbacks y schedulers",
          "05's rule, as 05 reads it: every early-stopped run ends before the budget; at their best "
          "epochs it is not worse than training every epoch (refuted if worse, inconclusive if "
          "no detectable difference, which cannot show that nothing was lost); and some "
          "constant-rate run peaks before its last epoch.", _early_stopping),
    Claim(9, "plateau and cosine beat step decay",
          "ReduceLROnPlateau … fue especialmente efectivo para salir de mesetas. … Step decay: "
          "correcto pero inferior a cosine y RLROP.",
          "ReduceLROnPlateau was especially effective at leaving plateaus; step decay worked but was "
          "worse than cosine and ReduceLROnPlateau.", f"{STUDY}, §4 Callbacks y schedulers",
          "05's scoring, every run at its best epoch: ReduceLROnPlateau and step each better "
          "than the constant rate, cosine and ReduceLROnPlateau each better than step.",
          _plateau_and_step),
    Claim(10, "the 5,955,466-weight MLP: 73.8 % train, 53.5 % test",
          "Training Accuracy: 73.8% / Test Accuracy: 53.5% / Parámetros totales: 5,955,466",
          "The 5,955,466-parameter MLP reached 73.8 % training and 53.5 % test accuracy.",
          f"{PRACTICE}, the training log",
          "06: the same MLP and training over seeds (validating on our validation split; the "
          "original validated on the test set), measured as the source measured: training accuracy "
          "by evaluate on the whole training split, dropout off. Each reported number inside the "
          "95 % range where one more of our runs would land.", _largest),
]
