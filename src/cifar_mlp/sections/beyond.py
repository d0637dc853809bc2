"""07 · The best MLP in ten minutes of CPU, and a compact CNN for contrast."""

from dataclasses import dataclass

from cifar_mlp.config import AUGMENTATIONS, REFERENCE_RECIPE
from cifar_mlp.sections.recipe import Recipe
from cifar_mlp.study import (Experiment, Study, config_value, each, knob, number, one_of,
                             seed_list, whole)


@dataclass(frozen=True, kw_only=True)
class Beyond(Study):
    SECTION = "07_beyond"
    PROFILES = {
        # 3×1024 with flips and shifts takes about 11 s per epoch at batch 256 on the 2-core
        # CPU of benchmarks/results: 40 epochs fit the budget; the 16-32-64 CNN 16.
        "full": dict(seeds=(0, 1, 2), epochs=40, budget_minutes=10, mlp_widths=(1024,) * 3,
                     mlp_batch_size=256, augment="flip_shift", label_smoothing=0.1,
                     cnn_filters=(16, 32, 64), cnn_epochs=16, cnn_seeds=(0,)),
        "smoke": dict(seeds=(0, 1), budget_minutes=10, mlp_widths=(256,) * 3, mlp_batch_size=256,
                      augment="flip_shift", label_smoothing=0.1, cnn_filters=(8, 16), cnn_epochs=4,
                      cnn_seeds=(0,)),
    }

    budget_minutes: float = knob(number(0), "the most training time a run may take")
    mlp_widths: tuple[int, ...] = knob(each(whole(1, 16384), distinct=False), "the wide MLP's hidden layers")
    mlp_batch_size: int = knob(config_value("batch_size"), "its batch")
    augment: str = knob(one_of(AUGMENTATIONS), "flips, or flips and shifts of up to 4 pixels")
    label_smoothing: float = knob(config_value("label_smoothing"), "share of each target spread")
    cnn_filters: tuple[int, ...] = knob(each(whole(1, 1024)), "channels of the CNN's conv stages")
    cnn_epochs: int = knob(whole(1, 1000), "the CNN's epochs in the budget")
    cnn_seeds: tuple[int, ...] = knob(seed_list, "the CNN's seeds")

    def experiments(self) -> dict[str, Experiment]:
        reference = Recipe.at(self.profile, self.results_dir).recipes({}).variants["reference"]
        wide = self.base(**{**REFERENCE_RECIPE, "widths": self.mlp_widths,
                            "batch_size": self.mlp_batch_size, "early_stopping": False},
                         augment=self.augment, label_smoothing=self.label_smoothing, test=True)
        cnn = wide.replace(filters=self.cnn_filters, widths=[128], epochs=self.cnn_epochs,
                           batch_size=128)
        widths = "×".join(map(str, self.mlp_widths)) if len(set(self.mlp_widths)) > 1 \
            else f"{len(self.mlp_widths)}×{self.mlp_widths[0]}"
        return {"mlps": Experiment({"reference MLP 3×128": reference, f"wide MLP {widths}": wide},
                                   self.seeds, reference="reference MLP 3×128"),
                "cnn": Experiment({f"CNN {'-'.join(map(str, self.cnn_filters))}": cnn}, self.cnn_seeds)}
