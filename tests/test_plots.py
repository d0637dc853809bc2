"""The figures: each new plot on synthetic data returns a figure and writes its PNG;
labels never overlap; alt text reaches the PNG, the notebook output and the HTML."""

import itertools
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from PIL import Image  # noqa: E402

from cifar_mlp.report import plots, words  # noqa: E402


@pytest.fixture(autouse=True)
def look():
    plots.theme()
    yield
    plt.close("all")


def description(path) -> str:
    """The alt text `plots.save` writes into the PNG."""
    with Image.open(path) as image:
        return image.text["Description"]


def summary(means, halfwidths, seeds, names=None) -> pd.DataFrame:
    means, halfwidths = np.asarray(means, float), np.asarray(halfwidths, float)
    return pd.DataFrame({"mean": means, "ci_low": means - halfwidths, "ci_high": means + halfwidths,
                         "n": seeds}, index=names or [f"variant {i}" for i in range(len(means))])


# --- dot-and-interval comparisons ---------------------------------------------------------

def test_intervals_draws_a_dot_and_interval_per_variant_with_seed_counts(tmp_path):
    s = summary([0.581, 0.555, 0.548], [0.004, 0.010, 0.008], [5, 5, 3],
                ["recipe", "reference", "recipe, L2 reverted"])
    fig = plots.intervals(s, metric="test_accuracy", reference="reference", band=(0.555, 0.561),
                          title="Recipe against reference", name="cmp", folder=tmp_path)
    assert isinstance(fig, plt.Figure)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["recipe (5 seeds)", "reference (5 seeds)", "recipe, L2 reverted (3 seeds)"]
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 2
             and line.get_ydata()[0] == line.get_ydata()[1]]
    spans = sorted(tuple(line.get_xdata()) for line in lines)
    assert spans == sorted(zip(s["ci_low"], s["ci_high"]))  # each interval drawn, end to end
    dots = sorted(float(line.get_xdata()[0]) for line in ax.get_lines() if line.get_marker() == "o")
    assert dots == pytest.approx(sorted(s["mean"]))
    vertical = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [line.get_xdata()[0] for line in vertical] == [0.555]  # the reference's mean
    assert ax.patches or ax.collections  # the shaded band
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # the summary's first row on top
    png = tmp_path / "cmp.png"
    assert png.stat().st_size > 1000
    alt = description(png)
    assert alt.startswith("Recipe against reference: test accuracy")
    assert "95 % interval over 3–5 seeds" in alt and "0.555–0.561" in alt


def test_intervals_accepts_sweep_count_and_one_seed_without_interval(tmp_path):
    s = pd.DataFrame({"mean": [0.52, 0.51], "ci_low": [0.51, np.nan], "ci_high": [0.53, np.nan],
                      "count": [3, 1], "diverged": [0, 2]}, index=["a", "b"])
    fig = plots.intervals(s, name="one_seed", folder=tmp_path)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "a (3 seeds)", "b (1 seed, 2 diverged)"]
    assert (tmp_path / "one_seed.png").exists()


@pytest.mark.parametrize("bad, message", [
    (pd.DataFrame({"mean": [0.5], "ci_high": [0.6], "n": [3]}, index=["a"]), "ci_low"),
    (pd.DataFrame({"mean": [0.5], "ci_low": [0.4], "ci_high": [0.6]}, index=["a"]), "n"),
    (pd.DataFrame(columns=["mean", "ci_low", "ci_high", "n"]), "empty"),
    (summary([0.5, 0.6], [0.1, 0.1], [3, 3], ["a", "a"]), "repeated"),
])
def test_intervals_refuses_a_summary_it_cannot_draw(bad, message):
    with pytest.raises(ValueError, match=message):
        plots.intervals(bad)


def test_intervals_refuses_unknown_reference_and_upside_down_band():
    s = summary([0.5], [0.01], [3], ["adam"])
    with pytest.raises(ValueError, match="'sgd' is not a variant.*adam"):
        plots.intervals(s, reference="sgd")
    with pytest.raises(ValueError, match="low <= high"):
        plots.intervals(s, band=(0.6, 0.5))


