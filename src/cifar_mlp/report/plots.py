"""Every figure of the study, with one look. Each returns the figure and saves it.

Inputs are the tidy frames of `cifar_mlp.runs.sweep`: one row per run (`sweep`)
or one row per run and epoch (`histories`), or a per-variant summary with a
mean and its 95 % interval (`intervals`, `differences`). Diverged runs are
drawn as crosses at the bottom of accuracy plots, never as if they had a score.

Every saved figure carries alt text (its title and what it shows): in the PNG's
Description field and, in a notebook, in the displayed output's metadata
(`{"image/png": {"alt": ...}}`), which the report's HTML puts on the <img>.
"""

from __future__ import annotations

import io
import itertools
import sys
import weakref
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.text
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.transforms import Bbox

from cifar_mlp.core.data import CLASS_NAMES
from cifar_mlp.report import words
from cifar_mlp.study.compare import bound, signed

LABELS = {"val_accuracy": "validation accuracy", "accuracy": "training accuracy",
          "best_val_accuracy": "best validation accuracy",
          "val_loss": "validation loss", "loss": "training loss", "lr": "learning rate",
          "seconds_per_epoch": "seconds per epoch", "params": "parameters",
          "gap": "train − validation accuracy", "epoch": "epoch", "test_accuracy": "test accuracy",
          "minutes": "minutes of training"}

# Seaborn's take on Okabe & Ito's palette: its colours stay apart under the
# common colour-vision deficiencies, and in the order used for hues.
PALETTE = sns.color_palette("colorblind")
VERDICT_STYLE = {  # colour and marker: the shape tells the verdict also in grey print
    "better": {"color": PALETTE[2], "marker": "o", "label": "better"},
    "worse": {"color": PALETTE[3], "marker": "s", "label": "worse"},
    "none": {"color": PALETTE[7], "marker": "o", "label": "no detectable difference"},
    "undetermined": {"color": PALETTE[7], "marker": "D", "label": "undetermined (one seed)"},
}
REFERENCE_COLOR = "0.25"
WARN_COLOR = PALETTE[3]  # diverged runs, wrong predictions
INTERVAL_COLUMNS = ("ci_low", "ci_high")  # with "mean" (intervals) or "diff" (differences)
SEED_COLUMNS = ("n", "count")  # count: the name in sweep.summarize


# Alt text a plotting function wrote for a figure it did not save itself, for a later `save`.
_ALT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def theme() -> None:
    """One seaborn look for every figure, readable at the page width (~900 px) and
    as a 400 px index thumbnail: a 6.4-inch figure at 130 dpi is 830 px, so its
    12-point ticks stay about 10 px tall when shrunk to 400."""
    _register_bundled_fonts()
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE, font_scale=1.1,
                  rc={"figure.dpi": 110, "savefig.dpi": 130, "figure.figsize": (6.4, 3.8),
                      "axes.titleweight": "bold", "axes.spines.top": False,
                      "axes.spines.right": False})


def _register_bundled_fonts() -> None:
    """Make matplotlib's own fonts findable whatever its font cache holds.

    The cache lives in the user's home and is shared by every environment; one
    written by another matplotlib install can lack the fonts this one ships,
    and mathtext (log-axis ticks) then prints "findfont: ... not found" into
    the page and draws in a fallback font.
    """
    known = {Path(f.fname).resolve() for f in font_manager.fontManager.ttflist}
    for path in sorted((Path(matplotlib.get_data_path()) / "fonts" / "ttf").glob("*.ttf")):
        if path.resolve() not in known:
            font_manager.fontManager.addfont(str(path))


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " "))


def describe(fig: plt.Figure) -> str:
    """Alt text from what the figure says about itself: its title, then each panel's
    y label against its x label (e.g. "Depth: best validation accuracy against depth")."""
    suptitle = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    title = suptitle or (titles[0] if titles else "")
    panels = []
    for ax in fig.axes:
        x, y = ax.get_xlabel(), ax.get_ylabel()
        what = f"{y} against {x}" if x and y else (x or y)
        if what and what not in panels:
            panels.append(what)
    body = "; ".join(panels)
    if title and body:
        return f"{title}: {body}"
    return title or body or "figure"


def save(fig: plt.Figure, name: str, folder: Path, alt: str | None = None) -> plt.Figure:
    """Save as PNG in `folder` (the profile's figures folder) and return the figure.

    `alt` (default: `describe(fig)`) goes into the PNG's Description field and, when
    running in a notebook, onto the image shown: the figure is displayed here, with
    that alt text, and closed, so the inline backend does not show it a second time.
    """
    alt = alt or _ALT.get(fig) or describe(fig)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight",
                metadata={"Title": _title(fig) or name, "Description": alt})
    png = buffer.getvalue()
    (folder / f"{name}.png").write_bytes(png)
    _display(fig, png, alt)
    return fig


