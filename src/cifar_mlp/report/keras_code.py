"""A run config as plain Keras a reader can copy: the model, `compile`, `fit`.

The pages' "Use this recipe" block and the portfolio entry show it. Generated from
the config, never typed, so it is the recipe the study measured; a test runs it and
checks it builds the library's layers and weight count. It trains the same model in
the same way, through `model.fit` instead of the library's faster loop; the warmup
starts from 0 instead of a first step's share of the rate.
"""

from __future__ import annotations

from cifar_mlp import optimizers
from cifar_mlp.config import RunConfig


def _block(width: str, act: str, bn: str, rate: float, l2: float, initializer: str) -> list[str]:
    """One hidden block: Dense → [BN before] → activation → [dropout] → [BN after]."""
    l2 = f", kernel_regularizer=keras.regularizers.L2({l2:g})" if l2 else ""
    init = "" if initializer == "glorot_uniform" else f', kernel_initializer="{initializer}"'
    bias = ", use_bias=False" if bn == "before" else ""  # batch norm's shift replaces the bias
    return ([f"keras.layers.Dense({width}{bias}{init}{l2})"]
            + (["keras.layers.BatchNormalization()"] if bn == "before" else [])
            + [f'keras.layers.Activation("{act}")']
            + ([f"keras.layers.Dropout({rate:g})"] if rate else [])
            + (["keras.layers.BatchNormalization()"] if bn == "after" else []))


def _model(config: RunConfig) -> str:
    """The Sequential model: a loop over the widths when every hidden layer is alike."""
    per_layer = list(zip(config.per_layer("activation"), config.per_layer("batchnorm"),
                         config.per_layer("dropout")))
    if len(set(per_layer)) == 1:
        act, bn, rate = per_layer[0]
        body = "\n".join(f"    model.add({layer})" for layer in
                         _block("width", act, bn, rate, config.l2, config.initializer))
        return (f"model = keras.Sequential([keras.Input((3072,))])\n"
                f"for width in {tuple(config.widths)}:\n{body}\n"
                'model.add(keras.layers.Dense(10, activation="softmax"))')
    layers = [layer for width, (act, bn, rate) in zip(config.widths, per_layer)
              for layer in _block(str(width), act, bn, rate, config.l2, config.initializer)]
    return ("model = keras.Sequential([\n    keras.Input((3072,)),\n"
            + "".join(f"    {layer},\n" for layer in layers)
            + '    keras.layers.Dense(10, activation="softmax"),\n])')


SCHEDULES = {
    "constant": lambda c: f"{c.lr:g}",
    "cosine": lambda c: f"keras.optimizers.schedules.CosineDecay({c.lr:g}, decay_steps=EPOCHS * steps, "
                        f"alpha={c.final_lr_fraction:g})",
    "warmup_cosine": lambda c: ("keras.optimizers.schedules.CosineDecay(\n"
                                f"    0.0, warmup_target={c.lr:g}, warmup_steps={c.warmup_epochs} * steps,\n"
                                f"    decay_steps=(EPOCHS - {c.warmup_epochs}) * steps, "
                                f"alpha={c.final_lr_fraction:g})"),
    "step": lambda c: (f"keras.optimizers.schedules.ExponentialDecay({c.lr:g}, decay_steps={c.step_epochs} * steps, "
                       f"decay_rate={c.step_factor:g}, staircase=True)"),
}
def _optimizer(config: RunConfig) -> str:
    """Its Keras class with the config's own keys for it, where they differ from the defaults."""
    spec = optimizers.OPTIMIZERS[config.optimizer]
    default = RunConfig()
    own = "".join(f", {key}={getattr(config, key)!r}" for key in spec.keys
                  if getattr(config, key) != getattr(default, key))
    return f"keras.optimizers.{spec.keras}(learning_rate=schedule{own})"


def _callbacks(config: RunConfig) -> list[str]:
    found = []
    if config.early_stopping:
        found.append(f'keras.callbacks.EarlyStopping(monitor="{config.es_monitor}", '
                     f"patience={config.es_patience}, restore_best_weights={config.es_restore_best}),")
    if config.reduce_lr:
        found.append(f'keras.callbacks.ReduceLROnPlateau(monitor="{config.rlr_monitor}", '
                     f"factor={config.rlr_factor:g}, patience={config.rlr_patience}),")
    if config.checkpoint:
        found.append(f'keras.callbacks.ModelCheckpoint("best.weights.h5", monitor="{config.ckpt_monitor}", '
                     "save_best_only=True, save_weights_only=True),")
    return found


def source(config: RunConfig) -> str:
    """Plain Keras for `config`, given x_train, y_train, x_val, y_val as Keras' cifar10 loads them."""
    if config.filters or config.augment != "none" or config.input_dropout:
        raise ValueError("keras_code writes the plain MLP only: no conv stages, augmentation "
                         f"or input dropout (got filters={config.filters}, augment={config.augment!r}, "
                         f"input_dropout={config.input_dropout})")
    loss = (f"keras.losses.CategoricalCrossentropy(label_smoothing={config.label_smoothing:g})"
            if config.label_smoothing else '"sparse_categorical_crossentropy"')
    labels = ("y_train, y_val = keras.utils.to_categorical(y_train, 10), keras.utils.to_categorical(y_val, 10)\n"
              if config.label_smoothing else "")
    callbacks = "".join(f"\n    {c}" for c in _callbacks(config))
    callbacks = f"[{callbacks}\n]" if callbacks else "[]"
    return f'''import keras

EPOCHS, BATCH = {config.epochs}, {config.batch_size}
# Flatten the 32×32×3 images and scale the pixels to [-1, 1].
x_train = x_train.reshape(len(x_train), -1).astype("float32") / 127.5 - 1
x_val = x_val.reshape(len(x_val), -1).astype("float32") / 127.5 - 1
{labels}steps = -(-len(x_train) // BATCH)  # batches per epoch

{_model(config)}
schedule = {SCHEDULES[config.schedule](config)}
model.compile(optimizer={_optimizer(config)},
              loss={loss}, metrics=["accuracy"])
callbacks = {callbacks}
model.fit(x_train, y_train, batch_size=BATCH, epochs=EPOCHS,
          validation_data=(x_val, y_val), callbacks=callbacks)
'''