def test_differences_in_points_coloured_by_verdict(tmp_path):
    d = summary([0.026, 0.004, -0.012], [0.007, 0.007, 0.006], [5, 5, 5],
                ["recipe", "width 512", "L2 1e-3"]).rename(columns={"mean": "diff"})
    fig = plots.differences(d, reference="reference", title="Against the reference",
                            name="diff", folder=tmp_path)
    ax = fig.axes[0]
    assert [line.get_xdata()[0] for line in ax.get_lines()
            if line.get_linestyle() == "-" and list(line.get_xdata()) == [0, 0]] == [0]  # zero line
    dots = [line for line in ax.get_lines() if line.get_marker() in ("o", "s")]
    assert [float(line.get_xdata()[0]) for line in dots] == pytest.approx([2.6, 0.4, -1.2])
    expected = [plots.VERDICT_STYLE[v]["color"] for v in ("better", "none", "worse")]
    assert [to_rgb(line.get_color()) for line in dots] == [to_rgb(c) for c in expected]
    assert "(5 paired seeds)" in ax.get_yticklabels()[0].get_text()
    assert "points" in ax.get_xlabel() and "reference" in ax.get_xlabel()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["better", "worse", "no detectable difference"]
    alt = description(tmp_path / "diff.png")
    assert "1 better, 1 worse, 1 no detectable difference" in alt and "5 paired seeds" in alt


def synthetic_runs(gains: dict[str, float], seeds: int = 5) -> pd.DataFrame:
    """Runs of each variant, a seed effect shared across variants (so pairing matters)."""
    rng = np.random.default_rng(3)
    seed_effect = rng.normal(0, 0.01, seeds)
    return pd.DataFrame([{"variant": v, "seed": s, "status": "ok",
                          "val_accuracy": 0.52 + gain + seed_effect[s] + rng.normal(0, 0.001)}
                         for v, gain in gains.items() for s in range(seeds)])


def test_the_statistics_modules_tables_draw_as_they_come(tmp_path):
    """compare.summarize into intervals, compare.against into differences, unchanged."""
    from cifar_mlp.study import compare

    runs = synthetic_runs({"reference": 0.0, "wider": 0.02, "more dropout": -0.015, "gelu": 0.0})
    table = compare.against(runs, "reference", metric="val_accuracy")
    fig = plots.differences(table, name="against", folder=tmp_path)  # the reference from its row
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "wider (5 paired seeds)", "more dropout (5 paired seeds)", "gelu (5 paired seeds)"]
    assert "difference from reference" in ax.get_xlabel()
    dots = [line for line in ax.get_lines() if line.get_marker() in ("o", "s")]
    rows = table.set_index("variant").drop(index="reference")
    assert [float(d.get_xdata()[0]) for d in dots] == pytest.approx(list(rows["diff"] * 100))
    words = {"better": "better", "worse": "worse", "no detectable difference": "none"}
    assert [to_rgb(d.get_color()) for d in dots] == [
        to_rgb(plots.VERDICT_STYLE[words[v]]["color"]) for v in rows["verdict"]]
    fig = plots.intervals(compare.summarize(runs, metric="val_accuracy"), reference="reference",
                          name="summary", folder=tmp_path)
    assert fig.axes[0].get_yticklabels()[0].get_text() == "reference (5 seeds)"
    with pytest.raises(ValueError, match="reference's name"):
        plots.differences(table.drop(index=0))


