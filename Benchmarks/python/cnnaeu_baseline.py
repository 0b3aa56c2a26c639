"""Baseline for unmix-bench: CNNAEU in Keras, as the reference notebook (hu_autoencoders,
Method_CNNAEU) builds and trains it, written in our own words from the facts in
shared/ALGORITHMS.md section 8: global-max scaling; random 40x40 patches, their number the
notebook's 250 scaled to the cube (250*H*W*B/(307*307*162), at least 1, as HySUPP does); Conv2D
48 3x3 + LeakyReLU(0.02), BatchNormalization, SpatialDropout2D(0.2), Conv2D R 1x1 + LeakyReLU,
BatchNormalization, SpatialDropout2D, softmax(3x), a non-negative 13x13 Conv2D decoder (no bias,
'same' padding, RandomNormal(0, 0.3) kernels); RMSprop(0.003), batch 15, 320 epochs; the
notebook's loss (arccos of each band's product of the normalised spectra, averaged). BN and
dropout are proper layers here (inference mode for the read-out), like the Swift plugin. Needs
tensorflow-cpu and tf-keras (TF_USE_LEGACY_KERAS=1); prints {median_seconds, sad_mean} for
training + read-out, at most 2 runs.

usage: python3 cnnaeu_baseline.py DATASET_DIR REPEAT
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import bench_common
import tensorflow as tf
import tf_keras as keras


def elementwise_arccos(y_true, y_pred):
    a = tf.math.l2_normalize(y_true, axis=-1)
    b = tf.math.l2_normalize(y_pred, axis=-1)
    return tf.reduce_mean(tf.acos(tf.clip_by_value(a * b, -1 + 1e-7, 1 - 1e-7)))


def build(rows, cols, bands, r):
    def init():
        return keras.initializers.RandomNormal(0.0, 0.3)

    x = keras.Input(shape=(None, None, bands))
    h = keras.layers.Conv2D(48, 3, padding="same", use_bias=False, kernel_initializer=init())(x)
    h = keras.layers.LeakyReLU(0.02)(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.SpatialDropout2D(0.2)(h)
    h = keras.layers.Conv2D(r, 1, padding="same", use_bias=False, kernel_initializer=init())(h)
    h = keras.layers.LeakyReLU(0.02)(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.SpatialDropout2D(0.2)(h)
    abundances = keras.layers.Softmax()(3.0 * h)
    out = keras.layers.Conv2D(bands, 13, padding="same", use_bias=False, kernel_initializer=init(),
                              kernel_constraint=keras.constraints.NonNeg())(abundances)
    model = keras.Model(x, out)
    model.compile(optimizer=keras.optimizers.legacy.RMSprop(learning_rate=0.003), loss=elementwise_arccos)
    return model, keras.Model(x, abundances)


def fit(cube, r, seed):
    rows, cols, bands = cube.shape
    y = cube / cube.max()
    tf.keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    count = max(1, int(250 * rows * cols * bands / (307 * 307 * 162)))
    ph, pw = min(40, rows), min(40, cols)
    tops = rng.integers(0, rows - ph + 1, count)
    lefts = rng.integers(0, cols - pw + 1, count)
    patches = np.stack([y[t:t + ph, l:l + pw] for t, l in zip(tops, lefts)])
    model, encoder = build(rows, cols, bands, r)
    model.fit(patches, patches, batch_size=15, epochs=bench_common.param("epochs"), verbose=0)
    encoder.predict(y[None], verbose=0)
    return model.layers[-1].get_weights()[0].mean(axis=(0, 1))

if __name__ == "__main__":
    bench_common.main(fit, dtype=np.float32, max_repeat=2, params={"epochs": 320})
