"""benchmarks/report_bench.py: what its table says about a re-trained store."""

import importlib.util
import os
import time
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "report_bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("report_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _history(root: Path, key: str, loss, val_loss) -> None:
    (root / key).mkdir(parents=True)
    pd.DataFrame({"epoch": range(1, len(loss) + 1), "loss": loss, "val_loss": val_loss}).to_csv(
        root / key / "history.csv", index=False)


def test_against_committed_tells_training_bits_from_evaluation_digits(bench, tmp_path):
    here, committed = tmp_path / "here", tmp_path / "committed"
    _history(committed, "same", [2.0, 1.5], [2.1, 1.6])
    _history(here, "same", [2.0, 1.5], [2.1, 1.6])
    _history(committed, "eval", [2.0, 1.5], [2.1, 1.6])
    _history(here, "eval", [2.0, 1.5], [2.1, 1.6000002])  # evaluation summed differently
    _history(committed, "train", [2.0, 1.5], [2.1, 1.6])
    _history(here, "train", [2.0, 1.4], [2.1, 1.6])  # training itself changed
    _history(here, "new", [2.0], [2.1])  # not in the committed store: not compared

    found = bench.against_committed(here, committed)

    assert found["compared"] == 3
    assert found["training_identical"] == 2
    assert found["max_abs_diff"]["loss"] == pytest.approx(0.1)
    assert found["max_abs_diff"]["val_loss"] == pytest.approx(2e-7, rel=0.01)


def _result(seconds_01_05: float) -> dict:
    section = {"section": "01_baseline", "seconds": 60.0, "status": "ok", "runs_trained": 2,
               "training_seconds": 50.0, "peak_pss_gib": 1.5, "peak_rss_gib": 2.0}
    render = {"wall": 70.0, "sections": [section], "runs_trained": 0,
              "peak_pss_gib": 1.5, "peak_rss_gib": 2.0}
    return {"first": render, "stored": render, "totals": {"01-05": seconds_01_05},
            "widest": None, "runs": 2, "training_seconds": 50.0, "workers": 2,
            "machine": "test CPU", "date": "2026-12-01", "git": "abc", "command": "test",
            "committed": {"compared": 2, "training_identical": 1, "max_abs_diff": {"loss": 0.1}}}


def test_table_says_which_goals_are_met(bench):
    assert "goal 60 min: met" in bench.table(_result(59 * 60))
    over = bench.table(_result(61 * 60))
    assert "goal 60 min: NOT met" in over
    assert "2 runs trained again, **1 with the same training history to the bit**" in over


def test_the_estimate_counts_each_run_once_for_the_first_section_that_trains_it(bench, tmp_path):
    import json

    results, reports = tmp_path / "results", tmp_path / "reports"
    (reports / "summaries").mkdir(parents=True)
    for key, seconds in (("a", 60.0), ("b", 120.0), ("c", 30.0)):
        (results / key).mkdir(parents=True)
        (results / key / "metrics.json").write_text(json.dumps({"wall_seconds": seconds,
                                                                "runs_at_once": 2}))
    for section, keys in (("01_one", "ab"), ("02_two", "bc")):
        (reports / "summaries" / f"{section}.json").write_text(json.dumps(
            {"section": section, "runs": [{"key": k} for k in keys]}))

    found = bench.estimate(results, reports, workers=2)

    assert [(s["section"], s["runs"], s["seconds"]) for s in found["sections"]] == [
        ("01_one", 2, 180.0), ("02_two", 1, 30.0)]
    assert found["runs"] == 3 and found["wall_seconds"] == 105.0
    assert "3 runs, **3 min 30 s**" in bench.estimate_table(found)
    # Over workers, section by section: 01's two runs (60 s, 120 s) end at 120 s on two
    # workers, 180 s on one; 02's one run adds 30 s. Never under the longest run.
    assert found["split"][1] == 210.0 and found["split"][2] == 150.0 and found["split"][8] == 150.0
    assert found["longest"] == 120.0 and "| 2 | 2 min 30 s |" in bench.estimate_table(found)


