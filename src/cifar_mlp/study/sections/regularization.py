"""03 · BatchNorm, dropout, L2, initialization and batch size, one at a time from 3×128."""

from dataclasses import dataclass

import pandas as pd

from cifar_mlp.config import BATCHNORM, INITIALIZERS
from cifar_mlp.study.base import Experiment, Study, config_value, each, knob, one_of
from cifar_mlp.study.sections import regularization_results

# Where dropout goes: on the 3,072 pixels, or after every hidden activation.
DROPOUT_KEY = {"input": "input_dropout", "hidden": "dropout"}
NO_DROPOUT = "no dropout"
METRIC = regularization_results.METRIC  # the rule every table, curve and choice of 03 scores by


@dataclass(frozen=True, kw_only=True)
class Regularization(Study):
    SECTION = "03_regularization"
    PROFILES = {
        # 15 epochs: long enough for the baseline to overfit.
        "full": dict(seeds=(0, 1, 2, 3, 4), epochs=15, batchnorms=("off", "before", "after"),
                     dropout_rates=(0.0, 0.1, 0.2, 0.3, 0.5), dropout_positions=("input", "hidden"),
                     l2s=(0.0, 1e-5, 5e-5, 1e-4, 1e-3), initializers=("glorot_uniform", "he_normal"),
                     batch_sizes=(32, 64, 128, 256)),
        "smoke": dict(batchnorms=("off", "before", "after"), dropout_rates=(0.0, 0.2),
                      dropout_positions=("input", "hidden"), l2s=(0.0, 1e-4),
                      initializers=("glorot_uniform", "he_normal"), batch_sizes=(32, 128)),
    }

    batchnorms: tuple[str, ...] = knob(each(one_of(BATCHNORM)), "BatchNorm off, before or after")
    dropout_rates: tuple[float, ...] = knob(each(config_value("dropout")), "fractions dropped")
    dropout_positions: tuple[str, ...] = knob(each(one_of(DROPOUT_KEY)), "input or hidden")
    l2s: tuple[float, ...] = knob(each(config_value("l2")), "L2 strengths on every kernel")
    initializers: tuple[str, ...] = knob(each(one_of(INITIALIZERS)), "kernel initializers")
    batch_sizes: tuple[int, ...] = knob(each(config_value("batch_size")), "batch sizes")

    def experiments(self) -> dict[str, Experiment]:
        base = self.base()

        def family(variants):
            named = {name: c for name, c in variants.items()}
            reference = next((n for n, c in named.items() if c == base), None)
            return Experiment(named, self.seeds, reference=reference)

        return {
            "batchnorm": family({f"BN {bn}": self.base(batchnorm=bn) for bn in self.batchnorms}),
            # Rate 0 is the same model in both positions: one baseline, named as such.
            "dropout": family({f"{pos} {rate:g}" if rate else NO_DROPOUT: self.base(**{DROPOUT_KEY[pos]: rate})
                               for pos in self.dropout_positions for rate in self.dropout_rates}),
            "l2": family({f"L2 {l2:g}": self.base(l2=l2) for l2 in self.l2s}),
            "initializer": family({i: self.base(initializer=i) for i in self.initializers}),
            "batch_size": family({f"batch {b}": self.base(batch_size=b) for b in self.batch_sizes}),
        }

    def findings(self, df: pd.DataFrame, unique: pd.DataFrame) -> dict:
        """What 03 concludes from its runs: `df` every sweep's, `unique` each run once."""
        return regularization_results.findings(self.experiments(), df, unique, self.batch_sizes, self.epochs)
