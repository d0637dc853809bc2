"""The study's statistics rule (cifar_mlp.study.compare) on synthetic numbers: error rates, power,
pairing, the words, per-image uncertainty and refusals. Fast, no TensorFlow."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cifar_mlp.study import compare

SIGMA = 0.005  # a seed's spread of validation accuracy, about the study's


def runs(scores: dict, seeds=None, **columns) -> pd.DataFrame:
    """Tidy runs from {variant: [score per seed]}; NaN is a diverged run."""
    rows = []
    for variant, values in scores.items():
        for seed, value in zip(seeds or range(len(values)), values):
            rows.append(dict(variant=variant, seed=seed, val_accuracy=value,
                             status="diverged" if value != value else "ok", **columns))
    return pd.DataFrame(rows)


def verdict_rates(diffs: np.ndarray) -> dict:
    """Share of each verdict over draws (rows) of per-seed differences (columns)."""
    _, low, high = compare.t_interval(diffs)
    words = compare.verdict(low, high, diffs.shape[1])
    return {w: float(np.mean(words == w)) for w in (compare.BETTER, compare.WORSE)}


# --- The rule's error rate and power --------------------------------------------------------

@pytest.mark.parametrize("n", [2, 3, 5])
def test_identical_variants_are_called_different_at_most_at_the_nominal_rate(n):
    rng = np.random.default_rng(n)
    draws = 20_000
    a, b = rng.normal(0.5, SIGMA, (2, draws, n))  # the same variant twice: any verdict is an error
    rates = verdict_rates(a - b)
    wrong = rates[compare.BETTER] + rates[compare.WORSE]
    tolerance = 3 * math.sqrt(0.05 * 0.95 / draws)  # simulation error of a 5 % rate
    assert wrong <= 0.05 + tolerance
    assert wrong >= 0.05 - tolerance, "the interval is wider than 95 %: the rule is too timid"
    assert abs(rates[compare.BETTER] - rates[compare.WORSE]) <= 2 * tolerance  # two-sided


def test_a_difference_of_two_seed_stds_is_found_at_five_seeds_in_most_draws():
    rng = np.random.default_rng(7)
    draws, n, effect = 20_000, 5, 2 * SIGMA
    a = rng.normal(0.5 + effect, SIGMA, (draws, n))
    b = rng.normal(0.5, SIGMA, (draws, n))
    found = verdict_rates(a - b)[compare.BETTER]
    assert found > 0.5
    # ... and as often as the t test's theory says (noncentral t, differences of sd σ√2)
    critical = stats.t.ppf(0.975, n - 1)
    power = stats.nct.sf(critical, n - 1, effect / (SIGMA * math.sqrt(2)) * math.sqrt(n))
    assert found == pytest.approx(power, abs=0.02)


def test_paired_interval_is_the_paired_t_interval():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.53, SIGMA, 5), rng.normal(0.52, SIGMA, 5)
    c = compare.paired(runs({"a": list(a), "b": list(b)}), "a", "b", metric="val_accuracy")
    expected = stats.ttest_rel(a, b).confidence_interval(0.95)
    assert (c.ci_low, c.ci_high) == pytest.approx((expected.low, expected.high))
    assert c.diff == pytest.approx(np.mean(a - b)) and c.n == 5


def test_pairing_removes_shared_seed_effects():
    # Each seed lifts or sinks both arms alike; a beats b by 0.4 points on every seed.
    seed_effect = np.array([-0.02, -0.01, 0.0, 0.01, 0.02])
    jitter = np.array([0.0005, -0.0005, 0.0003, -0.0002, 0.0])
    a, b = 0.52 + seed_effect + 0.004 + jitter, 0.52 + seed_effect
    df = runs({"a": list(a), "b": list(b)})
    assert stats.ttest_ind(a, b).pvalue > 0.05  # unpaired, the seeds' spread hides it
    summary = compare.summarize(df, metric="val_accuracy")
    assert summary.loc["a", "ci_low"] < summary.loc["b", "ci_high"]  # overlapping intervals
    c = compare.paired(df, "a", "b", metric="val_accuracy")
    assert c.verdict == compare.BETTER and c.ci_low > 0


def test_lower_is_better_flips_the_words():
    df = runs({"short": [3.0, 4.0, 3.0, 4.0], "long": [6.0, 7.0, 6.0, 8.0]}).rename(
        columns={"val_accuracy": "epochs_to_reach"})
    c = compare.paired(df, "short", "long", metric="epochs_to_reach", higher_is_better=False)
    assert c.diff < 0 and c.verdict == compare.BETTER
    assert compare.beats(c) == compare.SUPPORTED
    assert compare.paired(df, "short", "long", metric="epochs_to_reach").verdict == compare.WORSE


def test_one_seed_is_undetermined():
    c = compare.paired(runs({"a": [0.6], "b": [0.5]}), "a", "b", metric="val_accuracy")
    assert c.n == 1 and c.verdict == compare.ONE_SEED and math.isnan(c.ci_low)
    assert compare.beats(c) == compare.INCONCLUSIVE


# --- Diverged runs and seeds only one arm has -----------------------------------------------

def test_diverged_seeds_are_dropped_pairwise_and_said():
    df = runs({"a": [0.53, math.nan, 0.54, 0.535], "b": [0.52, 0.52, math.nan, 0.525]})
    df.loc[df["status"] == "diverged", "val_accuracy"] = -1.0  # what a diverged record may hold
    c = compare.paired(df, "a", "b", metric="val_accuracy")
    assert c.n == 2 and c.diff == pytest.approx(0.01)
    assert c.left_out == ("seed 1, where a diverged", "seed 2, where b diverged")
    assert "left out: seed 1, where a diverged; seed 2, where b diverged" in compare.sentence(c)
    summary = compare.summarize(df, metric="val_accuracy")
    assert summary.loc["a", "n"] == 3 and summary.loc["a", "diverged"] == 1
    assert summary.loc["a", "mean"] == pytest.approx(np.mean([0.53, 0.54, 0.535]))


def test_no_seed_scored_by_both_is_undetermined_not_an_error():
    c = compare.paired(runs({"a": [math.nan, 0.5], "b": [0.5, math.nan]}), "a", "b",
                       metric="val_accuracy")
    assert c.n == 0 and c.verdict == compare.NO_SEED
    assert compare.describe(compare.summarize(runs({"x": [math.nan] * 2}), metric="val_accuracy"),
                            "x") == "diverged (2 of 2 seeds)"


def test_seeds_only_one_arm_has_are_left_out_and_said():
    df = pd.concat([runs({"base": [0.52, 0.53, 0.54]}), runs({"new": [0.53, 0.54]})])
    c = compare.paired(df, "new", "base", metric="val_accuracy")
    assert c.n == 2 and c.left_out == ("seed 2, which only base has",)


# --- Tables: summary, against a reference, the best -----------------------------------------

def test_summary_has_one_row_per_variant_in_the_runs_order():
    df = runs({"b": [0.50, 0.52, 0.51], "a": [0.60, 0.61, 0.62]})
    summary = compare.summarize(df, metric="val_accuracy")
    assert list(summary.index) == ["b", "a"]
    assert list(summary.columns) == ["mean", "ci_low", "ci_high", "std", "n", "diverged"]
    low, high = stats.t.interval(0.95, 2, loc=0.61, scale=stats.sem([0.60, 0.61, 0.62]))
    assert (summary.loc["a", "ci_low"], summary.loc["a", "ci_high"]) == pytest.approx((low, high))


def test_against_a_reference_agrees_with_each_paired_comparison():
    rng = np.random.default_rng(3)
    df = runs({v: list(rng.normal(mu, SIGMA, 5)) for v, mu in
               [("base", 0.52), ("up", 0.54), ("same", 0.52), ("down", 0.49)]})
    table = compare.against(df, "base", metric="val_accuracy")
    assert list(table.columns) == ["variant", "n", "mean", "diff", "ci_low", "ci_high", "verdict"]
    assert table.iloc[0]["variant"] == "base" and table.iloc[0]["verdict"] == "reference"
    for row in table.iloc[1:].itertuples():
        c = compare.paired(df, row.variant, "base", metric="val_accuracy")
        assert (row.diff, row.ci_low, row.verdict) == (c.diff, c.ci_low, c.verdict)
    verdicts = dict(zip(table["variant"], table["verdict"]))
    assert verdicts["up"] == compare.BETTER and verdicts["down"] == compare.WORSE


def test_best_is_the_highest_mean_or_the_lowest_when_lower_is_better():
    df = runs({"a": [0.50, 0.51], "b": [0.55, 0.56], "c": [math.nan, math.nan]})
    chosen = compare.best(df, metric="val_accuracy")
    assert chosen.variant == "b" and chosen.table.iloc[0]["variant"] == "b"
    assert compare.best(df, metric="val_accuracy", higher_is_better=False).variant == "a"
    with pytest.raises(ValueError, match="every run diverged"):
        compare.best(runs({"c": [math.nan]}), metric="val_accuracy")


# --- Words -----------------------------------------------------------------------------------

def test_accuracy_and_difference_formats():
    summary = pd.DataFrame({"mean": [0.533, 0.5], "ci_low": [0.521, math.nan],
                            "ci_high": [0.545, math.nan], "std": [0.005, math.nan],
                            "n": [3, 1], "diverged": [0, 0]}, index=["w512", "one"])
    assert compare.describe(summary, "w512") == "0.533 (95 % CI 0.521–0.545, 3 seeds)"
    assert compare.describe(summary, "one") == "0.500 (1 seed)"
    c = compare.Comparison("A", "B", "val_accuracy", 0.012, -0.003, 0.027, 5, compare.NO_DIFFERENCE)
    assert compare.difference(c) == "+1.2 points (95 % CI −0.3 to +2.7), 5 seeds: no detectable difference"
    assert compare.sentence(c) == ("*A* and *B* show no detectable difference: "
                                   "+1.2 points (95 % CI −0.3 to +2.7), 5 seeds.")
    assert str(c) == compare.sentence(c)
    epochs = compare.Comparison("A", "B", "epochs", -2.0, -3.5, -0.5, 4, compare.BETTER, False)
    assert compare.difference(epochs, unit="epochs") == \
        "−2.0 epochs (95 % CI −3.5 to −0.5), 4 seeds: better"


def test_words_never_hide_the_seeds_or_print_a_zero_spread():
    df = runs({"a": [0.536, 0.536], "b": [0.536, 0.536]})  # two seeds that agree to 3 digits
    summary = compare.summarize(df, metric="val_accuracy")
    text = compare.describe(summary, "a")
    assert "±" not in text and "2 seeds" in text
    c = compare.paired(df, "a", "b", metric="val_accuracy")
    words = compare.sentence(c)
    assert "2 seeds" in words and "-" not in words.replace("−", "")  # the true minus, if any
    assert re.search(r"^0\.0 points", compare.difference(c)), "no signed zero"


def test_an_interval_end_that_decides_the_verdict_never_rounds_to_zero():
    # A "better" whose interval starts at +0.016 points must not read "CI 0.0 to …".
    close = compare.Comparison("a", "b", "val_accuracy", diff=0.006, ci_low=0.00016,
                               ci_high=0.012, n=5, verdict=compare.BETTER)
    assert "(95 % CI +0.02 to +1.2), 5 seeds" in compare.sentence(close)
    assert compare.numbers(close) == "+0.6 points (95 % CI +0.02 to +1.2), 5 seeds"  # no verdict
    below = compare.Comparison("a", "b", "val_accuracy", diff=-0.004, ci_low=-0.008,
                               ci_high=-7e-5, n=5, verdict=compare.WORSE)
    assert "CI −0.8 to −0.01)" in compare.difference(below)
    assert compare.bound(0.0) == "0.0" and compare.bound(2.345) == "+2.3"


# --- One accuracy on N images, two models on the same images --------------------------------

def test_wilson_interval_matches_the_published_value():
    # Newcombe (1998), Stat. Med. 17:857, table I: 81 of 263, Wilson 0.2553–0.3662
    low, high = compare.wilson(81 / 263, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    scipy_ci = stats.binomtest(2731, 5000).proportion_ci(0.95, method="wilson")
    assert compare.wilson(2731 / 5000, 5000) == pytest.approx((scipy_ci.low, scipy_ci.high))
    assert compare.wilson(0.0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    assert compare.standard_error(0.5, 5000) == pytest.approx(0.00707, abs=1e-5)  # ±0.007
    assert compare.describe_images(0.546, 10_000).endswith("on 10,000 images)")


def predictions(images=5000, right_a=0.55, right_b=0.52, seed=0):
    """Labels and two models' uint8 predictions, each right on about the given share."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, images).astype(np.uint8)
    wrong = ((labels + 1) % 10).astype(np.uint8)
    draw = rng.random(images)
    # Half the images share a's draw: models tend to get the same images right
    draw_b = np.where(rng.random(images) < 0.5, draw, rng.random(images))
    return (np.where(draw < right_a, labels, wrong), np.where(draw_b < right_b, labels, wrong),
            labels)


