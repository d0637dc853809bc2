"""Comparisons of variants, and the words that describe them: the study's one statistics rule.

Every table, sentence, headline and index card that says one variant beats
another takes its verdict from here, so the rule is written and tested once:

* Runs are paired by seed. A seed fixes the initialization, the data order and
  the dropout masks of both arms, so A − B is taken seed by seed and the luck a
  seed brings to both cancels. The mean difference gets a 95 % t interval over
  seeds, and the verdict word follows from the interval alone: *better* (all
  above 0), *worse* (all below), else *no detectable difference*.
* One quoted accuracy also carries the sampling error of the images it was
  measured on (Wilson interval); two models scored on the same images are
  compared image by image (McNemar's exact test, a paired bootstrap).
* The metric is always named by the caller, and `score` gives every run one
  scoring rule, so a restored best epoch is never set against a last epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95  # one level everywhere: every interval on every page means the same
BETTER, WORSE, NO_DIFFERENCE = "better", "worse", "no detectable difference"
ONE_SEED, NO_SEED = "undetermined (one seed)", "undetermined (no seed scored by both)"
SUPPORTED, REFUTED, INCONCLUSIVE, UNTESTED = "supported", "refuted", "inconclusive", "untested"
MINUS = "\u2212"  # the true minus sign, for prose

# A run's validation score: one rule for every run in a comparison. The final
# model's `val_accuracy` is the last epoch's for most runs but a restored best
# epoch's for runs with a checkpoint or early stopping, so it mixes the two.
RULES = {"last_epoch": "last_val_accuracy", "best_epoch": "best_val_accuracy"}

# One sentence per verdict, for prose.
SENTENCES = {BETTER: "*{a}* is better than *{b}*", WORSE: "*{a}* is worse than *{b}*",
             NO_DIFFERENCE: "*{a}* and *{b}* show no detectable difference",
             ONE_SEED: "*{a}* against *{b}* is " + ONE_SEED,
             NO_SEED: "*{a}* against *{b}* is " + NO_SEED}


@dataclass(frozen=True)
class Comparison:
    """A − B over the seeds both scored: mean difference, its interval, the verdict."""

    a: str
    b: str
    metric: str
    diff: float
    ci_low: float
    ci_high: float
    n: int                          # seeds in the difference
    verdict: str
    higher_is_better: bool = True
    left_out: tuple[str, ...] = ()  # seeds not in the difference, and why: said, never hidden

    def __str__(self) -> str:
        return sentence(self)


@dataclass(frozen=True)
class ImageComparison:
    """Two models' predictions on the same images: accuracy A − B, its bootstrap interval, McNemar."""

    accuracy_a: float
    accuracy_b: float
    diff: float
    ci_low: float
    ci_high: float
    images: int
    only_a: int      # images A gets right and B wrong
    only_b: int
    p_value: float   # McNemar's exact test on only_a against only_b
    verdict: str
    higher_is_better: bool = True


class Best(NamedTuple):
    variant: str
    table: pd.DataFrame  # `against(runs, variant)`: every other variant against the best


# --- The rule -------------------------------------------------------------------------------