def _title(fig: plt.Figure) -> str:
    suptitle = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    return suptitle or next((ax.get_title() for ax in fig.axes if ax.get_title()), "")


def _display(fig: plt.Figure, png: bytes, alt: str) -> None:
    """In a Jupyter kernel, show the saved PNG with its alt text and close the figure."""
    ipython = sys.modules.get("IPython")  # not imported: not in a notebook
    shell = ipython.get_ipython() if ipython else None
    if getattr(shell, "kernel", None) is None:
        return
    from IPython.display import Image, display
    # The output's metadata becomes {"image/png": {"alt": alt}}.
    display(Image(png, metadata={"alt": alt}))
    plt.close(fig)


# Label offsets in points, nearest ring first; each with the text's alignment so
# that the text grows away from its point.
_DIRECTIONS = [(1, 0.6, "left", "bottom"), (1, -0.6, "left", "top"), (-1, 0.6, "right", "bottom"),
               (-1, -0.6, "right", "top"), (0, 1, "center", "bottom"), (0, -1, "center", "top"),
               (1, 0, "left", "center"), (-1, 0, "right", "center")]
_RINGS = (5, 14, 26, 40, 58)
_FAR_RINGS = (80, 105, 130, 160)  # numbers only, when the near rings are full
_PAD = 2.0  # pixels kept free around each label
_SHIFT = {"left": 0, "bottom": 0, "center": 0.5, "right": 1, "top": 1}  # of the text's size


def place_labels(ax: plt.Axes, x: Sequence[float], y: Sequence[float], texts: Sequence[str],
                 obstacles: Sequence[tuple[float, float, float, float]] = (),
                 fontsize: float | None = None, numbered: bool = True) -> list:
    """Label points so that no two labels overlap, nor a label a point or an obstacle.

    Greedy: the most crowded points first, each label at the nearest free spot
    around its point (a thin line leads to labels set farther out). When some
    label finds no free spot close by, every point gets a number instead and a
    key under the axes lists the names (`numbered=False`: the names all the same, the
    least bad spots, farther out with leader lines). `obstacles` are data-space boxes
    (x0, y0, x1, y1), e.g. error bars (kept 3 points clear, for their caps).
    Returns the labels set at the points (names or numbers).
    """
    if not len(x) == len(y) == len(texts):
        raise ValueError(f"place_labels needs as many texts as points, got {len(texts)} texts "
                         f"for {len(x)} x and {len(y)} y values")
    fontsize = fontsize or plt.rcParams["xtick.labelsize"]
    if not isinstance(fontsize, (int, float)):
        fontsize = plt.rcParams["font.size"]
    fig = ax.figure
    margins = ax.margins()
    for extra in (0, 0.08, 0.16):  # room at the edges often frees the labels there
        ax.margins(margins[0] + extra, margins[1] + extra)
        fig.canvas.draw()  # final limits and layout: placement works in pixels
        placed = _place(ax, x, y, texts, obstacles, fontsize)
        if placed is not None:
            return placed
    if not numbered:  # names all the same, farther out with leader lines: no key to look up
        fig.canvas.draw()
        return _place(ax, x, y, texts, obstacles, fontsize, best_effort=True)
    ax.margins(*margins)  # numbers fit in the original margins
    fig.canvas.draw()
    numbers = [str(i + 1) for i in range(len(texts))]
    placed = _place(ax, x, y, numbers, obstacles, fontsize, best_effort=True)
    _key(ax, [f"{n}  {t}" for n, t in zip(numbers, texts)], fontsize)
    return placed


