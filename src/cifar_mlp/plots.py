"""Every figure of the study, with one look. Each returns the figure and saves it.

Inputs are the tidy frames of `cifar_mlp.sweep`: one row per run (`sweep`)
or one row per run and epoch (`histories`). Diverged runs are drawn as
crosses at the bottom of accuracy plots, never as if they had a score.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from cifar_mlp.data import CLASS_NAMES

LABELS = {"val_accuracy": "validation accuracy", "accuracy": "training accuracy",
          "val_loss": "validation loss", "loss": "training loss", "lr": "learning rate",
          "seconds_per_epoch": "seconds per epoch", "params": "parameters",
          "gap": "train − validation accuracy", "epoch": "epoch", "test_accuracy": "test accuracy",
          "minutes": "minutes of training"}


def theme() -> None:
    """One seaborn look for every figure, readable at portfolio size."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind",
                  rc={"figure.dpi": 110, "savefig.dpi": 130, "figure.figsize": (7.5, 4.2),
                      "axes.titleweight": "bold", "axes.spines.top": False,
                      "axes.spines.right": False})


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


def save(fig: plt.Figure, name: str, folder: Path) -> plt.Figure:
    """Save as PNG in `folder` (the profile's figures folder) and return the figure."""
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{name}.png", bbox_inches="tight")
    return fig


def sample_grid(x: np.ndarray, y: np.ndarray, name: str, folder: Path, per_class: int = 8,
                predicted: np.ndarray | None = None) -> plt.Figure:
    """A grid of uint8 images (N×32×32×3), one row per class, titled with class names."""
    rows = []
    for c in range(len(CLASS_NAMES)):
        idx = np.flatnonzero(y == c)[:per_class]
        rows.append(idx)
    fig, axes = plt.subplots(len(rows), per_class, figsize=(per_class * 0.9, len(rows) * 0.95))
    for r, idx in enumerate(rows):
        for col in range(per_class):
            ax = axes[r, col]
            ax.axis("off")
            if col < len(idx):
                ax.imshow(x[idx[col]])
                if predicted is not None:
                    ax.set_title(CLASS_NAMES[predicted[idx[col]]], fontsize=7, color="crimson")
        axes[r, 0].text(-4, 16, CLASS_NAMES[r], ha="right", va="center", fontsize=9)
    fig.subplots_adjust(wspace=0.05, hspace=0.15 if predicted is None else 0.45)
    return save(fig, name, folder)


def image_rows(rows: dict[str, np.ndarray], name: str, folder: Path, title: str = "") -> plt.Figure:
    """Rows of uint8 images (each N×32×32×3), every row labelled with its key."""
    n = max(len(images) for images in rows.values())
    fig, axes = plt.subplots(len(rows), n, figsize=(n * 0.9, len(rows) * 0.95), squeeze=False)
    for r, (row_label, images) in enumerate(rows.items()):
        for col, ax in enumerate(axes[r]):
            ax.axis("off")
            if col < len(images):
                ax.imshow(images[col])
        axes[r, 0].text(-4, 16, row_label, ha="right", va="center", fontsize=9)
    fig.subplots_adjust(wspace=0.05, hspace=0.1)
    if title:
        fig.suptitle(title)
    return save(fig, name, folder)


def curves(hist: pd.DataFrame, metrics=("accuracy", "val_accuracy"), hue: str = "variant",
           name: str = "curves", folder: Path | None = None, title: str = "",
           x: str = "epoch") -> plt.Figure:
    """Per-epoch curves, mean over seeds with a band for their spread; one panel per metric.

    `x` is "epoch", or another per-epoch column such as the minutes trained so far.
    """
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.2 * len(metrics), 4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        sns.lineplot(hist, x=x, y=metric, hue=hue, errorbar=("pi", 100), ax=ax,
                     legend=ax is axes[0][-1])
        ax.set(xlabel=label(x), ylabel=label(metric))
    if len(hist[hue].unique()) > 1:
        sns.move_legend(axes[0][-1], "upper left", bbox_to_anchor=(1.02, 1), title=hue)
    if title:
        fig.suptitle(title)
    return save(fig, name, folder) if folder else fig