def test_the_split_schedules_longest_first_as_a_sweep_does(bench):
    # 5 | 4, then each 3 to the worker free first: 5+3 | 4+3+3 = 10. The best split is
    # 5+4 | 3+3+3 = 9, but a sweep does not search for it.
    assert bench.makespan([5, 4, 3, 3, 3], 2) == 10
    assert bench.makespan([10, 1, 1, 1], 3) == 10 and bench.makespan([], 2) == 0


def test_a_resumed_measurement_forgets_a_cut_off_sections_runs_and_renders_only_the_rest(
        bench, tmp_path, monkeypatch):
    import json

    monkeypatch.setattr(bench, "COMMITTED_PROGRESS", tmp_path / "committed_progress.json")
    scratch = tmp_path / "scratch"
    progress = bench.load_progress(scratch, [], resume=False)
    for folder, key in (("results", "kept"), ("results", "cut"), ("runs", "cut")):
        (scratch / folder / key).mkdir(parents=True)
        (scratch / folder / key / "metrics.json").write_text("{}")
    progress |= {"keys": ["kept"], "pieces": [{"wall": 5.0}],
                 "sections": [{"section": "01_baseline", "runs_trained": 1}]}
    (scratch / bench.PROGRESS).write_text(json.dumps(progress))
    rendered, envs = [], []

    def render(env, only, log, checkpoint=None):
        rendered.append(only)
        envs.append(env)
        return {"exit": 0, "start": 0.0, "end": 1.0, "sections": [], "command": "x",
                "memory": [(0.0, 1.0, 1.0, 1)]}

    monkeypatch.setattr(bench, "render", render)
    monkeypatch.setattr(bench, "ours_seconds_per_epoch", lambda: 1.4)
    monkeypatch.setattr(bench, "notebooks", lambda only: ["01_baseline", "02_architecture"])
    monkeypatch.setattr(bench, "per_section", lambda run, results, reports: [
        {"section": run_name, "seconds": 1.0, "runs_trained": 0, "peak_pss_gib": 1.0,
         "peak_rss_gib": 1.0} for run_name in rendered[-1]])

    resumed = bench.load_progress(scratch, [], resume=True)
    bench.measure_first({}, scratch, resumed, [])

    # 01 was measured before the interruption, in a checkout whose reports are gone:
    # it is rendered from its records, training forbidden, before 02 is measured.
    assert rendered == [["01_baseline"], ["02_architecture"]]
    assert envs[0].get("CIFAR_MLP_NO_TRAIN") == "1" and "CIFAR_MLP_NO_TRAIN" not in envs[1]
    assert not (scratch / "results" / "cut").exists() and not (scratch / "runs" / "cut").exists()
    assert (scratch / "results" / "kept").exists()
    saved = json.loads((scratch / bench.PROGRESS).read_text())
    assert [s["section"] for s in saved["sections"]] == ["01_baseline", "02_architecture"]
    assert len(saved["pieces"]) == 2 and saved["keys"] == ["kept"]


def test_each_section_is_scaled_by_ours_timed_right_before_and_right_after_it(
        bench, tmp_path, monkeypatch):
    """One CPU's speed drifts within a session: every section gets its own two readings."""
    import json

    monkeypatch.setattr(bench, "COMMITTED_PROGRESS", tmp_path / "committed_progress.json")
    monkeypatch.setattr(bench, "notebooks", lambda only: ["01_baseline", "02_architecture"])
    monkeypatch.setattr(bench, "restore_summaries", lambda env, scratch, done: None)
    readings = iter([1.0, 2.0, 3.0, 5.0])
    monkeypatch.setattr(bench, "ours_seconds_per_epoch", lambda: next(readings))
    monkeypatch.setattr(bench, "render", lambda env, only, log, checkpoint=None: {
        "exit": 0, "start": 0.0, "end": 1.0, "sections": [], "command": "x",
        "memory": [(0.0, 1.0, 1.0, 1)], "only": only})
    monkeypatch.setattr(bench, "per_section", lambda run, results, reports: [
        {"section": run["only"][0], "seconds": 700.0, "runs_trained": 0, "peak_pss_gib": 1.0,
         "peak_rss_gib": 1.0}])
    scratch = tmp_path / "scratch"
    bench.measure_first({}, scratch, bench.load_progress(scratch, [], resume=False), [])

    saved = json.loads((scratch / bench.PROGRESS).read_text())
    assert [s["ours_seconds_per_epoch"] for s in saved["sections"]] == [1.5, 4.0]
    assert bench.scaled(saved["sections"]) == pytest.approx(700 * 0.7 / 1.5 + 700 * 0.7 / 4.0)