def test_mcnemar_counts_and_exact_p_value():
    a, b, labels = predictions(images=400, right_a=0.60, right_b=0.50)
    flip = np.arange(400) % 7 == 0  # some images b gets right and a wrong
    b = np.where(flip, labels, b)
    a = np.where(flip & (np.arange(400) % 2 == 0), (labels + 1) % 10, a).astype(np.uint8)
    c = compare.images_compared(a, b, labels)
    only_a, only_b = np.sum((a == labels) & (b != labels)), np.sum((a != labels) & (b == labels))
    assert (c.only_a, c.only_b) == (only_a, only_b)
    exact = min(1.0, 2 * stats.binom.cdf(min(only_a, only_b), only_a + only_b, 0.5))
    assert c.p_value == pytest.approx(exact)
    assert c.diff == pytest.approx(np.mean(a == labels) - np.mean(b == labels))


def test_paired_bootstrap_is_deterministic_and_agrees_with_resampling_images():
    a, b, labels = predictions(images=2000)
    first = compare.images_compared(a, b, labels, seed=3)
    assert first == compare.images_compared(a, b, labels, seed=3)
    few = {compare.images_compared(a, b, labels, resamples=100, seed=s).ci_low for s in range(5)}
    assert len(few) > 1, "the seed does not reach the resampling"
    rng = np.random.default_rng(0)
    picks = rng.integers(0, 2000, (2000, 2000))  # the textbook bootstrap: resample the images
    diffs = np.mean(a[picks] == labels[picks], axis=1) - np.mean(b[picks] == labels[picks], axis=1)
    assert (first.ci_low, first.ci_high) == pytest.approx(
        tuple(np.quantile(diffs, [0.025, 0.975])), abs=0.003)
    assert first.ci_low < first.diff < first.ci_high


