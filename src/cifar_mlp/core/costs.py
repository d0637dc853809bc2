"""What a run costs before it trains: its weights, its work, a rough time.

Used to announce a notebook's plan and to start the longest runs first.
"""

from __future__ import annotations

from cifar_mlp.config import RunConfig

# Seconds per epoch of the reference 3×128 MLP (427,658 weights, batch 128) on
# 45,000 images on the study's 2-core CPU. Only used to announce a plan's cost.
REFERENCE_SECONDS_PER_EPOCH = 1.1
REFERENCE_WEIGHTS = 427_658


def weight_count(config: RunConfig) -> int:
    """Weights and biases of the config's Dense layers (what an MLP's training time scales with)."""
    sizes = (config.filters[-1] if config.filters else 32 * 32 * 3, *config.widths, 10)
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))


def multiply_adds(config: RunConfig) -> int:
    """Multiply-adds of one image's forward pass: the Dense weights, plus every
    conv weight used once per pixel of its stage (32×32, then 16×16, ...)."""
    convs, channels, side = 0, 3, 32
    for width in config.filters:
        convs += side * side * 9 * (channels * width + width * width)
        channels, side = width, side // 2
    return weight_count(config) + convs


def estimated_seconds(config: RunConfig) -> float:
    """A rough training time: the reference's, scaled by work, images and batch size."""
    images = config.train_size or 50000 - config.val_size
    size = max(multiply_adds(config) / REFERENCE_WEIGHTS, 0.7)  # small nets keep per-step costs
    small_batch = max(1.0, 128 / config.batch_size) ** 0.8  # batch 32 is about 3× slower
    return REFERENCE_SECONDS_PER_EPOCH * images / 45000 * size * small_batch * config.epochs