def _place(ax, x, y, texts, obstacles, fontsize, best_effort=False):
    """Labels at free spots, or None if one finds none (best_effort: the least bad,
    farther out if need be, never over another label or a point)."""
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    points = ax.transData.transform(np.column_stack([x, y]))
    radius = 0.5 * plt.rcParams["lines.markersize"] * ax.figure.dpi / 72 + 1
    hard = [Bbox.from_extents(px - radius, py - radius, px + radius, py + radius)
            for px, py in points]  # points, then the labels placed so far
    soft = []  # error bars: a label over one is a blemish, not a misreading
    pad = 3 * ax.figure.dpi / 72  # an error bar's caps reach 3 points to each side
    for x0, y0, x1, y1 in obstacles:
        (a, b), (c, d) = ax.transData.transform([(x0, y0), (x1, y1)])
        soft.append(Bbox.from_extents(min(a, c) - pad, min(b, d) - pad, max(a, c) + pad, max(b, d) + pad))
    crowd = [(np.hypot(*(points - p).T) < 60).sum() for p in points]
    pixels = ax.figure.dpi / 72  # per point
    rings = _RINGS + (_FAR_RINGS if best_effort else ())
    labels, leaders = [None] * len(texts), []
    for i in sorted(range(len(texts)), key=lambda i: -crowd[i]):
        text = ax.annotate(texts[i], (x[i], y[i]), xytext=(0, 0), textcoords="offset points",
                           fontsize=fontsize, gid="point-label", ha="left", va="bottom")
        size = text.get_window_extent(renderer)  # measured once; each spot is a shift of it
        best = None
        for ring, (dx, dy, ha, va) in itertools.product(rings, _DIRECTIONS):
            left = points[i][0] + dx * ring * pixels - _SHIFT[ha] * size.width
            bottom = points[i][1] + dy * ring * pixels - _SHIFT[va] * size.height
            box = Bbox.from_bounds(left, bottom, size.width, size.height).padded(_PAD)
            cost = (1000 * sum(box.overlaps(b) for b in hard) + sum(box.overlaps(b) for b in soft)
                    + (not _inside(box, frame)))
            if best is None or cost < best[0]:
                best = (cost, (dx * ring, dy * ring), ha, va, ring, box)
            if cost == 0:
                break
        if best[0] and not best_effort:
            for artist in labels + leaders + [text]:
                if artist is not None:
                    artist.remove()
            return None
        _, offset, ha, va, ring, box = best
        text.set(position=offset, ha=ha, va=va)
        hard.append(box)
        labels[i] = text
        if ring > _RINGS[0]:  # far from its point: a leader line says whose label it is
            leaders.append(ax.annotate(
                "", (x[i], y[i]), xytext=offset, textcoords="offset points",
                arrowprops={"arrowstyle": "-", "color": "0.55", "linewidth": 0.7,
                            "shrinkA": 1, "shrinkB": radius * 72 / ax.figure.dpi}))
    return labels


def _inside(box: Bbox, frame: Bbox) -> bool:
    return frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1