def test_verdict_of_follows_the_interval_or_the_given_word():
    above = {"diff": 0.01, "ci_low": 0.002, "ci_high": 0.018}
    assert plots.verdict_of(pd.Series(above)) == "better"
    assert plots.verdict_of(pd.Series(above), higher_is_better=False) == "worse"  # e.g. a loss
    assert plots.verdict_of(pd.Series({"diff": 0.0, "ci_low": -0.01, "ci_high": 0.01})) == "none"
    assert plots.verdict_of(pd.Series({"diff": 0.01, "ci_low": np.nan, "ci_high": np.nan})) == (
        "undetermined")  # one seed
    # The statistics module's word wins over the interval.
    worded = {**above, "verdict": "no detectable difference (95 % CI −0.2 to +1.8)"}
    assert plots.verdict_of(pd.Series(worded)) == "none"
    assert plots.verdict_of(pd.Series({**above, "verdict": "Worse, by 1.0 points"})) == "worse"
    assert plots.verdict_of(pd.Series({**above, "verdict": "undetermined (one seed)"})) == (
        "undetermined")


def test_bars_start_at_zero(tmp_path):
    s = pd.DataFrame({"mean": [0.581, 0.555], "std": [0.003, 0.009], "count": [3, 3]},
                     index=["recipe", "reference"])
    fig = plots.bars(s, metric="test_accuracy", name="bars", folder=tmp_path)
    assert fig.axes[0].get_xlim()[0] == 0
    assert (tmp_path / "bars.png").exists()


# --- labels that never overlap ------------------------------------------------------------

def scatter_runs(points: dict[str, tuple[float, float]], seeds: int = 3, spread=0.002) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame([{"variant": name, "family": name.split()[0], "gap": x + rng.normal(0, spread),
                          "best_val_accuracy": y + rng.normal(0, spread), "status": "ok"}
                         for name, (x, y) in points.items() for _ in range(seeds)])


def point_labels(fig):
    return [t for ax in fig.axes for t in ax.texts if t.get_gid() == "point-label"]