def t_interval(values, axis: int = -1) -> tuple:
    """Mean over `axis` (the seeds) and its 95 % t interval; NaN bounds with fewer than 2 values.

    Vectorized, so the tests can run the rule on many simulated draws at once.
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[axis]
    mean = values.mean(axis) if n else np.full(np.delete(values.shape, axis), np.nan)
    if n < 2:
        return mean, mean * np.nan, mean * np.nan
    half = stats.t.ppf((1 + CONFIDENCE) / 2, n - 1) * values.std(axis, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def verdict(ci_low, ci_high, n, higher_is_better: bool = True):
    """The verdict word of an interval of A − B (arrays give an array of words)."""
    gain_low, gain_high = (ci_low, ci_high) if higher_is_better else (np.negative(ci_high),
                                                                       np.negative(ci_low))
    n = np.asarray(n)
    words = np.select([n == 0, n < 2, np.asarray(gain_low) > 0, np.asarray(gain_high) < 0],
                      [NO_SEED, ONE_SEED, BETTER, WORSE], NO_DIFFERENCE)
    return words if words.ndim else str(words)


# --- Runs in, checked -----------------------------------------------------------------------

def score(runs: pd.DataFrame, rule: str) -> pd.DataFrame:
    """The runs with a `score` column: every run scored by one rule of `RULES` (and `scored_by`).

    Compare with `metric="score"`; the rule's name travels with the rows for captions.
    """
    if rule not in RULES:
        raise ValueError(f"unknown scoring rule {rule!r}; allowed: {', '.join(RULES)}")
    _require(runs, [RULES[rule]])
    return runs.assign(score=runs[RULES[rule]], scored_by=rule)


def _require(runs: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in runs.columns]
    if missing:
        raise ValueError(f"the runs have no column {', '.join(map(repr, missing))}; they have: "
                         f"{', '.join(map(str, runs.columns))}")


def _scores(runs: pd.DataFrame, metric: str, variants=None) -> pd.DataFrame:
    """variant, seed, score (NaN: diverged) of the runs, after refusing what would mislead."""
    _require(runs, ["variant", "seed", metric])
    if variants is not None:
        unknown = [v for v in variants if v not in set(runs["variant"])]
        if unknown:
            raise ValueError(f"unknown variant {unknown[0]!r}; the runs hold: {_names(runs, 12)}")
        runs = runs[runs["variant"].isin(variants)]
    twice = runs[runs.duplicated(["variant", "seed"], keep=False)]
    if len(twice):
        pairs = ", ".join(f"{v} seed {s}" for v, s in dict.fromkeys(zip(twice["variant"], twice["seed"])))
        raise ValueError(f"duplicated (variant, seed) rows: {pairs}; each seed of a variant must be "
                         "one run, or it counts twice (drop duplicates by run key first)")
    values = pd.to_numeric(runs[metric], errors="coerce")
    if "status" in runs:
        unknown = set(runs["status"]) - {"ok", "diverged"}
        if unknown:
            raise ValueError(f"unknown status {sorted(map(str, unknown))}; allowed: ok, diverged")
        unscored = runs[(runs["status"] == "ok") & values.isna()]
        if len(unscored):
            raise ValueError(f"{metric!r} has no number for finished runs ("
                             + ", ".join(f"{r.variant} seed {r.seed}" for r in unscored.itertuples())
                             + "); choose a metric every run has")
        values = values.where(runs["status"] == "ok")  # a diverged run's numbers are not scores
    _check_like_with_like(runs, metric)
    return pd.DataFrame({"variant": runs["variant"], "seed": runs["seed"], "score": values})


def _check_like_with_like(runs: pd.DataFrame, metric: str) -> None:
    """Refuse `val_accuracy` when some runs restored an earlier epoch and others did not.

    A checkpoint or early stopping (Keras restores its best weights at the end
    of training, stopped or not) picks an epoch on the same validation images
    it is then scored on, so it is set against other runs' best epochs
    (`score(runs, "best_epoch")`), never their last. Test accuracy is not
    refused: no choice was made on the test images.
    """
    if metric != "val_accuracy" or "checkpoint" not in runs:
        return
    restores = runs["checkpoint"].astype(bool)
    if {"early_stopping", "es_restore_best"} <= set(runs.columns):
        restores |= runs["early_stopping"].astype(bool) & runs["es_restore_best"].astype(bool)
    if restores.nunique() > 1:
        raise ValueError(
            f"val_accuracy mixes two scores: a restored epoch's for {_names(runs.loc[restores])}, "
            f"the last epoch's for {_names(runs.loc[~restores])}; score every run by one rule: "
            "compare.score(runs, 'best_epoch') (or 'last_epoch'), then metric='score'")


def _names(runs: pd.DataFrame, shown: int = 4) -> str:
    names = list(map(str, runs["variant"].unique()))
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


# --- Variants over seeds --------------------------------------------------------------------

def paired(runs: pd.DataFrame, a: str, b: str, *, metric: str,
           higher_is_better: bool = True) -> Comparison:
    """A − B on `metric`, paired by seed, over the seeds where both have a score.

    A seed that diverged in either arm, or that only one arm has, is left out
    of the difference and named in `left_out`.
    """
    if a == b:
        raise ValueError(f"a comparison needs two variants; both are {a!r}")
    scores = _scores(runs, metric, [a, b])
    arms = {v: scores[scores["variant"] == v].set_index("seed")["score"] for v in (a, b)}
    shared = arms[a].index.intersection(arms[b].index)
    if shared.empty:
        raise ValueError(f"{a!r} and {b!r} share no seed ({a}: {sorted(arms[a].index)}, "
                         f"{b}: {sorted(arms[b].index)}); comparisons pair runs by seed")
    left_out = []
    for seed in sorted(arms[a].index.union(arms[b].index)):
        if seed not in shared:
            left_out.append(f"seed {seed}, which only {a if seed in arms[a].index else b} has")
            continue
        diverged = [v for v in (a, b) if math.isnan(arms[v][seed])]
        if diverged:
            left_out.append(f"seed {seed}, where {' and '.join(diverged)} diverged")
    diffs = (arms[a].loc[shared] - arms[b].loc[shared]).dropna().to_numpy()
    diff, low, high = (float(x) for x in t_interval(diffs))
    return Comparison(a, b, metric, diff, low, high, len(diffs),
                      verdict(low, high, len(diffs), higher_is_better), higher_is_better,
                      tuple(left_out))


def summarize(runs: pd.DataFrame, *, metric: str) -> pd.DataFrame:
    """One row per variant, in the runs' order: mean, its 95 % t interval, std, n scored seeds, diverged."""
    rows = {}
    for variant, group in _scores(runs, metric).groupby("variant", sort=False):
        values = group["score"].dropna().to_numpy()
        mean, low, high = t_interval(values)
        rows[variant] = dict(mean=float(mean), ci_low=float(low), ci_high=float(high),
                             std=float(values.std(ddof=1)) if len(values) > 1 else math.nan,
                             n=len(values), diverged=int(group["score"].isna().sum()))
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "variant"
    return table