def test_resume_refuses_a_measurement_of_other_notebooks(bench, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "COMMITTED_PROGRESS", tmp_path / "committed_progress.json")
    bench.load_progress(tmp_path / "s", ["01"], resume=False)
    import json
    (tmp_path / "s" / bench.PROGRESS).write_text(json.dumps({"only": ["01"], "sections": [],
                                                             "pieces": [], "keys": []}))
    with pytest.raises(SystemExit, match="not --only 02"):
        bench.load_progress(tmp_path / "s", ["02"], resume=True)


def test_a_resume_in_the_same_checkout_keeps_the_committed_note(bench, tmp_path, monkeypatch):
    import json

    monkeypatch.setattr(bench, "COMMITTED_PROGRESS", tmp_path / "committed_progress.json")
    scratch = tmp_path / "s"
    bench.load_progress(scratch, [], resume=False)
    (scratch / bench.PROGRESS).write_text(json.dumps({"only": [], "sections": [],
                                                      "pieces": [], "keys": []}))
    bench.COMMITTED_PROGRESS.write_text(json.dumps({"note": "01 on an AMD EPYC, 16:33"}))

    resumed = bench.load_progress(scratch, [], resume=True)
    bench.save_progress(scratch, resumed)

    assert json.loads(bench.COMMITTED_PROGRESS.read_text())["note"] == "01 on an AMD EPYC, 16:33"
    assert "note" not in bench.load_progress(scratch, [], resume=False)  # from nothing: no note


def test_the_memory_tree_finds_processes_a_thread_started(bench):
    import subprocess
    import threading

    started, checked = [], threading.Event()

    def start_and_stay():  # a thread's children are listed under it only while it lives
        started.append(subprocess.Popen(["sleep", "30"]))
        checked.wait(30)

    thread = threading.Thread(target=start_and_stay)
    thread.start()
    try:
        while not started:
            threading.Event().wait(0.01)
        assert started[0].pid in bench._children(os.getpid())
    finally:
        checked.set()
        thread.join()
        started[0].kill()
        started[0].wait()


def test_a_fresh_clone_resumes_from_the_committed_progress_and_store(bench, tmp_path, monkeypatch):
    import json

    committed, scratch = tmp_path / "results", tmp_path / "scratch"
    monkeypatch.setattr(bench, "COMMITTED_PROGRESS", tmp_path / "report_progress.json")
    (committed / "a").mkdir(parents=True)
    (committed / "a" / "metrics.json").write_text("{}")
    (committed / "b").mkdir()  # committed, but trained by no measured section
    progress = {"only": [], "sections": [{"section": "01_baseline"}], "pieces": [], "keys": ["a"]}
    bench.COMMITTED_PROGRESS.write_text(json.dumps(progress))

    resumed = bench.load_progress(scratch, [], resume=True, committed=committed)

    assert resumed["sections"] == progress["sections"]
    assert sorted(p.name for p in (scratch / "results").iterdir()) == ["a"]
    progress["keys"].append("gone")
    bench.COMMITTED_PROGRESS.write_text(json.dumps(progress))
    with pytest.raises(SystemExit, match="1 runs that .* does not hold"):
        bench.load_progress(tmp_path / "other", [], resume=True, committed=committed)


