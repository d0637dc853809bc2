"""A run's key is its identity: every committed record must keep the key it is stored under."""

import json
from pathlib import Path

from cifar_mlp.config import RunConfig
from cifar_mlp.runs import store

COMMITTED = Path(__file__).resolve().parents[1] / "results"
RECORDS = sorted(p.parent for p in COMMITTED.glob("[!.]*/config.json"))


def test_every_committed_record_keeps_its_key():
    assert RECORDS, f"no records under {COMMITTED}"
    moved = []
    for folder in RECORDS:
        meta = json.loads((folder / "config.json").read_text())
        key = store.run_key(RunConfig.from_dict(meta["config"]), meta["seed"])
        if key != folder.name:
            moved.append(f"{folder.name} -> {key}")
    assert not moved, f"{len(moved)} of {len(RECORDS)} records would get another key: {moved[:5]}"


def test_a_sequence_given_as_a_list_gets_the_tuples_key():
    as_list, as_tuple = RunConfig(widths=[128] * 3), RunConfig(widths=(128, 128, 128))
    assert store.run_key(as_list, 0) == store.run_key(as_tuple, 0)
    assert store.run_key(RunConfig(widths=[64]), 0) != store.run_key(RunConfig(widths=(64, 64)), 0)


def test_an_integer_and_the_equal_float_get_the_same_key():
    assert RunConfig(weight_decay=0) == RunConfig(weight_decay=0.0)
    assert store.run_key(RunConfig(weight_decay=0), 0) == store.run_key(RunConfig(weight_decay=0.0), 0)
    assert store.run_key(RunConfig(lr=1), 0) == store.run_key(RunConfig(lr=1.0), 0)
