"""01 · How a plain 3×128 MLP learns, and where it overfits."""

from dataclasses import dataclass

from cifar_mlp.study.base import Experiment, Study


@dataclass(frozen=True, kw_only=True)
class Baseline(Study):
    SECTION = "01_baseline"
    PROFILES = {"full": dict(seeds=(0, 1, 2), epochs=30)}  # 30: well past the best epoch

    def experiments(self) -> dict[str, Experiment]:
        # Every value is the config's default: 3×128 ReLU, Glorot, Adam 1e-3, batch 128.
        return {"baseline": Experiment({"baseline": self.base()}, self.seeds)}