def test_the_progress_table_says_what_is_measured_and_what_is_not(bench):
    row = {"section": "01_baseline", "seconds": 130.0, "runs_trained": 3, "training_seconds": 165.0,
           "peak_pss_gib": None, "ours_seconds_per_epoch": 1.4}
    md = bench.progress_table({"sections": [row], "note": "measured on test CPU"},
                              ["02_architecture"])
    assert "| 01_baseline | 2 min 10 s | 3 | 2 min 45 s | not measured | 1.40 | 1 min 05 s |" in md
    assert "(1 min 05 s scaled to a CPU where ours takes 0.7 s per epoch)" in md
    assert "not yet measured: 02_architecture" in md and "measured on test CPU" in md
    done = bench.progress_table({"sections": [row]}, [])
    assert "every section is measured" in done and "RESUME" not in done


def test_sections_scale_to_the_goals_cpu_only_when_each_ones_speed_is_known(bench):
    rows = [{"seconds": 100.0, "ours_seconds_per_epoch": 1.4}, {"seconds": 60.0, "ours_seconds_per_epoch": 0.7}]
    assert bench.scaled(rows) == pytest.approx(50.0 + 60.0)
    assert bench.scaled(rows + [{"seconds": 10.0}]) is None


def test_retime_takes_only_the_timings_of_runs_that_computed_the_same(bench, tmp_path):
    import json

    here, committed = tmp_path / "here", tmp_path / "committed"
    for root, seconds in ((here, 1.0), (committed, 9.0)):
        _history(root, "same", [2.0, 1.5], [2.1, 1.6])
        _history(root, "other", [2.0, 1.5], [2.1, 1.6])
        for key in ("same", "other"):
            metrics = {"wall_seconds": seconds, "val_accuracy": 0.5, "status": "ok"}
            (root / key / "metrics.json").write_text(json.dumps(metrics))
    _history(here, "new", [2.0], [2.1])
    (here / "new" / "metrics.json").write_text("{}")
    (here / "other" / "history.csv").write_text("epoch,loss,val_loss\n1,2.0,2.1\n2,1.4,1.6\n")

    done, kept = bench.retime(here, committed)

    assert (done, kept) == (["same"], ["other"])
    assert json.loads((committed / "same" / "metrics.json").read_text())["wall_seconds"] == 1.0
    assert json.loads((committed / "other" / "metrics.json").read_text())["wall_seconds"] == 9.0
    assert not (committed / "new").exists()  # only committed runs are retimed


def test_only_the_measured_sections_whose_summaries_are_missing_are_re_rendered(
        bench, tmp_path, monkeypatch):
    (tmp_path / "reports" / "summaries").mkdir(parents=True)
    (tmp_path / "reports" / "summaries" / "01_baseline.json").write_text("{}")
    rendered = []
    monkeypatch.setattr(bench, "render", lambda env, only, log: rendered.append(only) or {"exit": 0})

    bench.restore_summaries({}, tmp_path, ["01_baseline", "02_architecture"])
    assert rendered == [["02_architecture"]]

    monkeypatch.setattr(bench, "render", lambda env, only, log: {"exit": 1})
    with pytest.raises(SystemExit, match="re-rendering 02_architecture from stored records failed"):
        bench.restore_summaries({}, tmp_path, ["01_baseline", "02_architecture"])