def train_val(hist: pd.DataFrame, metrics=("accuracy", "loss"), name: str = "train_val",
              folder: Path | None = None, title: str = "") -> plt.Figure:
    """Training and validation curves of each metric in one panel, so the gap shows.

    Mean over seeds with a band for their spread; a dotted line marks the best
    validation epoch of the mean curve (highest accuracy, lowest loss).
    """
    long = pd.concat([hist.assign(split=split, **{m: hist[prefix + m] for m in metrics})
                      for split, prefix in (("training", ""), ("validation", "val_"))])
    fig = curves(long, metrics, hue="split", title=title)
    for ax, metric in zip(fig.axes, metrics):
        mean = hist.groupby("epoch")["val_" + metric].mean()
        best = mean.idxmax() if "accuracy" in metric or "top5" in metric else mean.idxmin()
        ax.axvline(best, color="grey", linestyle=":", linewidth=1.2)
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_ylabel(metric.replace("_", " "))
    return save(fig, name, folder) if folder else fig


def isolation(df: pd.DataFrame, x: str, metric: str | Sequence[str] = "val_accuracy",
              hue: str | None = None, name: str = "isolation", folder: Path | None = None,
              title: str = "", log_x: bool = False) -> plt.Figure:
    """Metric against one hyperparameter: every seed as a dot, the mean as a line.

    Several metrics, e.g. ("best_val_accuracy", "gap"), give one panel each, side by side.
    """
    metrics = [metric] if isinstance(metric, str) else list(metric)
    ok = df[df["status"] == "ok"]
    native = log_x or pd.api.types.is_numeric_dtype(ok[x])
    fig, axes = plt.subplots(1, len(metrics), squeeze=False,
                             figsize=(6.2 * len(metrics), 4) if len(metrics) > 1 else None)
    for ax, m in zip(axes[0], metrics):
        sns.stripplot(ok, x=x, y=m, hue=hue, dodge=hue is not None, alpha=0.55,
                      native_scale=native, ax=ax, legend=False)
        sns.pointplot(ok, x=x, y=m, hue=hue, dodge=0.3 if hue else False, errorbar=None,
                      native_scale=native, markers="D", ax=ax, legend=bool(hue) and ax is axes[0][-1])
        diverged = df[df["status"] != "ok"]
        if len(diverged):
            ax.scatter(diverged[x], [ax.get_ylim()[0]] * len(diverged), marker="x", color="crimson",
                       label="diverged", zorder=5)
            ax.legend()
        if log_x:
            ax.set_xscale("log")
        values = np.sort(ok[x].unique()) if pd.api.types.is_numeric_dtype(ok[x]) else []
        if 0 < len(values) <= 12:  # tick the values compared, not 1.25 or 6×10¹
            ax.set_xticks(values, [f"{v:g}" for v in values])
            ax.minorticks_off()
        ax.set(xlabel=label(x), ylabel=label(m))
    if len(metrics) == 1:
        axes[0][0].set_title(title)
    elif title:
        fig.suptitle(title)
    return save(fig, name, folder) if folder else fig


