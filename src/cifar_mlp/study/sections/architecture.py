"""02 · Depth, width and activation of the MLP, one at a time from 3×128 ReLU."""

from dataclasses import dataclass

import pandas as pd

from cifar_mlp.config import ACTIVATIONS
from cifar_mlp.study.base import Experiment, Study, each, knob, one_of, whole
from cifar_mlp.study.sections import architecture_results


@dataclass(frozen=True, kw_only=True)
class Architecture(Study):
    SECTION = "02_architecture_activations"
    PROFILES = {
        # widths: up to 1024. The 3×2048 was the section's costliest variant (2.8× the
        # 3×1024's weights), past the peak width and cut off by its epochs like the 3×1024.
        "full": dict(seeds=(0, 1, 2, 3, 4), epochs=12, depths=(1, 2, 3, 4, 5),
                     widths=(64, 128, 256, 512, 1024), wide_from=1024, wide_epochs=5,
                     grid_depths=(1, 2, 3, 4), grid_widths=(64, 128, 256),
                     activations=("relu", "gelu", "tanh")),
        "smoke": dict(depths=(1, 3), widths=(64, 128, 256), wide_from=256, wide_epochs=2,
                      grid_depths=(1, 3), grid_widths=(64, 128), activations=("relu", "gelu", "tanh")),
    }

    depths: tuple[int, ...] = knob(each(whole(1, 20)), "hidden layers compared at width 128")
    widths: tuple[int, ...] = knob(each(whole(1, 16384)), "units per layer compared at depth 3")
    wide_from: int = knob(whole(1), "widths from here on get three seeds and wide_epochs")
    wide_epochs: int = knob(whole(1, 1000), "epochs of the wide nets")
    grid_depths: tuple[int, ...] = knob(each(whole(1, 20)), "depth × width grid rows (three seeds)")
    grid_widths: tuple[int, ...] = knob(each(whole(1, 16384)), "depth × width grid columns")
    activations: tuple[str, ...] = knob(each(one_of(ACTIVATIONS)), "activations at 3×128")

    def experiments(self) -> dict[str, Experiment]:
        narrow = [w for w in self.widths if w < self.wide_from]
        wide = [w for w in self.widths if w >= self.wide_from]
        base = self.base()

        def judged(variants, seeds):
            # Each variant is judged against the 3×128 ReLU baseline, when the sweep holds it.
            return Experiment(variants, seeds, reference=next(
                (name for name, config in variants.items() if config == base), None))

        found = {
            "depth": judged({f"depth {d}": self.base(widths=[128] * d) for d in self.depths},
                            self.seeds),
            "width": judged({f"width {w}": self.base(widths=[w] * 3) for w in narrow}, self.seeds),
            # Wide nets cost up to 34× the 3×128: three seeds, fewer epochs, shown apart.
            "wide": Experiment({f"width {w}": self.base(widths=[w] * 3, epochs=self.wide_epochs)
                                for w in wide}, self.seeds[:3]),
            # A map, not a decision: three seeds, the fewest any variant shown gets.
            "grid": judged({f"{d}×{w}": self.base(widths=[w] * d)
                            for d in self.grid_depths for w in self.grid_widths}, self.seeds[:3]),
            "activation": judged({a: self.base(activation=a) for a in self.activations}, self.seeds),
        }
        return {name: e for name, e in found.items() if e.variants}

    def findings(self, frames: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame],
                 early: pd.DataFrame) -> dict:
        """What 02 concludes, from the runs of each experiment (`frames`), the overview
        `tables` and every width scored within the wide nets' budget (`early`)."""
        return architecture_results.findings(self.experiments(), frames, tables, early,
                                             self.wide_from, self.wide_epochs)