def test_image_comparison_verdicts():
    a, b, labels = predictions()
    assert compare.images_compared(a, b, labels).verdict == compare.BETTER
    assert compare.images_compared(b, a, labels).verdict == compare.WORSE
    same = compare.images_compared(a, a, labels)
    assert (same.diff, same.ci_low, same.ci_high, same.p_value) == (0, 0, 0, 1.0)
    assert same.verdict == compare.NO_DIFFERENCE
    assert "5,000 images, McNemar p = " in compare.image_difference(same)


# --- Claims ----------------------------------------------------------------------------------

def test_claim_verdicts_follow_the_interval():
    assert compare.beats((0.001, 0.02)) == compare.SUPPORTED
    assert compare.beats((-0.02, -0.001)) == compare.REFUTED
    assert compare.beats((-0.01, 0.01)) == compare.INCONCLUSIVE
    assert compare.matches((-0.004, 0.003), margin=0.005) == compare.SUPPORTED
    assert compare.matches((0.006, 0.02), margin=0.005) == compare.REFUTED
    assert compare.matches((-0.004, 0.009), margin=0.005) == compare.INCONCLUSIVE
    assert compare.no_worse((-0.004, 0.01), margin=0.005) == compare.SUPPORTED
    assert compare.no_worse((-0.02, -0.006), margin=0.005) == compare.REFUTED
    assert compare.lies_in((0.556, 0.559), 0.555, 0.561) == compare.SUPPORTED
    assert compare.lies_in((0.540, 0.550), 0.555, 0.561) == compare.REFUTED
    assert compare.lies_in((0.550, 0.558), 0.555, 0.561) == compare.INCONCLUSIVE
    assert compare.lies_in((math.nan, math.nan), 0.555, 0.561) == compare.INCONCLUSIVE
    assert compare.overall(compare.SUPPORTED, None, compare.SUPPORTED) == compare.SUPPORTED
    assert compare.overall(compare.SUPPORTED, compare.REFUTED) == compare.REFUTED
    assert compare.overall(compare.SUPPORTED, compare.INCONCLUSIVE) == compare.INCONCLUSIVE
    assert compare.overall(None) == compare.UNTESTED