def tradeoff(df: pd.DataFrame, x: str = "seconds_per_epoch", metric: str = "val_accuracy",
             hue: str | None = None, name: str = "tradeoff", folder: Path | None = None,
             title: str = "", log_x: bool = True) -> plt.Figure:
    """Metric against a cost, one labelled point per variant: the mean over seeds,
    with a bar for the seeds' min–max. Points up and to the left are the bargains."""
    ok = df[df["status"] == "ok"]
    keys = ["variant"] + ([hue] if hue else [])
    points = ok.groupby(keys, sort=False).agg(x=(x, "mean"), y=(metric, "mean"),
                                              low=(metric, "min"), high=(metric, "max")).reset_index()
    colors = dict(zip(points[hue].unique(), sns.color_palette())) if hue else {}
    fig, ax = plt.subplots()
    for p in points.itertuples():
        color = colors.get(getattr(p, hue), None) if hue else sns.color_palette()[0]
        ax.errorbar(p.x, p.y, yerr=[[p.y - p.low], [p.high - p.y]], fmt="o", color=color,
                    capsize=3, label=getattr(p, hue) if hue else None)
        ax.annotate(p.variant, (p.x, p.y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    if hue:  # one legend entry per hue value
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        ax.legend(unique.values(), unique.keys(), title=hue, loc="upper left",
                  bbox_to_anchor=(1.02, 1))  # outside, so no point hides behind it
    if log_x:
        ax.set_xscale("log")
    ax.set(xlabel=label(x), ylabel=label(metric), title=title)
    return save(fig, name, folder) if folder else fig


def heatmap(df: pd.DataFrame, x: str, y: str, metric: str = "val_accuracy",
            name: str = "heatmap", folder: Path | None = None, title: str = "",
            fmt: str = ".3f") -> plt.Figure:
    """Mean of `metric` over seeds on an x × y grid."""
    table = df[df["status"] == "ok"].pivot_table(index=y, columns=x, values=metric, aggfunc="mean")
    fig, ax = plt.subplots(figsize=(1.1 * table.shape[1] + 2.5, 0.6 * table.shape[0] + 1.8))
    sns.heatmap(table, annot=True, fmt=fmt, cmap="viridis", cbar_kws={"label": label(metric)}, ax=ax)
    ax.set(xlabel=label(x), ylabel=label(y), title=title)
    return save(fig, name, folder) if folder else fig


def bars(summary: pd.DataFrame, metric: str = "val_accuracy", name: str = "bars",
         folder: Path | None = None, title: str = "") -> plt.Figure:
    """Mean ± std over seeds per variant, from `sweep.summarize`."""
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(summary) + 1.2))
    ax.barh(summary.index.astype(str), summary["mean"], xerr=summary["std"].fillna(0),
            color=sns.color_palette()[0], alpha=0.85, capsize=3)
    ax.set_ylim(len(summary) - 0.5, -0.5)  # best on top; every row, also one without a bar
    low = np.nanmin(summary["mean"] - summary["std"].fillna(0))
    ax.set_xlim(max(0.0, low - 0.02), None)
    # Say which seeds diverged: an empty row must not read as a missing or tiny score.
    for row, (mean, std, count, diverged) in enumerate(zip(
            summary["mean"], summary["std"].fillna(0), summary["count"],
            summary.get("diverged", [0] * len(summary)))):
        if diverged:  # after the bar's error bar, or at the left if no seed has a score
            at, where = ((mean + std, "data") if count else (0, "axes fraction"))
            ax.annotate(f"{diverged:.0f} of {diverged + count:.0f} seeds diverged", (at, row),
                        xycoords=(where, "data"), xytext=(6, 0), textcoords="offset points",
                        va="center", color="crimson", fontsize=9)
    ax.set(xlabel=label(metric) + " (mean ± std over seeds)", title=title)
    return save(fig, name, folder) if folder else fig


def confusion(y_true: np.ndarray, y_pred: np.ndarray, name: str = "confusion",
              folder: Path | None = None, title: str = "") -> plt.Figure:
    """Row-normalised confusion matrix with class names."""
    counts = np.zeros((len(CLASS_NAMES),) * 2)
    np.add.at(counts, (y_true, y_pred), 1)
    rates = counts / counts.sum(axis=1, keepdims=True)
    fig, ax = plt.subplots(figsize=(7.5, 6.2))
    sns.heatmap(rates, annot=True, fmt=".2f", cmap="Blues", xticklabels=CLASS_NAMES,
                yticklabels=CLASS_NAMES, cbar_kws={"label": "fraction of true class"}, ax=ax)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    return save(fig, name, folder) if folder else fig