def against(runs: pd.DataFrame, reference: str, *, metric: str,
            higher_is_better: bool = True) -> pd.DataFrame:
    """Every variant against `reference`, paired by seed: variant, n, mean, diff, ci_low, ci_high, verdict.

    `mean` is the variant's own mean over all its scored seeds (the number every
    page quotes for it); `n` and the interval are those of the paired difference.
    The reference is the first row, verdict "reference".
    """
    summary = summarize(runs, metric=metric)
    if reference not in summary.index:
        raise ValueError(f"unknown variant {reference!r}; the runs hold: "
                         f"{', '.join(map(str, summary.index))}")
    rows = [dict(variant=reference, n=int(summary.loc[reference, "n"]),
                 mean=summary.loc[reference, "mean"], diff=math.nan, ci_low=math.nan,
                 ci_high=math.nan, verdict="reference")]
    for variant in summary.index.drop(reference):
        c = paired(runs, variant, reference, metric=metric, higher_is_better=higher_is_better)
        rows.append(dict(variant=variant, n=c.n, mean=summary.loc[variant, "mean"], diff=c.diff,
                         ci_low=c.ci_low, ci_high=c.ci_high, verdict=c.verdict))
    return pd.DataFrame(rows)


def best(runs: pd.DataFrame, *, metric: str, higher_is_better: bool = True) -> Best:
    """The variant with the best mean (the first one on a tie), and every other variant against it."""
    means = summarize(runs, metric=metric)["mean"].dropna()
    if means.empty:
        raise ValueError(f"no variant has a score on {metric!r}: every run diverged")
    top = means.idxmax() if higher_is_better else means.idxmin()
    return Best(top, against(runs, top, metric=metric, higher_is_better=higher_is_better))


@dataclass(frozen=True)
class Choice:
    """What a section chooses for the recipe: the best variant if it beats the reference."""

    variant: str                      # the choice: the best, or the reference it did not beat
    best: str                         # the best by mean
    reference: str
    comparison: Comparison | None     # best − reference (None when the reference is the best)
    runner_up: Comparison | None = None  # when the reference is the best: the next − reference

    @property
    def decisive(self) -> Comparison | None:
        """The comparison the choice rests on: the best against the reference, or, when the
        reference has the best mean, the runner-up against it."""
        return self.comparison if self.comparison is not None else self.runner_up

    @property
    def sentence(self) -> str:
        c = self.decisive
        if c is None:
            return f"the reference *{self.reference}* has the best mean, so it stays"
        kept = (f"*{self.best}* is chosen" if self.variant != self.reference
                else f"*{self.reference}* stays")
        return f"{sentence(c).rstrip('.')}; {kept}"

    @property
    def verdict_line(self) -> str:
        """Short, for a headline: 'width 512 +1.1 points (95 % CI −0.9 to +3.1), 3 seeds: no
        detectable difference against width 128, so width 128 stays'."""
        c = self.decisive
        if c is None:
            return f"{self.reference} (the only variant)"
        tail = "chosen" if self.variant == c.a else f"so {self.reference} stays"
        return f"{c.a} {difference(c)} against {c.b}, {tail}"