# --- Like with like --------------------------------------------------------------------------

def restore_mix() -> pd.DataFrame:
    """05's situation: a checkpoint run (best epoch restored) beside a plain one."""
    df = pd.concat([runs({"constant": [0.52, 0.53, 0.52]}, checkpoint=False),
                    runs({"checkpoint": [0.54, 0.55, 0.54]}, checkpoint=True)], ignore_index=True)
    return df.assign(early_stopping=False, es_restore_best=True,
                     best_val_accuracy=df["val_accuracy"] + [0.01, 0.02, 0.01, 0, 0, 0],
                     last_val_accuracy=df["val_accuracy"] - [0, 0, 0, 0.01, 0.01, 0.02])


def test_val_accuracy_mixing_best_and_last_epochs_is_refused():
    with pytest.raises(ValueError, match="a restored epoch's for checkpoint, the last epoch's for constant"):
        compare.paired(restore_mix(), "checkpoint", "constant", metric="val_accuracy")
    with pytest.raises(ValueError, match="score every run by one rule"):
        compare.summarize(restore_mix(), metric="val_accuracy")


def test_score_gives_every_run_one_rule():
    scored = compare.score(restore_mix(), "best_epoch")
    assert (scored["score"] == scored["best_val_accuracy"]).all()
    assert set(scored["scored_by"]) == {"best_epoch"}
    c = compare.paired(scored, "checkpoint", "constant", metric="score")
    assert c.diff == pytest.approx(np.mean([0.01, 0.0, 0.01]))
    last = compare.paired(compare.score(restore_mix(), "last_epoch"), "checkpoint", "constant",
                          metric="score")
    assert last.diff == pytest.approx(np.mean([0.01, 0.01, 0.0]))
    with pytest.raises(ValueError, match="unknown scoring rule 'final'; allowed: last_epoch, best_epoch"):
        compare.score(restore_mix(), "final")