def _key(ax: plt.Axes, lines: list[str], fontsize: float) -> None:
    """The numbered names under the axes, in as many columns as fit its width."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    below = ax.get_tightbbox(renderer)  # under the x label
    for columns in range(min(len(lines), 5), 0, -1):
        rows = -(-len(lines) // columns)
        texts, left = [], below.x0
        for start in range(0, len(lines), rows):
            texts.append(fig.text(left / fig.bbox.width, (below.y0 - 6) / fig.bbox.height,
                                  "\n".join(lines[start:start + rows]), ha="left", va="top",
                                  fontsize=fontsize * 0.9, gid="label-key"))
            left = texts[-1].get_window_extent(renderer).x1 + 18
        if left - 18 <= below.x1 or columns == 1:
            return
        for text in texts:  # wider than the plot: try fewer columns
            text.remove()


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
                    ax.set_title(CLASS_NAMES[predicted[idx[col]]], fontsize=7, color=WARN_COLOR)
        axes[r, 0].text(-4, 16, CLASS_NAMES[r], ha="right", va="center", fontsize=9)
    fig.subplots_adjust(wspace=0.05, hspace=0.15 if predicted is None else 0.45)
    shown = ("images, each titled with the class the model predicted" if predicted is not None
             else "images")
    alt = (f"Up to {per_class} CIFAR-10 {shown}, one row per true class: "
           + ", ".join(CLASS_NAMES))
    return save(fig, name, folder, alt)


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
    alt = f"{title + ': ' if title else ''}rows of {n} images: " + ", ".join(map(str, rows))
    return save(fig, name, folder, alt)


def _listing(values, most: int = 8) -> str:
    values = [str(v) for v in values]
    return ", ".join(values) if len(values) <= most else ", ".join(values[:most]) + f" and {len(values) - most} more"


def curves(hist: pd.DataFrame, metrics=("accuracy", "val_accuracy"), hue: str = "variant",
           name: str = "curves", folder: Path | None = None, title: str = "",
           x: str = "epoch") -> plt.Figure:
    """Per-epoch curves, mean over seeds with a band for their spread; one panel per metric.

    `x` is "epoch", or another per-epoch column such as the minutes trained so far.
    """
    # Panels narrow enough that two stay legible as a 400 px thumbnail.
    width = 6.4 if len(metrics) == 1 else 3.9 * len(metrics) + 0.6
    fig, axes = plt.subplots(1, len(metrics), figsize=(width, 4.0), squeeze=False,
                             layout="constrained")
    for ax, metric in zip(axes[0], metrics):
        sns.lineplot(hist, x=x, y=metric, hue=hue, errorbar=("pi", 100), ax=ax,
                     legend=ax is axes[0][-1])
        ax.set(xlabel=label(x), ylabel=label(metric))
        if x == "epoch":  # an epoch is whole: no tick at 2.5
            ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
    legend = axes[0][-1].get_legend()
    if legend is not None:  # one legend for all panels, under them: no panel loses width
        names = [t.get_text() for t in legend.get_texts()]
        legend.remove()
        if len(names) > 1:  # (above, constrained layout would set it over the suptitle)
            # Long names in two columns: a legend wider than the panels would shrink them.
            columns = 4 if max(map(len, names)) <= 18 else 2
            fig.legend(legend.legend_handles, names, title=hue, loc="outside lower center",
                       ncols=min(len(names), columns), frameon=False)
    if title:
        fig.suptitle(title, fontweight="bold")
    alt = (f"{title + ': ' if title else ''}{' and '.join(label(m) for m in metrics)} "
           f"per {label(x)}, mean over seeds with a band for their range"
           + (f"; one line per {hue}: {_listing(hist[hue].unique())}"
              if hist[hue].nunique() > 1 else ""))
    return _finish(fig, name, folder, alt)


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
        marker = ax.axvline(best, color="grey", linestyle=":", linewidth=1.2)
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.set_ylabel(metric.replace("_", " "))
    if fig.legends:  # every line style in the legend: the dotted one too
        legend = fig.legends[0]
        handles, names = legend.legend_handles, [t.get_text() for t in legend.get_texts()]
        legend.remove()
        fig.legend([*handles, marker], [*names, "best validation epoch"], title="split",
                   loc="outside lower center", ncols=len(names) + 1, frameon=False)
    alt = (f"{title + ': ' if title else ''}training and validation "
           f"{' and '.join(m.replace('_', ' ') for m in metrics)} per epoch, mean over seeds "
           "with a band for their range; a dotted line marks the best validation epoch")
    return _finish(fig, name, folder, alt)


def isolation(df: pd.DataFrame, x: str, metric: str | Sequence[str] = "val_accuracy",
              hue: str | None = None, name: str = "isolation", folder: Path | None = None,
              title: str = "", log_x: bool = False) -> plt.Figure:
    """Metric against one hyperparameter: every seed as a dot, the mean as a line.

    Several metrics, e.g. ("best_val_accuracy", "gap"), give one panel each, side by side.
    """
    metrics = [metric] if isinstance(metric, str) else list(metric)
    ok = df[df["status"] == "ok"]
    native = log_x or pd.api.types.is_numeric_dtype(ok[x])
    fig, axes = plt.subplots(1, len(metrics), squeeze=False, layout="constrained",
                             figsize=(3.9 * len(metrics) + 0.6, 3.8) if len(metrics) > 1 else None)
    for ax, m in zip(axes[0], metrics):
        np.random.seed(0)  # seaborn jitters the dots with NumPy's global generator: same page every render
        sns.stripplot(ok, x=x, y=m, hue=hue, dodge=hue is not None, alpha=0.55,
                      native_scale=native, ax=ax, legend=False)
        sns.pointplot(ok, x=x, y=m, hue=hue, dodge=0.3 if hue else False, errorbar=None,
                      native_scale=native, markers="D", ax=ax, legend=bool(hue) and ax is axes[0][-1])
        diverged = df[df["status"] != "ok"]
        if len(diverged):
            ax.scatter(diverged[x], [ax.get_ylim()[0]] * len(diverged), marker="x", color=WARN_COLOR,
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
        fig.suptitle(title, fontweight="bold")
    alt = (f"{title + ': ' if title else ''}{' and '.join(label(m) for m in metrics)} against "
           f"{label(x)}; a dot per seed, a line through the means"
           + (f", one line per {hue}" if hue else "")
           + (f"; diverged runs ({len(df) - len(ok)}) as crosses at the bottom"
              if len(df) > len(ok) else ""))
    return _finish(fig, name, folder, alt)


def tradeoff(df: pd.DataFrame, x: str = "seconds_per_epoch", metric: str = "val_accuracy",
             hue: str | None = None, name: str = "tradeoff", folder: Path | None = None,
             title: str = "", log_x: bool = True) -> plt.Figure:
    """Metric against a cost, one labelled point per variant: the mean over seeds,
    with a bar for the seeds' min–max. Points up and to the left are the bargains.

    Labels never overlap (`place_labels`): set beside their points when there is
    room, else numbered, with a key beside the axes."""
    ok = df[df["status"] == "ok"]
    keys = ["variant"] + ([hue] if hue else [])
    points = ok.groupby(keys, sort=False).agg(x=(x, "mean"), y=(metric, "mean"),
                                              low=(metric, "min"), high=(metric, "max")).reset_index()
    colors = dict(zip(points[hue].unique(), PALETTE)) if hue else {}
    fig, ax = plt.subplots()
    for p in points.itertuples():
        color = colors[getattr(p, hue)] if hue else PALETTE[0]
        ax.errorbar(p.x, p.y, yerr=[[p.y - p.low], [p.high - p.y]], fmt="o", color=color,
                    capsize=3, label=getattr(p, hue) if hue else None)
    if hue:  # one legend entry per hue value
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        ax.legend(unique.values(), unique.keys(), title=hue, loc="upper left",
                  bbox_to_anchor=(1.02, 1))  # outside, so no point hides behind it
    if log_x:  # ticks in plain numbers (0.5, 1, 2, 5), not powers of ten
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(mticker.LogLocator(subs=(1, 2, 5)))
        ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(mticker.NullFormatter())
    ax.margins(0.08)
    ax.set(xlabel=label(x), ylabel=label(metric), title=title)
    fig.tight_layout()  # the layout labels are placed in; saving does not change it
    bars_ = [(p.x, p.low, p.x, p.high) for p in points.itertuples()]
    place_labels(ax, points["x"].to_numpy(), points["y"].to_numpy(),
                 points["variant"].astype(str).tolist(), obstacles=bars_, numbered=False)
    numbered = any(t.get_gid() == "label-key" for t in fig.texts)
    alt = (f"{title + ': ' if title else ''}{label(metric)} against {label(x)}, one point per "
           f"variant ({len(points)}) at its mean over seeds with a bar for their min–max, "
           + ("numbered, with a key of names beside the plot" if numbered else "labelled with its name")
           + (f"; colour by {hue}" if hue else ""))
    return _finish(fig, name, folder, alt)


def dots(df: pd.DataFrame, metrics: Sequence[str], hue: str | None = None, name: str = "dots",
         folder: Path | None = None, title: str = "") -> plt.Figure:
    """Every variant by name, one row each (best first), one panel per metric: a dot per
    seed and a diamond at the mean. Read without a key: the names are the axis."""
    ok = df[df["status"] == "ok"]
    order = ok.groupby("variant")[metrics[0]].mean().sort_values(ascending=False).index.tolist()
    height = 1.2 + 0.28 * len(order)
    fig, axes = plt.subplots(1, len(metrics), sharey=True, squeeze=False, layout="constrained",
                             figsize=(3.4 * len(metrics) + 2.2, height))
    for ax, metric in zip(axes[0], metrics):
        np.random.seed(0)  # seaborn jitters the dots with NumPy's global generator: same page every render
        sns.stripplot(ok, y="variant", x=metric, hue=hue, order=order, alpha=0.45, size=4, ax=ax,
                      legend=False, jitter=0.15)
        sns.pointplot(ok, y="variant", x=metric, hue=hue, order=order, errorbar=None, markers="D",
                      linestyles="none", ax=ax, legend=bool(hue) and ax is axes[0][-1])
        ax.set(xlabel=label(metric), ylabel="")
        ax.grid(axis="y", color="0.92")
    legend = axes[0][-1].get_legend()
    if legend is not None:
        legend.set_title(hue)
        sns.move_legend(axes[0][-1], "upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    if title:
        fig.suptitle(title, fontweight="bold")
    alt = (f"{title + ': ' if title else ''}{' and '.join(label(m) for m in metrics)} of each of "
           f"{len(order)} variants, named on the vertical axis from the best down; a dot per seed, "
           "a diamond at the mean" + (f", colour by {hue}" if hue else ""))
    return _finish(fig, name, folder, alt)


def heatmap(df: pd.DataFrame, x: str, y: str, metric: str = "val_accuracy",
            name: str = "heatmap", folder: Path | None = None, title: str = "",
            fmt: str = ".3f") -> plt.Figure:
    """Mean of `metric` over seeds on an x × y grid."""
    table = df[df["status"] == "ok"].pivot_table(index=y, columns=x, values=metric, aggfunc="mean")
    fig, ax = plt.subplots(figsize=(1.1 * table.shape[1] + 2.5, 0.6 * table.shape[0] + 1.8))
    sns.heatmap(table, annot=True, fmt=fmt, cmap="viridis", cbar_kws={"label": label(metric)}, ax=ax)
    ax.set(xlabel=label(x), ylabel=label(y), title=title)
    alt = (f"{title + ': ' if title else ''}mean {label(metric)} over seeds on a grid of "
           f"{label(x)} ({_listing(table.columns)}) by {label(y)} ({_listing(table.index)}), "
           "the value printed in each cell")
    return _finish(fig, name, folder, alt)


def bars(summary: pd.DataFrame, metric: str = "val_accuracy", name: str = "bars",
         folder: Path | None = None, title: str = "") -> plt.Figure:
    """Mean ± std over seeds per variant, from `compare.summarize`; bars start at zero,
    so their lengths compare (`intervals` shows small differences better)."""
    counts = summary[next(c for c in SEED_COLUMNS if c in summary.columns)]
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(summary) + 1.2))
    ax.barh(summary.index.astype(str), summary["mean"], xerr=summary["std"].fillna(0),
            color=PALETTE[0], alpha=0.85, capsize=3)
    ax.set_ylim(len(summary) - 0.5, -0.5)  # best on top; every row, also one without a bar
    ax.set_xlim(0, None)  # a bar's length is its value only from zero
    # Say which seeds diverged: an empty row must not read as a missing or tiny score.
    for row, (mean, std, count, diverged) in enumerate(zip(
            summary["mean"], summary["std"].fillna(0), counts,
            summary.get("diverged", [0] * len(summary)))):
        if diverged:  # after the bar's error bar, or at the left if no seed has a score
            at, where = ((mean + std, "data") if count else (0, "axes fraction"))
            ax.annotate(f"{diverged:.0f} of {diverged + count:.0f} seeds diverged", (at, row),
                        xycoords=(where, "data"), xytext=(6, 0), textcoords="offset points",
                        va="center", color=WARN_COLOR, fontsize=9)
    ax.set(xlabel=label(metric) + " (mean ± std over seeds)", title=title)
    alt = (f"{title + ': ' if title else ''}{label(metric)} per variant, a bar from zero to the "
           f"mean over seeds ({_seed_range(counts)} seeds) with ± one std")
    return _finish(fig, name, folder, alt)


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
    worst = int(np.argmin(np.diag(rates)))
    alt = (f"{title + ': ' if title else ''}confusion matrix of {len(y_true):,} images, each row "
           "the fraction of a true class predicted as each class; diagonal: correct, lowest for "
           f"{CLASS_NAMES[worst]} ({rates[worst, worst]:.2f})")
    return _finish(fig, name, folder, alt)


def _finish(fig: plt.Figure, name: str, folder: Path | None, alt: str) -> plt.Figure:
    in_words(fig)
    _ALT[fig] = words.plain(alt)
    return save(fig, name, folder, _ALT[fig]) if folder else fig


def in_words(fig: plt.Figure) -> None:
    """Every text of the figure (titles, legends, labels, tick labels) with the code's
    identifiers said in words, as the pages say them (`words`)."""
    fig.canvas.draw()  # tick labels exist once drawn
    for ax in fig.axes:
        for axis, setter in ((ax.xaxis, ax.set_xticks), (ax.yaxis, ax.set_yticks)):
            shown = [t.get_text() for t in axis.get_ticklabels()]
            if any(words.plain(t) != t for t in shown):  # fixed, so no formatter brings them back
                setter(axis.get_ticklocs(), [words.plain(t) for t in shown])
    for text in fig.findobj(matplotlib.text.Text):
        if text.get_text() != words.plain(text.get_text()):
            text.set_text(words.plain(text.get_text()))


def _by_variant(table: pd.DataFrame) -> pd.DataFrame:
    """Indexed by variant, also when variant is a column (as in `compare.against`)."""
    if "variant" in table.columns:
        return table.set_index("variant")
    return table


def _check_summary(summary: pd.DataFrame, what: str, value: str) -> pd.Series:
    """The per-variant seed counts, after checking the summary has what `what` draws."""
    needed = (value, *INTERVAL_COLUMNS)
    missing = [c for c in needed if c not in summary.columns]
    seeds = next((c for c in SEED_COLUMNS if c in summary.columns), None)
    if missing or seeds is None:
        raise ValueError(f"{what} needs a frame indexed by variant with columns "
                         f"{', '.join(needed)} and the seed count as one of "
                         f"{', '.join(SEED_COLUMNS)}; missing "
                         f"{', '.join(missing + ([] if seeds else ['n']))} in {list(summary.columns)}")
    if summary.empty:
        raise ValueError(f"{what} needs at least one variant; the summary is empty")
    if not summary.index.is_unique:
        raise ValueError(f"{what} needs one row per variant; repeated: "
                         f"{sorted(set(summary.index[summary.index.duplicated()]))}")
    return summary[seeds]


def _seeds(n: float, paired: bool = False, diverged: float = 0) -> str:
    if n != n:  # NaN
        return "seeds unknown"
    kind = "paired seed" if paired else "seed"
    said = f"{n:.0f} {kind}" + ("" if n == 1 else "s")
    return said + (f", {diverged:.0f} diverged" if diverged and diverged == diverged else "")


def _seed_range(counts: pd.Series) -> str:
    low, high = counts.min(), counts.max()
    return f"{low:.0f}" if low == high else f"{low:.0f}–{high:.0f}"


def _numbers_column(ax: plt.Axes, rows: Sequence[str]) -> None:
    """Each row's numbers at the right of the axes, so they line up as a table."""
    for y, text in enumerate(rows):
        ax.annotate(text, (1, y), xycoords=("axes fraction", "data"), xytext=(8, 0),
                    textcoords="offset points", va="center", ha="left",
                    fontsize=plt.rcParams["font.size"] * 0.9, color="0.2")