def choose(runs: pd.DataFrame, reference: str, *, metric: str,
           higher_is_better: bool = True) -> Choice:
    """The best variant by mean if it is *better* than `reference` by the rule, else `reference`.

    A choice that is inside the noise does not enter the recipe: the reference's
    setting stays, and the page says why.
    """
    top = best(runs, metric=metric, higher_is_better=higher_is_better).variant
    if top == reference:
        others = summarize(runs, metric=metric)["mean"].drop(reference).dropna()
        if others.empty:
            return Choice(reference, top, reference, None)
        second = others.idxmax() if higher_is_better else others.idxmin()
        return Choice(reference, top, reference, None, paired(
            runs, second, reference, metric=metric, higher_is_better=higher_is_better))
    c = paired(runs, top, reference, metric=metric, higher_is_better=higher_is_better)
    return Choice(top if c.verdict == BETTER else reference, top, reference, c)


@dataclass(frozen=True)
class Confirmed:
    """A screen's choice checked on fresh seeds: it stands only if it is better there too.

    Picking the best of many variants and testing it on the same runs lets a variant with
    no effect through (the winner's curse: 6 % of null sections of 6 variants, 14 % of 18,
    in `tests/test_selection.py`); runs it never saw cannot favour it.
    """

    screen: Choice
    check: Comparison | None  # the pick against the reference on fresh seeds; None: nothing to confirm

    @property
    def variant(self) -> str:
        held = self.check is not None and self.check.verdict == BETTER
        return self.screen.variant if held else self.screen.reference

    @property
    def stage(self) -> str:
        return "confirmed" if self.check is not None else "screen"


def confirm(choice: Choice, fresh: pd.DataFrame, *, metric: str,
            higher_is_better: bool = True) -> Confirmed:
    """`choice` against its reference on `fresh` runs (seeds the screen did not use)."""
    if choice.variant == choice.reference:
        return Confirmed(choice, None)
    return Confirmed(choice, paired(fresh, choice.variant, choice.reference, metric=metric,
                                    higher_is_better=higher_is_better))


# --- Budgets --------------------------------------------------------------------------------

# A variant whose best epoch falls in the last fifth of its epochs may still be learning:
# judged at that budget, it is judged before it peaked.
LATE_SHARE = 0.2


def budgets(runs: pd.DataFrame, share: float = LATE_SHARE) -> pd.DataFrame:
    """Per variant, in the runs' order: epochs, mean best epoch, seeds, and `late`, True when
    the mean best epoch falls in the last `share` of the epochs (best epoch > (1 − share) · epochs).

    The budget is the epochs a run may train, not those it ran: a run early stopping
    stopped has peaked by its own rule. Only a constant rate is flagged (where runs
    name their schedule): a schedule that decays to its floor at the last epoch puts
    the best epoch there by design, so the flag would say nothing about the budget.
    """
    _require(runs, ["variant", "seed", "epochs", "best_epoch"])
    if not 0 < share < 1:
        raise ValueError(f"share={share!r} is not allowed: a fraction of the epochs, 0 < share < 1")
    if "key" in runs:  # a run read by two experiments (a shared reference) counts once
        runs = runs.drop_duplicates(["key", "variant"])
    table = runs.groupby("variant", sort=False).agg(
        epochs=("epochs", "max"), best_epoch=("best_epoch", "mean"), seeds=("seed", "nunique"))
    constant = (runs.groupby("variant", sort=False)["schedule"].first() == "constant"
                if "schedule" in runs else True)
    table["late"] = (table["best_epoch"] > (1 - share) * table["epochs"]) & constant
    return table