def assert_apart(fig):
    """No two labels' boxes intersect, and no label covers a point."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = point_labels(fig)
    boxes = [t.get_window_extent(renderer) for t in labels]
    for (a, box_a), (b, box_b) in itertools.combinations(zip(labels, boxes), 2):
        assert not box_a.overlaps(box_b), f"{a.get_text()!r} overlaps {b.get_text()!r}"
    ax = fig.axes[0]
    for label in labels:
        centre = ax.transData.transform(label.xy)
        for box in boxes:
            assert not box.contains(*centre), f"a label covers the point of {label.get_text()!r}"
    return labels


# The 03 figure's shape: a dozen variants within a few hundredths of each other.
CROWDED = {"BN before": (0.190, 0.526), "BN after": (0.205, 0.530), "hidden 0.1": (0.065, 0.531),
           "hidden 0.2": (0.022, 0.520), "hidden 0.3": (0.004, 0.501), "hidden 0.5": (-0.036, 0.449),
           "input 0.1": (0.200, 0.5215), "input 0.2": (0.165, 0.524), "input 0.3": (0.145, 0.520),
           "input 0.5": (0.090, 0.528), "L2 1e-05": (0.215, 0.5245), "L2 5e-05": (0.212, 0.5215),
           "L2 0.0001": (0.196, 0.5245), "L2 0.001": (0.058, 0.5225), "he_normal": (0.225, 0.511),
           "batch 32": (0.195, 0.5125), "batch 64": (0.221, 0.5165), "batch 256": (0.218, 0.524),
           "baseline": (0.227, 0.525)}


def test_crowded_labels_never_overlap(tmp_path):
    fig = plots.tradeoff(scatter_runs(CROWDED), x="gap", metric="best_val_accuracy", hue="family",
                         log_x=False, name="crowded", folder=tmp_path, title="Accuracy against gap")
    labels = assert_apart(fig)
    assert len(labels) == len(CROWDED)  # every point labelled, by name or by number
    keyed = "\n".join(t.get_text() for t in fig.texts if t.get_gid() == "label-key")
    for number, name in enumerate(CROWDED, start=1):
        name = words.plain(name)  # the figure says identifiers in words (he_normal: He normal)
        assert name in {t.get_text() for t in labels} or f"{number}  {name}" in keyed
    assert (tmp_path / "crowded.png").exists()


def test_sparse_labels_are_the_names_beside_their_points(tmp_path):
    sparse = {"depth 1": (0.8, 0.51), "depth 4": (0.95, 0.524), "width 256": (1.9, 0.527),
              "width 512": (3.6, 0.536), "width 2048": (24.0, 0.525)}
    runs = scatter_runs(sparse).rename(columns={"gap": "seconds_per_epoch"})
    fig = plots.tradeoff(runs, metric="best_val_accuracy", name="sparse", folder=tmp_path)
    labels = assert_apart(fig)
    assert sorted(t.get_text() for t in labels) == sorted(sparse)
    assert not [t for t in fig.texts if t.get_gid() == "label-key"]


def test_a_pile_of_points_falls_back_to_a_numbered_key():
    rng = np.random.default_rng(1)
    fig, ax = plt.subplots()
    x, y = rng.normal(0, 0.01, 40), rng.normal(0, 0.01, 40)
    ax.plot(x, y, "o")
    ax.set_xlim(-1, 1), ax.set_ylim(-1, 1)  # the 40 points within a few pixels
    names = [f"variant number {i}" for i in range(40)]
    labels = plots.place_labels(ax, x, y, names)
    assert [t.get_text() for t in labels] == [str(i + 1) for i in range(40)]
    key = "\n".join(t.get_text() for t in fig.texts if t.get_gid() == "label-key")
    assert all(f"{i + 1}  {name}" in key for i, name in enumerate(names))
    with pytest.raises(ValueError, match="as many texts as points"):
        plots.place_labels(ax, x, y, names[:3])


# --- alt text -------------------------------------------------------------------------

def titled_figure():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [0.50, 0.52, 0.51])
    ax.set(title="Validation accuracy by L2 strength", xlabel="L2 strength",
           ylabel="validation accuracy")
    return fig


def test_save_keeps_its_signature_and_builds_alt_from_title_and_axes(tmp_path):
    fig = titled_figure()
    assert plots.save(fig, "default", tmp_path) is fig  # the old positional call
    assert description(tmp_path / "default.png") == (
        "Validation accuracy by L2 strength: validation accuracy against L2 strength")
    plots.save(fig, "given", tmp_path, alt="What it shows")
    assert description(tmp_path / "given.png") == "What it shows"


def test_a_figure_saved_later_keeps_its_plots_description(tmp_path):
    hist = pd.DataFrame({"variant": ["a"] * 3 + ["b"] * 3, "epoch": [1, 2, 3] * 2,
                         "val_accuracy": [0.4, 0.45, 0.5, 0.42, 0.44, 0.46]})
    fig = plots.curves(hist, metrics=("val_accuracy",), title="Two variants")
    fig.axes[0].set_yscale("log")  # what 05 does before saving it itself
    plots.save(fig, "later", tmp_path)
    assert description(tmp_path / "later.png") == (
        "Two variants: validation accuracy per epoch, mean over seeds with a band for their "
        "range; one line per variant: a, b")


ALT = "Validation accuracy by L2 strength: mean and 95 % interval over 5 seeds per variant"


def image_output(alt: str):
    """A display_data output as a kernel sends it for `plots._display`'s Image."""
    from IPython.core.formatters import format_display_data
    from IPython.display import Image as IPythonImage

    fig = titled_figure()
    import io
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    data, metadata = format_display_data(IPythonImage(buffer.getvalue(), metadata={"alt": alt}))
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata)


@pytest.mark.parametrize("template", ["classic", "reader"])
def test_alt_in_output_metadata_becomes_the_img_alt(template):
    """Stock nbconvert's classic template and the report's reader template (over lab,
    whose own <img> has no alt) both read output.metadata["image/png"]["alt"]."""
    from nbconvert import HTMLExporter

    from cifar_mlp.report import render

    output = image_output(ALT)
    assert output.metadata == {"image/png": {"alt": ALT}}  # the contract
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("plots.save(...)",
                                                                   outputs=[output])])
    nbformat.validate(nb)
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # survives a round trip to disk
    exporter = HTMLExporter(template_name=template, extra_template_basedirs=[str(render.TEMPLATES)],
                            extra_template_paths=[str(render.TEMPLATES)])
    html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": "t"}, "reader": {}})
    assert f'alt="{ALT}"' in html
    assert "No description has been provided" not in html


