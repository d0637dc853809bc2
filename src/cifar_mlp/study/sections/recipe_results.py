"""06's results, read from its stored runs: the 2× checks, the test set, the findings.

What the page shows and what its conclusions and index card say are computed
here once, from the records, so the notebook's last cells are calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cifar_mlp.study import compare, held_out

METRIC_RULE = "best_epoch"
# The reference recipe's test accuracy as the reference study reports it.
LITERATURE = (0.555, 0.561)
HOLDS, CHANGES = "holds at 2×", "changes at 2×"


def budget_checks(pairs: list[tuple[str, str]], normal: pd.DataFrame, doubled: pd.DataFrame) -> pd.DataFrame:
    """Each (a, b) at the normal budget and at twice the epochs, on the doubled runs' seeds.

    A verdict that changes at 2× is not used: the page says which.
    """
    seeds = set(doubled["seed"])
    rows = []
    for a, b in pairs:
        at = {}
        for label, runs in (("30", normal[normal["seed"].isin(seeds)]), ("2×", doubled)):
            at[label] = compare.paired(compare.score(runs, METRIC_RULE), a, b, metric="score")
        rows.append({"comparison": f"{a} − {b}", **{f"{k} epochs": compare.difference(c) for k, c in at.items()},
                     "check": HOLDS if at["30"].verdict == at["2×"].verdict else CHANGES})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Tested:
    summary: pd.DataFrame    # compare.summarize of test accuracy over seeds
    table: pd.DataFrame      # per final model: validation and test, test over seeds and images
    paired: dict             # {name: recipe − name on test, paired by seed}


def tested(final_runs: pd.DataFrame, results_dir) -> Tested:
    """The final models on the test set: seeds-only and seeds-and-images intervals, paired differences."""
    summary = compare.summarize(final_runs, metric="test_accuracy")
    val = compare.summarize(compare.score(final_runs, METRIC_RULE), metric="score")
    images = held_out.over_images(final_runs, results_dir)
    rows = {}
    for name, runs in final_runs.groupby("variant", sort=False):
        rows[name] = {"validation (best epoch)": compare.describe(val, name),
                      "test, over seeds": compare.describe(summary, name),
                      "test, over seeds and images": images[name],
                      "weights": int(runs["params"].iloc[0])}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")
    paired = {name: compare.paired(final_runs, "recipe", name, metric="test_accuracy")
              for name in summary.index if name != "recipe"}
    return Tested(summary, table, paired)


def in_words(config, factors: dict) -> str:
    """The recipe in a sentence: each candidate at its level, then what every run shares."""
    levels = []
    for name, factor in factors.items():
        for sign in (1, -1):
            if all(getattr(config, k) == v for k, v in factor.setting(sign).items()):
                levels.append(f"{name} {factor.level(sign)}")
                break
    stopping = "early stopping on validation accuracy (patience " \
               f"{config.es_patience}, best weights restored)" if config.early_stopping else "no early stopping"
    return (", ".join(levels) + f"; batch {config.batch_size}, {config.epochs} epochs, {stopping}, "
            "the best validation epoch's weights kept")


def effect_comparison(row, seeds: int) -> compare.Comparison:
    """A factorial effect (points) as a Comparison, so pages and the index say it as any other."""
    low, high = row["low"] / 100, row["high"] / 100
    return compare.Comparison(f"{row['term']} high", f"{row['term']} low", "score", row["effect"] / 100,
                              low, high, seeds, compare.verdict(low, high, seeds))


def findings(settled, checks: pd.DataFrame, tested: Tested, claim_table: pd.DataFrame,
             factors: dict, reference_at: str) -> dict:
    """Everything 06 concludes, as the template, the headline and the index card need it."""
    recipe = settled.recipe
    words = in_words(recipe, factors)
    seeds = settled.joint["seed"].nunique()  # every cell trains on each; the model reads them all
    mains = settled.effects[settled.effects["kind"] == "main"].assign(size=lambda t: t["effect"].abs())
    ranked = [(row["term"], effect_comparison(row, seeds))
              for _, row in mains.sort_values("size", ascending=False).iterrows()]
    pairs = settled.effects[settled.effects["kind"] == "interaction"]
    decided_pairs = [(row["term"], effect_comparison(row, seeds)) for _, row in pairs.iterrows()
                     if row["low"] > 0 or row["high"] < 0]
    ablation = settled.ablations[-1][2].set_index("variant").drop(index="recipe")
    # A row is named "choice: what it becomes" ("dropout: none"); the lead rests on the choice.
    carried = [v.split(": ")[0] for v in ablation.index if ablation.loc[v, "verdict"] == compare.WORSE]
    tally = claim_table["verdict"].value_counts()
    changed = checks[checks["check"] == CHANGES]["comparison"].tolist()
    on_test = tested.paired
    headline = (f"The recipe: {words}. Test accuracy {tested.table.loc['recipe', 'test, over seeds and images']} "
                f"over seeds and images" + "".join(f"; recipe − {name} {compare.difference(c)}"
                                                   for name, c in on_test.items()))
    numbers = {"recipe": words,
               **{f"{name}, test": tested.table.loc[name, "test, over seeds and images"] for name in tested.table.index},
               **{f"recipe − {name}, test": compare.difference(c) for name, c in on_test.items()},
               **{f"effect of {term}": compare.difference(c) for term, c in ranked},
               "twice the epochs": "; ".join(f"{r['comparison']}: {r['check']}" for _, r in checks.iterrows()),
               "claims": ", ".join(f"{n} {v}" for v, n in tally.items())}
    found = [*[(f"Recipe − {name}, test set", c, "The test set") for name, c in on_test.items()],
             *[(f"Joint stage: {term}, high − low (validation)", c, "What each candidate does, and how they interact")
               for term, c in ranked[:3]]]
    answer = {"recipe": words, "matters": [
        {"text": term, "effect": f"{compare.signed(100 * c.diff)} points",
         "ci": f"{compare.bound(100 * c.ci_low)} to {compare.bound(100 * c.ci_high)}", "verdict": c.verdict,
         "anchor": "What each candidate does, and how they interact"} for term, c in ranked]}
    return dict(headline=headline, numbers=numbers, findings=found, words=words, ranked=ranked, answer=answer,
                decided_pairs=decided_pairs, pick=settled.pick, replaced=settled.replaced,
                carried=carried, ablation=ablation, checks=checks, changed=changed, tested=tested,
                on_test=on_test, reference_at=reference_at, literature=LITERATURE, tally=tally,
                confirmed=list(settled.confirmation.variants))