def late_sentence(table: pd.DataFrame) -> str:
    """'No variant peaked in the last 20 % of its epochs.' or the flagged ones with their numbers."""
    late = table[table["late"]]
    share = f"{LATE_SHARE:.0%}".replace("%", " %")
    if late.empty:
        return (f"No variant at a constant rate peaked in the last {share} of its epochs (a decaying "
                "schedule peaks at its last epochs by design, and is not flagged).")
    listed = "; ".join(f"*{v}* (best epoch {r.best_epoch:.1f} of {r.epochs:g} on average)"
                       for v, r in late.iterrows())
    return (f"⚑ {len(late)} of {len(table)} variants peaked in the last {share} of their epochs "
            f"and may still be learning: {listed}.")


# --- Words ----------------------------------------------------------------------------------

def signed(value: float, digits: int = 1) -> str:
    """'+1.2' or '−0.4' (a true minus sign), never '−0.0'."""
    text = f"{value:+.{digits}f}"
    if float(text) == 0:
        text = f"{0:.{digits}f}"
    return text.replace("-", MINUS)


def bound(value: float, digits: int = 1) -> str:
    """An interval's end, signed like `signed`, with as many more digits as it takes (up to
    three) not to round a nonzero end to 0: '+0.02', not '0.0', where the verdict hangs on it."""
    for shown in range(digits, digits + 4):
        if value != value or round(value, shown) != 0:
            return signed(value, shown)
    return signed(value, digits)


def readable(table: pd.DataFrame, unit: str = "points", digits: int = 1) -> pd.DataFrame:
    """A table of differences (`against`'s columns diff, ci_low, ci_high) as a page shows it:
    signed, in `unit`, interval ends never rounded to 0 where the verdict hangs on them
    (`bound`), and "–" where a row has none (the reference itself). For display only: the
    CSV keeps the numbers."""
    scale = _scaled(unit)
    out = table.copy()
    for column, words in (("diff", signed), ("ci_low", bound), ("ci_high", bound)):
        if column in out:
            out[column] = ["–" if v != v else words(v * scale, digits) for v in out[column]]
    names = {"diff": f"difference ({unit})" if unit else "difference", "ci_low": "95 % CI low",
             "ci_high": "95 % CI high"}
    return out.rename(columns=names).astype(object).where(out.notna().to_numpy(), "–")


def _scaled(unit: str) -> float:
    return 100.0 if unit == "points" else 1.0  # accuracy differences are read in points


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""


def describe(summary: pd.DataFrame, variant: str, digits: int = 3) -> str:
    """A variant's mean from `summarize`, for prose: '0.533 (95 % CI 0.521–0.545, 3 seeds)'.

    One seed has no interval ('0.533 (1 seed)'); diverged seeds are said.
    """
    if variant not in summary.index:
        raise ValueError(f"unknown variant {variant!r}; the summary holds: "
                         f"{', '.join(map(str, summary.index))}")
    row = summary.loc[variant]
    n, diverged = int(row["n"]), int(row["diverged"])
    if n == 0:
        return f"diverged ({diverged} of {diverged} seeds)"
    text = (f"{row['mean']:.{digits}f} (1 seed" if n == 1 else
            f"{row['mean']:.{digits}f} ({CONFIDENCE:.0%} CI {row['ci_low']:.{digits}f}–"
            f"{row['ci_high']:.{digits}f}, {n} seeds").replace("%", " %")
    return text + (f"; {diverged} of {n + diverged} diverged)" if diverged else ")")


def _numbers(diff: float, low: float, high: float, n: int, unit: str, digits: int,
             count: str = "seeds") -> str:
    scale = _scaled(unit)
    if n == 0:
        return f"no {count[:-1]} scored by both"
    text = signed(diff * scale, digits) + _unit(unit)
    if n == 1:
        return f"{text}, 1 {count[:-1]}"
    return (f"{text} ({CONFIDENCE:.0%} CI {bound(low * scale, digits)} to "
            f"{bound(high * scale, digits)}), {n:,} {count}").replace("%", " %")


def numbers(c: Comparison, unit: str = "points", digits: int = 1) -> str:
    """'+1.2 points (95 % CI −0.3 to +2.7), 5 seeds', without a verdict: for a difference the
    rule cannot judge (an epoch picked on the images that score it)."""
    return _numbers(c.diff, c.ci_low, c.ci_high, c.n, unit, digits) + _left_out(c)


