from cifar_mlp.config import RunConfig
from cifar_mlp.core.models import build_model


def layer_summary(model):
    return [(type(l).__name__, getattr(l, "units", None)) for l in model.layers]


def test_reproduces_the_studys_5955466_parameter_mlp():
    config = RunConfig(widths=(128, 256, 1024, 2048, 1024, 1024),
                       activation=("relu", "relu", "gelu", "relu", "tanh", "tanh"),
                       batchnorm=("after", "off", "off", "after", "off", "off"),
                       dropout=(0, 0, 0.2, 0.2, 0, 0))
    model = build_model(config)
    assert model.count_params() == 5_955_466
    # Dense 128 relu, BN, Dense 256 relu, Dense 1024 gelu, Dropout 0.2, Dense 2048 relu,
    # Dropout 0.2, BN, Dense 1024 tanh, Dense 1024 tanh, Dense 10 softmax.
    kinds = [type(l).__name__ for l in model.layers]
    assert kinds == ["Dense", "Activation", "BatchNormalization", "Dense", "Activation",
                     "Dense", "Activation", "Dropout", "Dense", "Activation", "Dropout",
                     "BatchNormalization", "Dense", "Activation", "Dense", "Activation", "Dense"]
    activations = [l.activation.__name__ for l in model.layers if type(l).__name__ == "Activation"]
    assert activations == ["relu", "relu", "gelu", "relu", "tanh", "tanh"]


def test_reference_recipe_blocks_put_bn_before_the_activation():
    model = build_model(RunConfig(batchnorm="before", dropout=0.1, input_dropout=0.2, l2=5e-5,
                                initializer="he_normal"))
    kinds = [type(l).__name__ for l in model.layers]
    assert kinds[:5] == ["Dropout", "Dense", "BatchNormalization", "Activation", "Dropout"]
    dense = model.layers[1]
    assert not dense.use_bias  # BN's beta replaces it
    assert type(dense.kernel_initializer).__name__ == "HeNormal"
    assert abs(float(dense.kernel_regularizer.l2) - 5e-5) < 1e-12
    assert model.output_shape == (None, 10)


def test_dropout_draws_keras_own_mask_and_keeps_its_semantics():
    import numpy as np

    from cifar_mlp.core.backend import keras, tf
    from cifar_mlp.core.models import Dropout

    x = tf.ones((256, 3072))
    ours, theirs = Dropout(0.1, seed=3), keras.layers.Dropout(0.1, seed=3)
    for jit in (False, True):  # the stored runs trained under XLA, the report's model.fit in a graph
        a = tf.function(lambda: ours(x, training=True), jit_compile=jit)().numpy()
        b = tf.function(lambda: theirs(x, training=True), jit_compile=jit)().numpy()
        # The same numbers as Keras' Dropout for the same seed, so stored runs still repeat.
        np.testing.assert_array_equal(a, b)
    kept = a != 0
    assert abs(kept.mean() - 0.9) < 0.005  # ~786k draws: the rate is right to ~0.1%
    np.testing.assert_allclose(a[kept], 1 / 0.9, rtol=1e-6)  # inverted dropout: the mean is kept
    second = tf.function(lambda: ours(x, training=True))().numpy()
    assert not np.array_equal(second != 0, kept)  # a fresh mask every call
    np.testing.assert_array_equal(ours(x, training=False).numpy(), x.numpy())  # off at inference


def test_filters_put_a_compact_cnn_before_the_dense_head():
    from cifar_mlp.runs import sweep
    config = RunConfig(filters=(16, 32), widths=(64,), batchnorm="before")
    model = build_model(config)
    convs = [l for l in model.layers if type(l).__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [16, 16, 32, 32]
    assert model.output_shape == (None, 10) and model.name == "cnn"
    # conv weights + 4 conv BNs (γ, β, mean, var) + dense 32→64 (no bias: BN) + its BN + 64→10
    conv = 3 * 3 * (3 * 16 + 16 * 16 + 16 * 32 + 32 * 32)
    bns = 4 * (16 + 16 + 32 + 32) + 4 * 64
    assert model.count_params() == conv + bns + 32 * 64 + 64 * 10 + 10
    # 32×32 pixels for the first stage's convs, 16×16 for the second's; then the head.
    assert sweep.multiply_adds(config) == (32 * 32 * 9 * (3 * 16 + 16 * 16)
                                           + 16 * 16 * 9 * (16 * 32 + 32 * 32)
                                           + 32 * 64 + 64 + 64 * 10 + 10)
    assert build_model(RunConfig()).name == "mlp"
