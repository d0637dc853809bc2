"""07's results, read from its runs: the ladder's steps, the final models on the test set, the goal.

What the conclusions, the headline and the index card say is computed here once,
from the records, so the notebook's last cells are calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cifar_mlp.config import RunConfig
from cifar_mlp.study import compare


@dataclass(frozen=True)
class Finals:
    """What 07's last cells need of the final models: who they are, their scores and their time."""

    start: str                 # 06's recipe, the ladder's first model
    mlp: str                   # the ladder's last kept model (the start if none was kept)
    cnn: str
    recipe_of: str             # the MLP in words: the start and every kept step
    config: RunConfig          # the MLP's config (validation runs)
    runs: pd.DataFrame         # the final runs (test set read)
    test: pd.DataFrame         # compare.summarize of test accuracy
    images: pd.Series          # over_images
    cost: pd.DataFrame         # the budget rule's table, with weights
    cpu_of: pd.Series          # the CPU each final model's slowest run trained on


def findings(study, climbed: pd.DataFrame, finals: Finals, late: pd.DataFrame, earlier: pd.DataFrame) -> dict:
    """Everything 07 concludes, as the template, the headline and the index card need it."""
    f = finals
    kept = climbed[climbed["kept"]]
    gain = compare.paired(f.runs, f.mlp, f.start, metric="test_accuracy") if f.mlp != f.start else None
    vs_cnn = compare.paired(f.runs, f.cnn, f.mlp, metric="test_accuracy")
    reached = f.test.loc[f.mlp, "mean"] >= study.goal
    within = {n: "within" if f.cost.loc[n, "within_budget"] else "over" for n in f.cost.index}
    runs_of = {n: "its one run" if f.cost.loc[n, "runs"] == 1 else f"the slowest of its {f.cost.loc[n, 'runs']} runs"
               for n in f.cost.index}
    timed = {n: (f"{f.cost.loc[n, 'minutes']:.1f} minutes ({runs_of[n]}, "
                 + ("sharing not recorded" if pd.isna(f.cost.loc[n, "runs_at_once"])
                    else f"{f.cost.loc[n, 'runs_at_once']:.0f} at once") + f", on {f.cpu_of[n]})")
             for n in f.cost.index}
    # The steps the ladder did not try and that would change its last model.
    untried = {step: change for step, change in study.changes(every=True).items()
               if step not in study.changes() and f.config.replace(**change) != f.config}
    verdict = "reached" if reached else "missed"
    headline = (f"A ladder from 06's recipe, {len(kept)} of {len(climbed)} steps kept: the MLP reaches "
                f"{f.images[f.mlp]} test accuracy over seeds and images (goal {study.goal:.2f}: {verdict}), "
                f"its slowest run {f.cost.loc[f.mlp, 'minutes']:.1f} minutes as recorded; a compact CNN "
                f"{f.images[f.cnn]}")
    numbers = {f"{f.mlp}, test accuracy": f.images[f.mlp],
               f"{f.mlp}, training minutes (slowest run)": f"{f.cost.loc[f.mlp, 'minutes']:.1f} on "
                                                           f"{f.cpu_of[f.mlp]}, {within[f.mlp]} the budget",
               f"{f.start}, test accuracy": f.images[f.start],
               f"{f.cnn}, test accuracy": f.images[f.cnn],
               f"{f.cnn} − {f.mlp}, test accuracy": compare.difference(vs_cnn),
               f"MLP goal {study.goal:.2f}": verdict}
    found = [*[(f"Ladder step: {r.step} (validation, against {r.on})",
                compare.Comparison(r.model, r.on, "score", r.diff, r.ci_low, r.ci_high, r.n, r.verdict),
                "The ladder, on validation") for r in kept.itertuples()],
             *([(f"The ladder's MLP ({f.recipe_of}) against 06's recipe, test set", gain, "The test set, read once")]
               if gain else []),
             (f"The {f.cnn} against the ladder's MLP, test set", vs_cnn, "The test set, read once")]
    return dict(headline=headline, numbers=numbers, findings=found, climbed=climbed, kept=kept, gain=gain,
                vs_cnn=vs_cnn, reached=reached, within=within, timed=timed, f=f, goal=study.goal,
                budget_minutes=study.budget_minutes, untried=untried, late=compare.late_sentence(late),
                earlier=earlier, earlier_reads={n: compare.describe(earlier, n) for n in earlier.index},
                mixed=list(f.cpu_of.unique()) if f.cpu_of.nunique() > 1 else [],
                weights_ratio=f.cost.loc[f.mlp, "params"] / f.cost.loc[f.cnn, "params"],
                answer={"mlp": f.images[f.mlp], "cnn": f.images[f.cnn]})