# Row labels up to this many characters fit the default width beside the axes and the
# numbers column; each character more widens the figure, so the axes never collapse.
FITTING_LABEL = 22
INCH_PER_CHARACTER = 0.1


def _row_axes(labels: Sequence[str]) -> tuple[plt.Figure, plt.Axes]:
    rows = len(labels)
    longest = max((len(str(v)) for v in labels), default=0)
    width = 6.4 + INCH_PER_CHARACTER * max(0, longest - FITTING_LABEL)
    fig, ax = plt.subplots(figsize=(width, 0.42 * rows + 1.6), layout="constrained")
    ax.set_ylim(rows - 0.5, -0.5)  # the summary's first row on top
    ax.grid(axis="y", visible=False)
    return fig, ax


def intervals(summary: pd.DataFrame, metric: str = "val_accuracy", reference: str | None = None,
              band: tuple[float, float] | None = None,
              band_label: str = "reported by the reference study", name: str = "intervals",
              folder: Path | None = None, title: str = "", alt: str | None = None,
              fmt: str = ".3f") -> plt.Figure:
    """One row per variant: a dot at its mean over seeds and a line over its 95 % interval.

    `summary` is indexed by variant with columns mean, ci_low, ci_high and the seed
    count n, as `compare.summarize` gives it (`sweep.summarize`'s count is accepted
    too; a diverged column is said in the labels); rows keep its order, top to
    bottom, each labelled with its seeds ("adam (5 seeds)") and its numbers on the
    right. `reference` names a variant whose mean becomes a dashed vertical line;
    `band` = (low, high) shades a range, e.g. the one the reference study reports.
    """
    summary = _by_variant(summary)
    counts = _check_summary(summary, "intervals", "mean")
    if reference is not None and reference not in summary.index:
        raise ValueError(f"reference {reference!r} is not a variant of the summary; "
                         f"variants: {list(summary.index)}")
    if band is not None and (len(band) != 2 or not band[0] <= band[1]):
        raise ValueError(f"band must be (low, high) with low <= high, got {band!r}")
    fig, ax = _row_axes([f"{v} (00 seeds)" for v in summary.index])
    if band is not None:
        ax.axvspan(*band, color="0.55", alpha=0.22, linewidth=0, label=band_label, zorder=0)
    if reference is not None:
        ax.axvline(summary.loc[reference, "mean"], color=REFERENCE_COLOR, linestyle="--",
                   linewidth=1.2, label=f"{reference} (mean)", zorder=1)
    numbers = []
    for y, (variant, row) in enumerate(summary.iterrows()):
        color = REFERENCE_COLOR if variant == reference else PALETTE[0]
        ax.plot([row["ci_low"], row["ci_high"]], [y, y], color=color, linewidth=2.6,
                solid_capstyle="round", zorder=2)
        ax.plot(row["mean"], y, "o", color=color, markersize=8, zorder=3)
        spread = ("" if row["ci_low"] != row["ci_low"] else
                  f" ({row['ci_low']:{fmt}}–{row['ci_high']:{fmt}})")
        numbers.append(f"{row['mean']:{fmt}}{spread}")
    diverged = summary["diverged"] if "diverged" in summary else pd.Series(0, summary.index)
    ax.set_yticks(range(len(summary)), [f"{v} ({_seeds(n, diverged=diverged[v])})"
                                        for v, n in counts.items()])
    _numbers_column(ax, numbers)
    ax.margins(x=0.06)
    ax.set(xlabel=f"{label(metric)}: mean and 95 % interval over seeds", title=title)
    if band is not None or reference is not None:
        fig.legend(loc="outside lower center", ncols=2, frameon=False)
    described = (f"{title + ': ' if title else ''}{label(metric)} by variant, "
                 f"mean and 95 % interval over {_seed_range(counts)} seeds per variant"
                 + (f"; dashed line: the mean of {reference}" if reference is not None else "")
                 + (f"; shaded: {band_label}, {band[0]:{fmt}}–{band[1]:{fmt}}" if band else ""))
    return _finish(fig, name, folder, alt or described)


