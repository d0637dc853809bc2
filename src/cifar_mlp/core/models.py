"""Build the model a RunConfig describes: the MLP, or the compact CNN of the last section."""

from __future__ import annotations

from cifar_mlp.config import RunConfig
from cifar_mlp.core.backend import keras, tf
from cifar_mlp.core.data import INPUT_DIM, NUM_CLASSES
from cifar_mlp.core.tables import lookup

# config.activation → Keras' function of that name (for `keras.layers.Activation`).
ACTIVATIONS = {name: keras.activations.get(name) for name in (
    "relu", "gelu", "tanh", "elu", "selu", "swish", "silu", "sigmoid", "leaky_relu", "mish",
    "softplus", "linear")}
# config.initializer → the Keras initializer class; each layer gets its own instance,
# made where Keras would make it from the name, so each draws the same seed as before.
INITIALIZERS = {"glorot_uniform": keras.initializers.GlorotUniform,
                "glorot_normal": keras.initializers.GlorotNormal,
                "he_uniform": keras.initializers.HeUniform,
                "he_normal": keras.initializers.HeNormal,
                "lecun_uniform": keras.initializers.LecunUniform,
                "lecun_normal": keras.initializers.LecunNormal,
                "orthogonal": keras.initializers.Orthogonal}


def activation(name: str, layer_name: str) -> keras.layers.Activation:
    return keras.layers.Activation(lookup(ACTIVATIONS, name, "activation"), name=layer_name)


def initializer(name: str) -> keras.initializers.Initializer:
    return lookup(INITIALIZERS, name, "initializer")()


class Dropout(keras.layers.Dropout):
    """Keras' Dropout, its mask drawn with the Philox generator.

    Under XLA on CPU, Keras' dropout lets TensorFlow pick the generator, and
    the one it picks cost ~0.25 µs a number here: 35 s an epoch for dropout on
    the 3,072 inputs. Philox draws the same distribution ~300× faster.
    Same semantics: inverted dropout, in training only, seeded by the layer's
    SeedGenerator (so keras.utils.set_random_seed makes runs repeat).
    """

    def call(self, inputs, training=False):
        if not (training and self.rate > 0):
            return inputs
        seed = tf.cast(tf.math.floormod(self.seed_generator.next(), tf.int32.max - 1), tf.int32)
        return tf.nn.experimental.stateless_dropout(inputs, self.rate, seed=seed, rng_alg="philox")


def build_model(config: RunConfig) -> keras.Sequential:
    """Dense blocks on the flattened image (after conv stages, if any), then a 10-way softmax.

    A hidden block is Dense → [BN if "before"] → activation → [Dropout] →
    [BN if "after"]. BN "after" follows the dropout, as in the model of the
    study we reproduce, so its exact 5,955,466-parameter MLP can be built.
    With `filters`, the blocks become the head of a small CNN (`conv_stages`).
    """
    regularizer = keras.regularizers.L2(config.l2) if config.l2 else None
    lookup(INITIALIZERS, config.initializer, "initializer")  # an unknown name fails before any layer

    def dense(width, **options):
        return keras.layers.Dense(width, kernel_initializer=initializer(config.initializer),
                                  kernel_regularizer=regularizer, **options)

    layers: list[keras.Layer] = [keras.Input((INPUT_DIM,), name="pixels")]
    if config.input_dropout:
        layers.append(Dropout(config.input_dropout, name="input_dropout"))
    if config.filters:
        layers += conv_stages(config.filters, lambda: dict(
            kernel_initializer=initializer(config.initializer), kernel_regularizer=regularizer))
    blocks = zip(config.widths, config.per_layer("activation"),
                 config.per_layer("batchnorm"), config.per_layer("dropout"))
    for i, (width, act, bn, rate) in enumerate(blocks, 1):
        # A BN right after the Dense makes its bias redundant: BN's beta shifts instead.
        layers.append(dense(width, use_bias=bn != "before", name=f"dense_{i}"))
        if bn == "before":
            layers.append(keras.layers.BatchNormalization(name=f"bn_{i}"))
        layers.append(activation(act, f"{act}_{i}"))
        if rate:
            layers.append(Dropout(rate, name=f"dropout_{i}"))
        if bn == "after":
            layers.append(keras.layers.BatchNormalization(name=f"bn_{i}"))
    layers.append(dense(NUM_CLASSES, activation="softmax", name="softmax"))
    return keras.Sequential(layers, name="cnn" if config.filters else "mlp")


def conv_stages(filters, weight_options) -> list[keras.Layer]:
    """The compact CNN the study ends with: per stage two 3×3 convs, each
    batch-normalized and ReLU'd, then 2×2 max pooling; global average pooling
    at the end hands one number per channel to the dense head.
    `weight_options()` gives each conv its initializer and regularizer."""
    layers = [keras.layers.Reshape((32, 32, 3), name="image")]
    for stage, width in enumerate(filters, 1):
        for j in (1, 2):
            layers += [keras.layers.Conv2D(width, 3, padding="same", use_bias=False,
                                           name=f"conv_{stage}_{j}", **weight_options()),
                       keras.layers.BatchNormalization(name=f"conv_bn_{stage}_{j}"),
                       keras.layers.Activation("relu", name=f"conv_relu_{stage}_{j}")]
        layers.append(keras.layers.MaxPooling2D(2, name=f"pool_{stage}"))
    layers.append(keras.layers.GlobalAveragePooling2D(name="channel_means"))
    return layers


def described(config: RunConfig) -> str:
    """The model in one line, as Keras builds it: its layers in order and its weights.

    "3072 → [Dense 512 → BN → relu → dropout 0.1] ×3 → Dense 10 softmax · 2,108,426 weights".
    Hidden blocks that repeat are written once with their count.
    """
    blocks = []
    for width, act, bn, rate in zip(config.widths, config.per_layer("activation"),
                                    config.per_layer("batchnorm"), config.per_layer("dropout")):
        parts = [f"Dense {width}"] + (["BN"] if bn == "before" else []) + [act] \
            + ([f"dropout {rate:g}"] if rate else []) + (["BN"] if bn == "after" else [])
        block = " → ".join(parts)
        if blocks and blocks[-1][0] == block:
            blocks[-1][1] += 1
        else:
            blocks.append([block, 1])
    hidden = [f"[{b}] ×{n}" if n > 1 else b for b, n in blocks]
    head = [f"{INPUT_DIM}"] + ([f"input dropout {config.input_dropout:g}"] if config.input_dropout else []) \
        + ([f"conv {'-'.join(map(str, config.filters))}"] if config.filters else [])
    weights = build_model(config).count_params()
    return " → ".join(head + hidden + [f"Dense {NUM_CLASSES} softmax"]) + f" · {weights:,} weights"
