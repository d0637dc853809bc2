"""Identifiers said in words, code left as it is."""

from cifar_mlp.report import words


def test_identifiers_become_words_and_code_keeps_them():
    assert words.plain("sgd_momentum, warmup_cosine: best_val_accuracy") == \
        "SGD with momentum, warmup + cosine: best validation accuracy"
    assert words.plain("seconds_per_epoch of he_normal") == "seconds per epoch of He normal"
    kept = "see `early_stop_restore` and\n```python\nAdam(beta_1=0.9)\n```\n<code>beta_1</code>"
    assert words.plain(kept) == kept
    assert words.plain('<td class="col_heading">reduce_lr</td>') == '<td class="col_heading">ReduceLROnPlateau</td>'


def test_every_config_field_with_an_underscore_is_listed():
    import dataclasses

    from cifar_mlp.config import RunConfig
    fields = {f.name for f in dataclasses.fields(RunConfig) if "_" in f.name}
    assert fields <= set(words.identifiers())