# --- Refusals --------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda df: compare.paired(df, "a", "z", metric="val_accuracy"), "unknown variant 'z'; the runs hold: a, b"),
    (lambda df: compare.paired(df, "a", "b", metric="test_accuracy"), "no column 'test_accuracy'"),
    (lambda df: compare.summarize(df, metric="val_acc"), "no column 'val_acc'"),
    (lambda df: compare.paired(df, "a", "a", metric="val_accuracy"), "needs two variants"),
    (lambda df: compare.against(df, "z", metric="val_accuracy"), "unknown variant 'z'"),
    (lambda df: compare.describe(compare.summarize(df, metric="val_accuracy"), "z"), "unknown variant 'z'"),
])
def test_bad_requests_are_refused_by_name(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(runs({"a": [0.5, 0.51], "b": [0.5, 0.52]}))


def test_bad_runs_are_refused_by_name():
    apart = pd.concat([runs({"a": [0.5, 0.51]}, seeds=[0, 1]), runs({"b": [0.5]}, seeds=[2])])
    with pytest.raises(ValueError, match=r"share no seed \(a: \[0, 1\], b: \[2\]\)"):
        compare.paired(apart, "a", "b", metric="val_accuracy")
    twice = pd.concat([runs({"a": [0.5, 0.51], "b": [0.5, 0.5]}), runs({"a": [0.52]})])
    with pytest.raises(ValueError, match="duplicated \\(variant, seed\\) rows: a seed 0"):
        compare.paired(twice, "a", "b", metric="val_accuracy")
    with pytest.raises(ValueError, match="duplicated"):
        compare.summarize(twice, metric="val_accuracy")
    unscored = runs({"a": [0.5, 0.51], "b": [0.5, 0.5]}).assign(test_accuracy=[0.5, None, 0.5, 0.5])
    with pytest.raises(ValueError, match="'test_accuracy' has no number for finished runs \\(a seed 1\\)"):
        compare.paired(unscored, "a", "b", metric="test_accuracy")
    odd = runs({"a": [0.5, 0.51], "b": [0.5, 0.5]}).assign(status=["ok", "ok", "ok", "crashed"])
    with pytest.raises(ValueError, match=r"unknown status \['crashed'\]; allowed: ok, diverged"):
        compare.summarize(odd, metric="val_accuracy")


def test_bad_image_inputs_are_refused():
    a, b, labels = predictions(images=10)
    with pytest.raises(ValueError, match="one length"):
        compare.images_compared(a, b[:5], labels)
    with pytest.raises(ValueError, match="integer class arrays"):
        compare.images_compared(a.astype(float), b, labels)
    with pytest.raises(ValueError, match="accuracy in \\[0, 1\\]"):
        compare.wilson(1.2, 5000)
    with pytest.raises(ValueError, match="positive whole number of images"):
        compare.standard_error(0.5, 0)


def test_choose_keeps_the_reference_unless_the_best_beats_it():
    seeds = range(5)
    clear = pd.DataFrame([dict(variant=v, seed=s, acc=base + 0.001 * s)
                          for v, base in (("ref", 0.50), ("big", 0.53)) for s in seeds])
    picked = compare.choose(clear, "ref", metric="acc")
    assert picked.variant == "big" and picked.comparison.verdict == compare.BETTER
    assert "is chosen" in picked.sentence and "chosen" in picked.verdict_line
    noisy = pd.DataFrame([dict(variant=v, seed=s, acc=0.5 + d)
                          for v, ds in (("ref", (0.0, 0.02, 0.0)), ("big", (0.01, 0.0, 0.02)))
                          for s, d in enumerate(ds)])
    kept = compare.choose(noisy, "ref", metric="acc")
    assert kept.best == "big" and kept.variant == "ref"
    assert kept.comparison.verdict == compare.NO_DIFFERENCE and "*ref* stays" in kept.sentence
    on_top = compare.choose(clear, "big", metric="acc")  # the reference has the best mean
    assert on_top.comparison is None and on_top.variant == "big"
    assert on_top.decisive is on_top.runner_up and on_top.runner_up.a == "ref"
    assert on_top.verdict_line.startswith("ref −3.0 points") and "so big stays" in on_top.verdict_line
    with pytest.raises(ValueError, match="unknown variant 'ref'"):
        compare.choose(clear.replace("ref", "other"), "ref", metric="acc")


def test_overlaps_and_the_prediction_interval_of_one_more_run():
    assert compare.overlaps((0.550, 0.557), 0.555, 0.561) == compare.SUPPORTED
    assert compare.overlaps((0.540, 0.550), 0.555, 0.561) == compare.REFUTED
    assert compare.overlaps((math.nan, math.nan), 0.555, 0.561) == compare.INCONCLUSIVE
    low, high = compare.prediction_interval([0.50, 0.52, 0.54])
    half = stats.t.ppf(0.975, 2) * 0.02 * math.sqrt(1 + 1 / 3)
    assert low == pytest.approx(0.52 - half) and high == pytest.approx(0.52 + half)
    # Wider than the interval of the mean: one run varies more than a mean of three.
    _, mean_low, mean_high = compare.t_interval([0.50, 0.52, 0.54])
    assert high - low > mean_high - mean_low
    assert all(math.isnan(x) for x in compare.prediction_interval([0.5]))


def test_budgets_flag_a_variant_that_peaks_in_the_last_fifth_of_its_epochs():
    frame = pd.DataFrame({
        "variant": ["short", "short", "settled", "settled", "stopped", "stopped"],
        "seed": [0, 1, 0, 1, 0, 1],
        "epochs": [15, 15, 15, 15, 30, 30],
        # 13 > 0.8 · 15 = 12: late; 12 is not; early stopping ended "stopped" near its
        # own best, but its budget was 30 epochs, so it peaked well before that.
        "best_epoch": [13, 13, 12, 12, 9, 11],
        "epochs_run": [15, 15, 15, 15, 14, 16],
    })
    table = compare.budgets(frame)
    assert list(table.index) == ["short", "settled", "stopped"]
    assert table["late"].tolist() == [True, False, False]
    assert table.loc["short", "seeds"] == 2 and table.loc["stopped", "best_epoch"] == 10
    sentence = compare.late_sentence(table)
    assert "1 of 3 variants" in sentence and "*short* (best epoch 13.0 of 15" in sentence
    assert "settled" not in sentence
    assert compare.late_sentence(table[~table["late"]]).startswith("No variant at a constant rate peaked")
    # A schedule that decays to its floor peaks at the end by design: only a constant rate is flagged.
    named = frame.assign(schedule=["cosine", "cosine", "constant", "constant", "constant", "constant"])
    assert compare.budgets(named)["late"].tolist() == [False, False, False]
    assert compare.budgets(named.assign(schedule="constant"))["late"].tolist() == [True, False, False]
    with pytest.raises(ValueError, match="share=1.5 is not allowed"):
        compare.budgets(frame, share=1.5)
    with pytest.raises(ValueError, match="no column 'best_epoch'"):
        compare.budgets(frame.drop(columns="best_epoch"))
    # A run two experiments both read (a shared reference) is one run in the mean.
    keyed = frame.assign(key=[f"k{i}" for i in range(6)])
    twice = pd.concat([keyed, keyed.iloc[[4]].assign(best_epoch=9)])
    assert compare.budgets(twice).loc["stopped", "best_epoch"] == 10


def test_readable_shows_differences_in_points_and_a_dash_for_the_reference():
    table = pd.DataFrame({"variant": ["ref", "a"], "n": [5, 5], "mean": [0.5, 0.51],
                          "diff": [math.nan, 0.006], "ci_low": [math.nan, -7e-5],
                          "ci_high": [math.nan, 0.012], "verdict": ["reference", "no detectable difference"]})
    shown = compare.readable(table.set_index("variant"))
    assert list(shown.columns) == ["n", "mean", "difference (points)", "95 % CI low", "95 % CI high",
                                   "verdict"]
    assert shown.loc["ref"].tolist()[2:5] == ["–", "–", "–"]
    assert shown.loc["a"].tolist()[2:5] == ["+0.6", "−0.01", "+1.2"]
    assert table["diff"].isna().sum() == 1  # the numbers themselves are untouched


def test_an_interval_over_seeds_and_images_is_wider_than_over_seeds_alone():
    rng = np.random.default_rng(0)
    correct = rng.random((5, 10_000)) < (0.6 + rng.normal(0, 0.005, (5, 1)))
    mean, low, high = compare.seeds_and_images(correct)
    _, seed_low, seed_high = compare.t_interval(correct.mean(axis=1))
    assert low < mean < high and mean == pytest.approx(correct.mean())
    assert high - low > seed_high - seed_low  # the images add their own noise
    one = compare.wilson(correct[0].mean(), 10_000)
    assert (high - low) > 0.6 * (one[1] - one[0])  # about one model's image noise, at least
    with pytest.raises(ValueError, match="seeds × images"):
        compare.seeds_and_images(correct[0])