def verdict_of(row: pd.Series, higher_is_better: bool = True) -> str:
    """A key of VERDICT_STYLE: the row's own `verdict` (`compare`'s words) when it
    has one, else where its 95 % interval lies with respect to zero."""
    verdict = row.get("verdict")
    if isinstance(verdict, str) and verdict.strip():
        first = verdict.split()[0].strip(",.;:").lower()
        return first if first in ("better", "worse", "undetermined") else "none"
    if row["ci_low"] != row["ci_low"]:  # NaN: one seed, no interval
        return "undetermined"
    if row["ci_low"] > 0 or row["ci_high"] < 0:
        return "better" if (row["ci_low"] > 0) == higher_is_better else "worse"
    return "none"


def differences(diffs: pd.DataFrame, reference: str | None = None, metric: str = "val_accuracy",
                higher_is_better: bool = True, scale: float = 100.0, unit: str = "points",
                name: str = "differences", folder: Path | None = None, title: str = "",
                alt: str | None = None) -> plt.Figure:
    """Each variant's difference from `reference`, paired by seed, with its 95 % interval.

    `diffs` is `compare.against`'s table, or any frame by variant with columns diff
    (the mean of variant − reference over paired seeds, in the metric's units),
    ci_low, ci_high, n (paired seeds) and optionally verdict (`compare`'s words;
    without it, the interval decides). The reference's own row (verdict "reference")
    names it and is left out. `scale` turns the metric's units into `unit` (100:
    accuracy as a fraction to points). Colour and marker tell the verdict; a line
    marks zero, the reference itself.
    """
    diffs = _by_variant(diffs)
    own = list(diffs.index[diffs["verdict"] == "reference"]) if "verdict" in diffs else []
    if reference is None:
        if len(own) != 1:
            raise ValueError("differences needs the reference's name: pass reference=..., or a "
                             "table with one row whose verdict is 'reference' (compare.against)")
        reference = own[0]
    diffs = diffs.drop(index=[v for v in {*own, reference} if v in diffs.index])
    counts = _check_summary(diffs, "differences", "diff")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    verdicts = [verdict_of(row, higher_is_better) for _, row in diffs.iterrows()]
    fig, ax = _row_axes([f"{v} (00 paired seeds)" for v in diffs.index])
    ax.axvline(0, color=REFERENCE_COLOR, linewidth=1.2, zorder=1)
    numbers, shown = [], {}
    for y, ((variant, row), verdict) in enumerate(zip(diffs.iterrows(), verdicts)):
        style = VERDICT_STYLE[verdict]
        mean, low, high = (row[c] * scale for c in ("diff", *INTERVAL_COLUMNS))
        ax.plot([low, high], [y, y], color=style["color"], linewidth=2.6,
                solid_capstyle="round", zorder=2)
        filled = verdict in ("better", "worse")
        shown[verdict] = ax.plot(mean, y, style["marker"], color=style["color"], markersize=8,
                                 markerfacecolor=style["color"] if filled else "white",
                                 markeredgewidth=2, zorder=3, label=style["label"])[0]
        spread = "" if low != low else f" ({bound(low)} to {bound(high)})"
        numbers.append(f"{signed(mean)}{spread}")
    ax.set_yticks(range(len(diffs)), [f"{v} ({_seeds(n, paired=True)})" for v, n in counts.items()])
    _numbers_column(ax, numbers)
    ax.margins(x=0.08)
    low, high = ax.get_xlim()  # zero always in view, with room on both sides
    reach = max(abs(low), abs(high))
    ax.set_xlim(min(low, -0.15 * reach), max(high, 0.15 * reach))
    ax.set(xlabel=f"difference from {reference} in {label(metric)} ({unit})", title=title)
    order = [v for v in VERDICT_STYLE if v in shown]
    fig.legend([shown[v] for v in order], [VERDICT_STYLE[v]["label"] for v in order],
               loc="outside lower center", ncols=min(len(order), 3), frameon=False)
    tally = ", ".join(f"{verdicts.count(v)} {VERDICT_STYLE[v]['label']}" for v in order)
    described = (f"{title + ': ' if title else ''}difference of each variant from {reference} "
                 f"in {label(metric)}, in {unit}, with its 95 % interval over "
                 f"{_seed_range(counts)} paired seeds; {tally}")
    return _finish(fig, name, folder, alt or described)