def difference(c: Comparison, unit: str = "points", digits: int = 1) -> str:
    """'+1.2 points (95 % CI −0.3 to +2.7), 5 seeds: no detectable difference'.

    `unit="points"` reads an accuracy difference ×100; any other unit (say
    "epochs", or "" for none) prints the metric's own numbers.
    """
    text = f"{_numbers(c.diff, c.ci_low, c.ci_high, c.n, unit, digits)}: {c.verdict}"
    return text + _left_out(c)


def sentence(c: Comparison, unit: str = "points", digits: int = 1) -> str:
    """One line of prose: '*A* is better than *B*: +1.2 points (95 % CI +0.3 to +2.1), 5 seeds.'"""
    text = SENTENCES[c.verdict].format(a=c.a, b=c.b)
    text += f": {_numbers(c.diff, c.ci_low, c.ci_high, c.n, unit, digits)}"
    return text + _left_out(c) + "."


def _left_out(c: Comparison) -> str:
    return f"; left out: {'; '.join(c.left_out)}" if c.left_out else ""


# --- One number on N images -----------------------------------------------------------------

def _check_accuracy(accuracy: float, images: int) -> None:
    if not 0 <= accuracy <= 1 or int(images) != images or images < 1:
        raise ValueError(f"an accuracy in [0, 1] on a positive whole number of images is needed; "
                         f"got accuracy {accuracy!r} on {images!r} images")


def standard_error(accuracy: float, images: int) -> float:
    """The binomial standard error of an accuracy measured on `images` images."""
    _check_accuracy(accuracy, images)
    return math.sqrt(accuracy * (1 - accuracy) / images)


def wilson(accuracy: float, images: int) -> tuple[float, float]:
    """The 95 % Wilson interval of an accuracy on `images` images (sound near 0 and 1, unlike ± 2 s.e.)."""
    _check_accuracy(accuracy, images)
    z2 = stats.norm.ppf((1 + CONFIDENCE) / 2) ** 2
    centre = (accuracy + z2 / (2 * images)) / (1 + z2 / images)
    spread = z2 * accuracy * (1 - accuracy) / images + z2 ** 2 / (4 * images ** 2)
    half = math.sqrt(spread) / (1 + z2 / images)
    return float(centre - half), float(centre + half)


def describe_images(accuracy: float, images: int, digits: int = 3) -> str:
    """'0.546 (95 % CI 0.536–0.556 on 10,000 images)': one quoted accuracy with its image noise."""
    low, high = wilson(accuracy, images)
    return (f"{accuracy:.{digits}f} ({CONFIDENCE:.0%} CI {low:.{digits}f}–{high:.{digits}f} "
            f"on {images:,} images)").replace("%", " %")


def seeds_and_images(correct) -> tuple[float, float, float]:
    """A test accuracy's mean and 95 % interval over both its noises: seeds and test images.

    `correct` is seeds × images (True where that seed's model got the image right).
    The two variances add: the seeds' (their accuracies' variance over the seed
    count, as in `t_interval`) and the images' (each image's share of right answers
    over the seeds, its variance over the image count: the same images for every
    seed). An interval over seeds alone leaves out that the 10,000 test images are
    themselves a sample, which matters where the accuracy is set against another
    study's number. The t quantile of the seeds is kept: the wider of the two.
    """
    correct = np.asarray(correct, dtype=float)
    if correct.ndim != 2 or min(correct.shape) < 2:
        raise ValueError(f"correct must be seeds × images with at least 2 of each, got {correct.shape}")
    seeds, images = correct.shape
    variance = correct.mean(axis=1).var(ddof=1) / seeds + correct.mean(axis=0).var(ddof=1) / images
    half = stats.t.ppf((1 + CONFIDENCE) / 2, seeds - 1) * math.sqrt(variance)
    mean = float(correct.mean())
    return mean, mean - half, mean + half


