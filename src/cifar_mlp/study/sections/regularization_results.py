"""03's results, read from its runs: each family's choice, the gaps, the cost of small batches.

What the conclusions and the index card say is computed here once, from the records,
so the notebook's last cells are calls. Every comparison is `cifar_mlp.study.compare`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cifar_mlp.study import compare
from cifar_mlp.study.base import Experiment

METRIC = "best_val_accuracy"  # every run at its best validation epoch: like with like
NAMES = {"batchnorm": "BatchNorm", "dropout": "Dropout", "l2": "L2", "initializer": "Initializer",
         "batch_size": "Batch size"}
VERBS = {compare.NO_DIFFERENCE: "show no detectable difference", compare.WORSE: "are worse"}
# A dropout net's training accuracy is averaged with dropout on, so its gap is no fair verdict.
UNDERSTATED = (" (no verdict: a dropout net's training accuracy is measured with dropout on, so its "
               "gap is understated and this overstates the drop; see Results)")
# Set by the profile for every run, not by a family: they are no choice for the recipe.
BUDGET_KEYS = ("epochs", "train_size", "val_size")


@dataclass(frozen=True)
class Family:
    """One family's conclusion: its choice, and the gaps worth saying beside it."""

    name: str
    choice: compare.Choice
    reference_gap: str              # the baseline's mean gap, as printed
    gaps: list[tuple[str, str]]     # (variant, its gap against the baseline, in words)

    @property
    def chosen(self) -> bool:
        return self.choice.variant != self.choice.reference


@dataclass(frozen=True)
class BatchCost:
    """Seconds per epoch at the smallest and the largest batch, rounded as the table shows them."""

    small: str
    small_seconds: float
    large: str
    large_seconds: float

    @property
    def ratio(self) -> float:
        """How many times the smallest batch's epoch takes the largest's."""
        return self.small_seconds / self.large_seconds


def printed(gap: float, digits: int = 3) -> str:
    """A gap as printed: a true minus sign when training accuracy is below validation's."""
    return f"{gap:.{digits}f}".replace("-", compare.MINUS)


def against_baseline(rows: pd.DataFrame, reference: str, variant: str, metric: str = METRIC) -> compare.Comparison:
    """`variant` against its family's baseline, paired by seed; the gap's lower is better."""
    return compare.paired(rows, variant, reference, metric=metric, higher_is_better=metric != "gap")


def gap_words(family: str, c: compare.Comparison) -> str:
    """A gap comparison in words: dropout's without a verdict (see UNDERSTATED)."""
    return compare.numbers(c) + UNDERSTATED if family == "dropout" else compare.difference(c)


def family_finding(family: str, rows: pd.DataFrame, choice: compare.Choice) -> Family:
    """The gaps said beside a choice: of the variant it rests on and of the smallest gap."""
    gaps = rows.groupby("variant")["gap"].mean()
    shown = dict.fromkeys(v for v in (choice.decisive.a, gaps.idxmin()) if v != choice.reference)
    return Family(NAMES[family], choice, printed(gaps[choice.reference]),
                  [(v, gap_words(family, against_baseline(rows, choice.reference, v, "gap"))) for v in shown])


def batch_cost(rows: pd.DataFrame, batch_sizes) -> BatchCost:
    """The batch-size family's cost at its two ends; its table's rounding, so the ratio is the table's."""
    seconds = rows.groupby("variant")["seconds_per_epoch"].mean().round(2)
    small, large = f"batch {min(batch_sizes)}", f"batch {max(batch_sizes)}"
    return BatchCost(small, seconds[small], large, seconds[large])


def choices(experiments: dict[str, Experiment], picks: dict[str, compare.Choice]) -> dict:
    """Each family's choice as the config values it changed. They were measured one at a
    time; 06 checks whether they still help together (its ablation)."""
    return {key: value for f, e in experiments.items()
            for key, value in e.variants[picks[f].variant].changed().items() if key not in BUDGET_KEYS}


def tally(experiments: dict[str, Experiment], rows: dict[str, pd.DataFrame]) -> dict:
    """Every single change against its family's baseline: which passed the rule, how the rest fared."""
    singles = [(f, e.reference, v) for f, e in experiments.items() for v in e.variants if v != e.reference]
    changes = [against_baseline(rows[f], ref, v) for f, ref, v in singles]
    better = [c for c in changes if c.verdict == compare.BETTER]
    others = pd.Series([c.verdict for c in changes if c.verdict != compare.BETTER])
    return {"changes": changes, "better": better, "others": len(others),
            "passed": "; ".join(f"{c.a} {compare.difference(c)} against {c.b}" for c in better),
            "rest": ", ".join(f"{n} {VERBS.get(v, v)}" for v, n in others.value_counts().items()),
            "narrower": sum(against_baseline(rows[f], ref, v, "gap").verdict == compare.BETTER
                            for f, ref, v in singles)}


def card(rows: dict[str, pd.DataFrame], picks: dict[str, compare.Choice], tallied: dict,
         baseline_gap: float, epochs: int) -> dict:
    """The index card: its headline, its numbers, its findings."""
    chosen = [f for f, p in picks.items() if p.variant != p.reference]
    headline = (f"Better than the baseline by the rule: {tallied['passed'] or 'no single change'}; the other "
                f"{tallied['others']} changes: {tallied['rest']}. Chosen for the recipe: "
                f"{', '.join(picks[f].variant for f in chosen) or 'nothing beyond the baseline'}")
    numbers = {**{NAMES[f]: p.verdict_line for f, p in picks.items()},
               f"baseline train−val gap ({epochs} epochs)": printed(baseline_gap),
               **{f"gap of {picks[f].variant} against {picks[f].reference}":
                  gap_words(f, against_baseline(rows[f], picks[f].reference, picks[f].variant, "gap"))
                  for f in chosen}}
    # The gap stays off the findings: a dropout net's training accuracy is measured with
    # dropout on, so its gap is understated by construction (the card says so beside it).
    found = [(f"{p.best} against {p.reference} ({NAMES[f]}, best epoch)", p.comparison)
             for f, p in picks.items() if p.comparison is not None]
    return {"headline": headline, "numbers": numbers, "findings": found}


def findings(experiments: dict[str, Experiment], df: pd.DataFrame, unique: pd.DataFrame,
             batch_sizes, epochs: int) -> dict:
    """Everything 03 concludes, as the template, the headline and the index card need it.

    `df` holds every sweep's runs (the baseline once per family), `unique` each run once.
    """
    rows = {f: df[df["family"] == f] for f in experiments}
    # Each family's choice: its best variant, only if it beats the baseline by the rule
    # (paired by seed, 95 % interval above zero); otherwise the baseline's setting stays.
    picks = {f: compare.choose(rows[f], e.reference, metric=METRIC) for f, e in experiments.items()}
    baseline_gap = unique.loc[unique["variant"] == "baseline", "gap"].mean()
    tallied = tally(experiments, rows)
    return {**tallied, **card(rows, picks, tallied, baseline_gap, epochs), "choices": choices(experiments, picks),
            "families": [family_finding(f, rows[f], p) for f, p in picks.items()],
            "cost": batch_cost(rows["batch_size"], batch_sizes),
            "baseline_gap": baseline_gap, "printed_baseline_gap": printed(baseline_gap),
            "gaps": df.groupby(["family", "variant"])["gap"].mean(),
            # Many tests at once: the share that passes *better* by chance where there is no effect.
            "chance": (1 - compare.CONFIDENCE) / 2}
