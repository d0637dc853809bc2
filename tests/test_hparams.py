"""The HParams export: one TensorBoard session per stored run, with its config and numbers."""

import math

from cifar_mlp.config import RunConfig
from cifar_mlp.runs import hparams, store


def sessions(logdir):
    """{run key: (hparams, scalars)} read back from the event files, as TensorBoard would."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    from cifar_mlp.core.backend import tf

    found = {}
    for run in sorted(p for p in logdir.iterdir() if p.is_dir()):
        events = EventAccumulator(str(run), size_guidance={"tensors": 0})
        events.Reload()
        content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
        info = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
        values = {k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind"))
                  for k, v in info.hparams.items()}
        scalars = {tag: [float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)]
                   for tag in events.Tags()["tensors"] if not tag.startswith("_hparams_")}
        found[run.name] = values, scalars
    return found


def test_every_stored_run_becomes_a_session_with_its_values(store_root, tmp_path):
    history = {"loss": [2.0, 1.5], "accuracy": [0.3, 0.4], "val_loss": [1.9, 1.6],
               "val_accuracy": [0.35, 0.42], "lr": [1e-3, 1e-3], "seconds": [1.0, 1.0]}
    metrics = {"status": "ok", "best_val_accuracy": 0.42, "val_accuracy": 0.42,
               "seconds_per_epoch": 1.0, "params": 1234, "test_accuracy": float("nan")}
    a = store.save(RunConfig(lr=3e-3, widths=(64, 32)), 0, history, metrics)
    b = store.save(RunConfig(optimizer="sgd", momentum=0.9), 1, history, metrics)

    logdir = tmp_path / "hparams"
    (logdir / "stale").mkdir(parents=True)  # a session of a run no longer stored
    assert hparams.export(logdir=logdir) == 2
    found = sessions(logdir)
    assert set(found) == {a.key, b.key}  # the stale one is gone
    values, scalars = found[a.key]
    # The columns are the keys some run changed; this run's own values fill them.
    assert math.isclose(values["lr"], 3e-3) and values["widths"] == "64,32"
    assert values["optimizer"] == "adam" and values["seed"] == 0
    assert math.isclose(scalars["best_val_accuracy"][0], 0.42, rel_tol=1e-6)
    assert "test_accuracy" not in scalars  # NaN: not a number to plot
    assert [round(v, 2) for v in scalars["epoch/val_accuracy"]] == [0.35, 0.42]
    assert found[b.key][0]["optimizer"] == "sgd" and math.isclose(found[b.key][0]["momentum"], 0.9)