def images_compared(predicted_a, predicted_b, labels, *, resamples: int = 10_000,
                    seed: int = 0) -> ImageComparison:
    """Accuracy of A − B on the same images: paired bootstrap interval and McNemar's exact test.

    Only the images one model gets right and the other wrong carry the
    difference, so the bootstrap draws how many of each a resample of the
    images holds (a multinomial over right/wrong pairs): the same as resampling
    images, in milliseconds, and the same numbers for the same `seed`.
    """
    arrays = [np.asarray(x) for x in (predicted_a, predicted_b, labels)]
    if any(x.ndim != 1 or not np.issubdtype(x.dtype, np.integer) for x in arrays) \
            or len({len(x) for x in arrays}) != 1 or len(arrays[0]) < 2:
        raise ValueError("predictions and labels must be 1-D integer class arrays of one length "
                         f"(≥ 2 images); got shapes {[x.shape for x in arrays]}, "
                         f"dtypes {[str(x.dtype) for x in arrays]}")
    right_a, right_b = arrays[0] == arrays[2], arrays[1] == arrays[2]
    images, only_a, only_b = len(right_a), int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(images, [only_a / images, only_b / images,
                                      1 - (only_a + only_b) / images], size=resamples)
    low, high = np.quantile((counts[:, 0] - counts[:, 1]) / images,
                            [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    p = stats.binomtest(only_a, only_a + only_b).pvalue if only_a + only_b else 1.0
    return ImageComparison(float(right_a.mean()), float(right_b.mean()), (only_a - only_b) / images,
                           float(low), float(high), images, only_a, only_b, float(p),
                           verdict(low, high, images))


def image_difference(c: ImageComparison, digits: int = 1) -> str:
    """'+0.8 points (95 % CI +0.2 to +1.4), 10,000 images, McNemar p = 0.012: better'."""
    return (f"{_numbers(c.diff, c.ci_low, c.ci_high, c.images, 'points', digits, 'images')}, "
            f"McNemar p = {c.p_value:.3g}: {c.verdict}")


# --- Claims ---------------------------------------------------------------------------------

def _gain(x) -> tuple[float, float]:
    """The interval of how much A is ahead of B, from a comparison or a (low, high) pair."""
    if isinstance(x, (Comparison, ImageComparison)):
        return (x.ci_low, x.ci_high) if x.higher_is_better else (-x.ci_high, -x.ci_low)
    low, high = x
    return low, high


def beats(x) -> str:
    """Claim 'A beats B': supported if the interval is above 0, refuted if below, else inconclusive."""
    low, high = _gain(x)
    return SUPPORTED if low > 0 else REFUTED if high < 0 else INCONCLUSIVE


def matches(x, *, margin: float) -> str:
    """Claim 'A ≈ B within ± margin': supported if the interval lies inside it, refuted if outside."""
    low, high = _gain(x)
    return (SUPPORTED if -margin <= low and high <= margin
            else REFUTED if low > margin or high < -margin else INCONCLUSIVE)


def no_worse(x, *, margin: float) -> str:
    """Claim 'A costs nothing against B' (at most `margin` behind): the interval above −margin."""
    low, high = _gain(x)
    return SUPPORTED if low > -margin else REFUTED if high < -margin else INCONCLUSIVE


def lies_in(interval: tuple[float, float], low: float, high: float) -> str:
    """Claim 'the accuracy lies in [low, high]', given our interval for it (seeds' or `wilson`'s)."""
    ours_low, ours_high = interval
    return (SUPPORTED if low <= ours_low and ours_high <= high
            else REFUTED if ours_high < low or ours_low > high else INCONCLUSIVE)


def overlaps(interval: tuple[float, float], low: float, high: float) -> str:
    """Claim 'about [low, high]' (a range one study reported): supported if our interval
    reaches it, refuted if it lies wholly outside, where `lies_in` would ask for containment."""
    ours_low, ours_high = interval
    if ours_low != ours_low:  # NaN: one seed, no interval
        return INCONCLUSIVE
    return SUPPORTED if ours_low <= high and ours_high >= low else REFUTED


def prediction_interval(values) -> tuple[float, float]:
    """Where one more run would land, 95 %: mean ± t·s·√(1 + 1/n) over our seeds.

    A number another study reports from a single run is set against this, not
    against the interval of our mean: their run had its own seed noise.
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return math.nan, math.nan
    half = stats.t.ppf((1 + CONFIDENCE) / 2, n - 1) * values.std(ddof=1) * math.sqrt(1 + 1 / n)
    return float(values.mean() - half), float(values.mean() + half)


def overall(*parts: str | None) -> str:
    """A claim of several parts: refuted if any part is, supported if all are; None is a part not tested."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return UNTESTED
    return REFUTED if REFUTED in parts else SUPPORTED if all(p == SUPPORTED for p in parts) else INCONCLUSIVE