def test_a_section_cut_off_after_a_checkpoint_goes_on_and_sums_its_pieces(bench, tmp_path, monkeypatch):
    """A section longer than a session: its first render saves a checkpoint and is cut
    off; the resume keeps the runs stored by then, retrains the rest, and the section's
    time is both pieces', each scaled by the speed of ours where it ran."""
    import json

    monkeypatch.setattr(bench, "COMMITTED_PROGRESS", tmp_path / "committed_progress.json")
    monkeypatch.setattr(bench, "notebooks", lambda only: ["06_recipe"])
    monkeypatch.setattr(bench, "restore_summaries", lambda env, scratch, done: None)
    scratch = tmp_path / "scratch"
    results = scratch / "results"

    def store(key, seconds):
        (results / key).mkdir(parents=True)
        (results / key / "metrics.json").write_text(json.dumps({"wall_seconds": seconds}))

    def cut_off(env, only, log, checkpoint=None):
        store("a", 100.0)
        stored = time.time() - 500  # "a" was stored 100 s into the piece
        os.utime(results / "a" / "metrics.json", (stored, stored))
        checkpoint(600.0, [(0.0, 2.0, 2.5, 3)])  # a minute's tick: 10 minutes in
        store("late", 50.0)  # stored after the last checkpoint, then the session ended
        (scratch / "runs" / "late").mkdir(parents=True)
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "render", cut_off)
    monkeypatch.setattr(bench, "ours_seconds_per_epoch", lambda: 3.0)
    progress = bench.load_progress(scratch, [], resume=False)
    with pytest.raises(KeyboardInterrupt):
        bench.measure_first({}, scratch, progress, [])
    saved = json.loads(bench.COMMITTED_PROGRESS.read_text())
    assert saved["partial"]["keys"] == ["a"] and saved["sections"] == []
    assert "In progress: 06_recipe, cut off after 10 min 00 s in 1 piece(s) with 1 of its runs" \
        in bench.progress_table(saved, ["06_recipe"])

    def goes_on(env, only, log, checkpoint=None):
        assert sorted(p.name for p in results.iterdir()) == ["a"]  # "late" trains again
        assert not (scratch / "runs" / "late").exists()
        store("late", 60.0)
        store("b", 40.0)
        return {"exit": 0, "start": 0.0, "end": 1.0, "sections": [], "command": "report",
                "memory": [(0.0, 3.0, 3.5, 4)]}

    monkeypatch.setattr(bench, "render", goes_on)
    monkeypatch.setattr(bench, "ours_seconds_per_epoch", lambda: 1.5)  # another session's CPU
    monkeypatch.setattr(bench, "per_section", lambda run, res, reports: [
        {"section": "06_recipe", "seconds": 300.0, "status": "ok", "runs_trained": 2,
         "training_seconds": 100.0, "peak_pss_gib": 3.0, "peak_rss_gib": 3.5}])
    resumed = bench.load_progress(scratch, [], resume=True)
    bench.measure_first({}, scratch, resumed, [])

    saved = json.loads((scratch / bench.PROGRESS).read_text())
    assert "partial" not in saved
    (row,) = saved["sections"]
    # The first piece counts up to its last stored record: the 500 s after it went to runs
    # still training at the cut, which trained again in the second piece.
    assert row["seconds"] == pytest.approx(400.0, abs=1) and row["lost_at_cuts_seconds"] == \
        pytest.approx(500.0, abs=1)
    assert row["runs_trained"] == 3 and row["training_seconds"] == 200.0
    assert (row["peak_pss_gib"], row["peak_rss_gib"]) == (3.0, 3.5)
    # 100 s at 3.0 s/epoch and 300 s at 1.5 scale to 0.7 × (33.3 + 200) s: as each piece would.
    assert bench.scaled([row]) == pytest.approx(0.7 * (100 / 3 + 200), abs=1)
    assert [p["wall"] for p in saved["pieces"]] == [600.0, 1.0]
    assert saved["keys"] == ["a", "b", "late"]
    assert "06_recipe was measured in 2 pieces" in bench.progress_table(saved, [])
    assert "8 min 20 s of it lost at the cut" in bench.progress_table(saved, [])


def test_every_calls_until_done(bench):
    import threading
    import time

    calls, enough = [], threading.Event()
    ticks = bench.Every(0.01, lambda: calls.append(1) or (len(calls) >= 3 and enough.set()))
    ticks.start()
    assert enough.wait(5)
    ticks.done.set()
    ticks.join(5)
    seen = len(calls)
    time.sleep(0.05)
    assert not ticks.is_alive() and len(calls) == seen
