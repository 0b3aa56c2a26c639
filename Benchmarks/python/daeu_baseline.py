"""Baseline for unmix-bench: DAEU in Keras, as the reference notebook (hu_autoencoders,
Method_DAEU) builds and trains it, written in our own words from the facts in
shared/ALGORITHMS.md section 6: global-max scaling, 2000 spectra drawn with replacement,
Dense 9R/6R/3R/R without bias + LeakyReLU(0.1), BatchNormalization, a trainable soft
threshold, sum-to-one, a non-negative linear decoder; RMSprop(1e-3), batch 6, 40 epochs, the
notebook's SAD loss. Needs tensorflow-cpu and tf-keras (TF_USE_LEGACY_KERAS=1); prints
{median_seconds, sad_mean} for training + read-out, at most 2 runs (a run takes ~15 s).

usage: python3 daeu_baseline.py DATASET_DIR REPEAT
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import bench_common
import tensorflow as tf
import tf_keras as keras


class SparseReLU(keras.layers.Layer):
    def build(self, shape):
        self.alpha = self.add_weight(shape=(shape[-1],), initializer="zeros", constraint=keras.constraints.NonNeg())

    def call(self, x):
        return tf.nn.relu(x - self.alpha)


class SumToOne(keras.layers.Layer):
    def call(self, x):
        x = x * tf.cast(x >= 1e-7, x.dtype)
        x = tf.nn.relu(x)
        return x / (tf.reduce_sum(x, axis=-1, keepdims=True) + 1e-7)


def notebook_sad(y_true, y_pred):
    a = tf.math.l2_normalize(y_true, axis=-1)
    b = tf.math.l2_normalize(y_pred, axis=-1)
    return tf.acos(tf.clip_by_value(tf.reduce_mean(a * b), -1 + 1e-7, 1 - 1e-7))


def build(bands, r):
    x = keras.Input(shape=(bands,))
    h = x
    for units in (9 * r, 6 * r, 3 * r, r):
        h = keras.layers.Dense(units, use_bias=False)(h)
        h = keras.layers.LeakyReLU(0.1)(h)
    h = keras.layers.BatchNormalization()(h)
    h = SparseReLU()(h)
    abundances = SumToOne()(h)
    out = keras.layers.Dense(bands, use_bias=False, kernel_constraint=keras.constraints.NonNeg())(abundances)
    model = keras.Model(x, out)
    model.compile(optimizer=keras.optimizers.legacy.RMSprop(learning_rate=1e-3), loss=notebook_sad)
    return model, keras.Model(x, abundances)


def fit(cube, r, seed):
    bands = cube.shape[-1]
    y = cube.reshape(-1, bands)
    y = y / y.max()
    tf.keras.utils.set_random_seed(seed)
    train = y[np.random.default_rng(seed).integers(0, y.shape[0], 2000)]
    model, encoder = build(bands, r)
    model.fit(train, train, batch_size=6, epochs=bench_common.param("epochs"), verbose=0)
    encoder.predict(y, verbose=0)
    return model.layers[-1].get_weights()[0]

if __name__ == "__main__":
    bench_common.main(fit, dtype=np.float32, max_repeat=2, params={"epochs": 40})
