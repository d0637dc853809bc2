"""TensorFlow and Keras, imported once and quietly.

TF 2.21 writes start-up lines (oneDNN notice, CUDA probing) straight to file
descriptor 2, ignoring TF_CPP_MIN_LOG_LEVEL, and Jupyter copies them into
every notebook. Import errors still raise as usual; only that chatter goes.
"""

import contextlib
import os
import sys


@contextlib.contextmanager
def _quiet_stderr():
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


with _quiet_stderr():
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices()  # the CUDA probe logs here, once

# Each run builds a new model on purpose: its new tf.function is not a retracing problem.
tf.get_logger().setLevel("ERROR")

__all__ = ["keras", "tf"]