def test_in_a_notebook_a_saved_figure_is_shown_once_with_its_alt(tmp_path, monkeypatch):
    """A real kernel with the inline backend: `save` displays the PNG with its alt text
    and closes the figure, so the cell's end does not show it a second time."""
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    spec = tmp_path / "jupyter" / "kernels" / "plots-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "plots test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    figures = tmp_path / "figures"
    source = f"""
import matplotlib.pyplot as plt
from pathlib import Path
from cifar_mlp.report import plots
fig, ax = plt.subplots()
ax.plot([1, 2, 3], [0.50, 0.52, 0.51])
ax.set(title="Validation accuracy by L2 strength", xlabel="L2 strength", ylabel="validation accuracy")
plots.save(fig, "shown", Path({str(figures)!r}))
plots.save(fig, "named", Path({str(figures)!r}), alt={ALT!r});
"""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, kernel_name="plots-test", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    images = [o for o in nb.cells[0].outputs if "image/png" in o.get("data", {})]
    assert [o.metadata for o in images] == [  # one image per save, none from the inline backend
        {"image/png": {"alt": "Validation accuracy by L2 strength: "
                              "validation accuracy against L2 strength"}},
        {"image/png": {"alt": ALT}}]
    assert (figures / "shown.png").exists() and (figures / "named.png").exists()
    html, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    assert f'alt="{ALT}"' in html


def test_every_existing_plot_still_draws_and_says_what_it_shows(tmp_path):
    """The calls the notebooks make today, on synthetic data: each PNG written with alt text."""
    rng = np.random.default_rng(4)
    runs = pd.DataFrame([{"variant": f"depth {d}", "depth": d, "width": w, "seed": s, "status": "ok",
                          "best_val_accuracy": 0.5 + 0.01 * d + rng.normal(0, 0.003), "gap": 0.1 * d,
                          "seconds_per_epoch": 0.7 * d}
                         for d in (1, 2, 3) for w in (64, 128) for s in range(3)])
    runs.loc[0, "status"] = "diverged"
    hist = pd.DataFrame([{"variant": v, "seed": s, "epoch": e, "accuracy": 0.4 + 0.01 * e,
                          "val_accuracy": 0.4 + 0.005 * e, "loss": 2 - 0.05 * e,
                          "val_loss": 2 - 0.03 * e} for v in "ab" for s in range(2) for e in range(1, 6)])
    images = rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
    labels_ = np.arange(40) % 10
    drawn = {
        "curves": plots.curves(hist, name="curves", folder=tmp_path, title="Curves"),
        "train_val": plots.train_val(hist, name="train_val", folder=tmp_path, title="Gap"),
        "isolation": plots.isolation(runs, x="depth", metric=("best_val_accuracy", "gap"),
                                     name="isolation", folder=tmp_path, title="Depth"),
        "tradeoff": plots.tradeoff(runs, metric="best_val_accuracy", name="tradeoff", folder=tmp_path),
        "heatmap": plots.heatmap(runs, x="width", y="depth", metric="best_val_accuracy",
                                 name="heatmap", folder=tmp_path, title="Grid"),
        "confusion": plots.confusion(labels_, (labels_ + (np.arange(40) % 3 == 0)) % 10,
                                     name="confusion", folder=tmp_path, title="Errors"),
        "sample_grid": plots.sample_grid(images, labels_, name="sample_grid", folder=tmp_path,
                                         per_class=3),
        "image_rows": plots.image_rows({"original": images[:4], "flipped": images[:4, :, ::-1]},
                                       name="image_rows", folder=tmp_path, title="Views"),
    }
    for name, fig in drawn.items():
        assert isinstance(fig, plt.Figure), name
        alt = description(tmp_path / f"{name}.png")
        assert len(alt) > 30 and "No description" not in alt, (name, alt)
    assert "diverged runs (1) as crosses" in description(tmp_path / "isolation.png")
    assert "lowest for" in description(tmp_path / "confusion.png")


