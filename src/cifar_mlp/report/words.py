"""Plain words for the identifiers of the code, wherever a reader reads.

Variants, settings and metrics are named in the code by their config identifiers
(`sgd_momentum`, `warmup_cosine`, `best_val_accuracy`). The pages, their tables,
figures and the index say them in words; the folded code keeps them. One table,
so a name is said the same way everywhere, and `identifiers()` lists what a page's
visible text may not show (check-report).
"""

from __future__ import annotations

import dataclasses
import re

from cifar_mlp.config import RunConfig

# Identifier → words. Anything else with an underscore that the config or the records
# name is said with spaces (`seconds_per_epoch` → "seconds per epoch").
WORDS = {
    "sgd_momentum": "SGD with momentum", "sgd_nesterov": "SGD with Nesterov momentum",
    "warmup_cosine": "warmup + cosine", "reduce_lr": "ReduceLROnPlateau",
    "early_stop_restore": "early stopping (best weights restored)", "early_stop": "early stopping",
    "he_normal": "He normal", "he_uniform": "He uniform", "glorot_uniform": "Glorot uniform",
    "glorot_normal": "Glorot normal", "lecun_normal": "LeCun normal", "lecun_uniform": "LeCun uniform",
    "beta_1": "β₁", "beta_2": "β₂", "optimizer_name": "optimizer", "flip_shift": "flips + shifts",
    "val_accuracy": "validation accuracy", "val_loss": "validation loss",
    "best_val_accuracy": "best validation accuracy", "last_val_accuracy": "last validation accuracy",
    "es_patience": "patience", "rlr_factor": "rate factor", "rlr_patience": "patience",
    "ckpt_monitor": "checkpoint monitor", "es_monitor": "early-stopping monitor",
    "batchnorm": "batch norm",
}
# Column names and metrics of the run records, said with spaces.
RECORD_NAMES = ("best_epoch", "epochs_run", "seconds_per_epoch", "wall_seconds", "train_accuracy",
                "train_loss", "test_accuracy", "epochs_saved", "final_lr", "runs_at_once")


def identifiers() -> list[str]:
    """Every identifier the pages say in words, longest first (so a longer one wins)."""
    fields = [f.name for f in dataclasses.fields(RunConfig) if "_" in f.name]
    names = {*WORDS, *fields, *RECORD_NAMES}
    return sorted(names, key=len, reverse=True)


_PATTERN = re.compile(r"(?<![\w.`/])(" + "|".join(map(re.escape, identifiers())) + r")(?![\w`(])")
# Code keeps its identifiers: fenced blocks and spans in Markdown, <pre> and <code> in HTML.
_CODE = re.compile(r"(```[\s\S]*?```|`[^`\n]*`|<pre[\s\S]*?</pre>|<code[\s\S]*?</code>)")


def say(name: str) -> str:
    return WORDS.get(name, name.replace("_", " "))


def plain(text: str) -> str:
    """`text` (Markdown or HTML) with every identifier said in words; code keeps its own."""
    if not isinstance(text, str) or "_" not in text and "batchnorm" not in text:
        return text
    parts = _CODE.split(text)
    return "".join(p if _CODE.fullmatch(p) else _PATTERN.sub(lambda m: say(m.group(1)), p)
                   for p in parts)


def plain_notebook(nb) -> None:
    """Every reader-facing text of an executed notebook in words: Markdown cells and
    outputs (tables, prose, printed lines). Code cells' sources stay as they are."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = plain(cell.source)
            continue
        for output in cell.get("outputs", []):
            if "text" in output:
                output.text = plain(output.text if isinstance(output.text, str) else "".join(output.text))
            for mime in ("text/html", "text/markdown"):
                if mime in output.get("data", {}):
                    value = output.data[mime]
                    output.data[mime] = plain(value if isinstance(value, str) else "".join(value))


def plain_summary(summary: dict) -> dict:
    """A section's published card as the index shows it: headline, numbers, findings and
    answer in words (the recipe's code keeps its identifiers)."""
    out = dict(summary)
    out["headline"] = plain(summary.get("headline"))
    out["numbers"] = {plain(k): plain(v) for k, v in (summary.get("numbers") or {}).items()}
    out["findings"] = [{**f, **{k: plain(f[k]) for k in ("text", "late") if k in f}}
                       for f in summary.get("findings") or []]
    answer = dict(summary.get("answer") or {})
    if "recipe" in answer:
        answer["recipe"] = plain(answer["recipe"])
    answer["matters"] = [{**m, "text": plain(m["text"])} for m in answer.get("matters", [])]
    out["answer"] = answer
    return out