def test_isolation_draws_the_same_picture_every_time(tmp_path):
    """A re-render from the same records must give the same figures (seaborn jitters at random)."""
    df = pd.DataFrame({"variant": [f"L2 {v}" for v in (0, 1, 2) for _ in range(3)],
                       "l2": [v for v in (0, 1, 2) for _ in range(3)], "seed": [0, 1, 2] * 3,
                       "status": "ok", "best_val_accuracy": np.linspace(0.5, 0.52, 9)})
    for name in ("a", "b"):
        plots.isolation(df, x="l2", metric="best_val_accuracy", name=name, folder=tmp_path)
    from PIL import Image, ImageChops
    a, b = (Image.open(tmp_path / f"{n}.png").convert("RGB") for n in ("a", "b"))
    assert ImageChops.difference(a, b).getbbox() is None, "the dots moved between renders"


def test_theme_finds_matplotlibs_own_fonts_whatever_the_cache_holds(monkeypatch):
    # A font cache written by another matplotlib install lacks the fonts this one ships;
    # mathtext (log-axis ticks) then printed "findfont: ... not found" into the pages.
    import matplotlib
    from matplotlib import font_manager

    bundled = str(Path(matplotlib.get_data_path()).resolve())
    stripped = [f for f in font_manager.fontManager.ttflist
                if not str(Path(f.fname).resolve()).startswith(bundled)]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stripped)
    font_manager.fontManager._findfont_cached.cache_clear()
    with pytest.raises(ValueError):
        font_manager.fontManager.findfont("STIXGeneral", fallback_to_default=False,
                                          rebuild_if_missing=False)
    plots.theme()
    found = font_manager.fontManager.findfont("STIXGeneral", fallback_to_default=False,
                                              rebuild_if_missing=False)
    assert Path(found).name == "STIXGeneral.ttf"


def test_a_crowded_tradeoff_names_every_point_and_needs_no_key():
    rng = np.random.default_rng(0)
    names = [f"variant {i}" for i in range(14)]
    df = pd.DataFrame([{"variant": n, "seed": s, "status": "ok", "seconds_per_epoch": 1 + 0.05 * i,
                        "val_accuracy": 0.5 + 0.001 * i + rng.normal(0, 0.002)}
                       for i, n in enumerate(names) for s in range(3)])
    fig = plots.tradeoff(df)
    shown = {t.get_text() for t in fig.axes[0].texts}
    assert set(names) <= shown and not [t for t in fig.texts if t.get_gid() == "label-key"]
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert ticks and not any("10^" in t or "$" in t for t in ticks), ticks


def test_dots_name_every_variant_on_the_axis_best_first():
    df = pd.DataFrame([{"variant": v, "seed": s, "status": "ok", "best_val_accuracy": acc, "gap": 0.1}
                       for v, acc in (("a", 0.5), ("b", 0.6), ("c", 0.55)) for s in range(2)])
    fig = plots.dots(df, metrics=("best_val_accuracy", "gap"))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["b", "c", "a"]


def test_figures_say_identifiers_in_words(tmp_path):
    df = pd.DataFrame([{"variant": v, "seed": s, "status": "ok", "best_val_accuracy": 0.5 + 0.01 * i,
                        "gap": 0.1} for i, v in enumerate(("sgd_momentum", "warmup_cosine")) for s in range(2)])
    fig = plots.dots(df, metrics=("best_val_accuracy", "gap"), name="words", folder=tmp_path)
    shown = " ".join(t.get_text() for t in fig.findobj(plots.matplotlib.text.Text))
    assert "SGD with momentum" in shown and "warmup + cosine" in shown
    assert "sgd_momentum" not in shown and "best_val_accuracy" not in shown
