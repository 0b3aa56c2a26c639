"""Baseline for unmix-bench: MTAEU in Keras, as the reference notebook (hu_autoencoders,
Method_MTAEU) builds and trains it, written in our own words from the facts in
shared/ALGORITHMS.md section 7: global-max scaling, 2000 random 4 x 4 patches of which the first
row (four horizontally adjacent pixels) gives the four tasks; their spectra concatenated, with
GaussianNoise(0.05); a shared Dense(4B/4) without bias, LeakyReLU(0.2), Dropout(0.5),
BatchNormalization; per task Dense(R) without bias, LeakyReLU(0.2), BatchNormalization,
Dropout(0.1), softmax(3x); a shared non-negative linear decoder without bias; all kernels
RandomNormal(0.01, 0.1); the notebook's SAD loss summed over the tasks; RMSprop(1e-3, decay 1e-4),
batch 15, 60 epochs. Needs tensorflow-cpu and tf-keras (TF_USE_LEGACY_KERAS=1); prints
{median_seconds, sad_mean} for training + read-out, at most 2 runs.

usage: python3 mtaeu_baseline.py DATASET_DIR REPEAT
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import bench_common
import tensorflow as tf
import tf_keras as keras

TASKS = 4


def notebook_sad(y_true, y_pred):
    a = tf.math.l2_normalize(y_true, axis=-1)
    b = tf.math.l2_normalize(y_pred, axis=-1)
    return tf.acos(tf.clip_by_value(tf.reduce_mean(a * b), -1 + 1e-7, 1 - 1e-7))


def build(bands, r):
    def kernels():  # a new initializer per layer: one reused instance gives every layer the same draw
        return keras.initializers.RandomNormal(mean=0.01, stddev=0.1)

    inputs = [keras.Input(shape=(bands,)) for _ in range(TASKS)]
    h = keras.layers.Concatenate()(inputs)
    h = keras.layers.GaussianNoise(0.05)(h)
    h = keras.layers.Dense(TASKS * bands // 4, use_bias=False, kernel_initializer=kernels())(h)
    h = keras.layers.LeakyReLU(0.2)(h)
    h = keras.layers.Dropout(0.5)(h)
    h = keras.layers.BatchNormalization()(h)
    decoder = keras.layers.Dense(bands, use_bias=False, kernel_initializer=kernels(),
                                 kernel_constraint=keras.constraints.NonNeg())
    heads, outputs = [], []
    for _ in range(TASKS):
        a = keras.layers.Dense(r, use_bias=False, kernel_initializer=kernels())(h)
        a = keras.layers.LeakyReLU(0.2)(a)
        a = keras.layers.BatchNormalization()(a)
        a = keras.layers.Dropout(0.1)(a)
        a = keras.layers.Softmax()(3 * a)
        heads.append(a)
        outputs.append(decoder(a))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.legacy.RMSprop(learning_rate=1e-3, decay=1e-4),
                  loss=[notebook_sad] * TASKS)
    return model, keras.Model(inputs, heads), decoder


def fit(cube, r, seed):
    rows, cols, bands = cube.shape
    image = cube / cube.max()
    tf.keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, rows - 3, 2000)
    j = rng.integers(0, cols - 3, 2000)
    train = [image[i, j + k] for k in range(TASKS)]
    model, encoder, decoder = build(bands, r)
    model.fit(train, train, batch_size=15, epochs=bench_common.param("epochs"), verbose=0)
    y = image.reshape(-1, bands)
    np.mean(encoder.predict([y] * TASKS, verbose=0), axis=0)
    return decoder.get_weights()[0]


if __name__ == "__main__":
    bench_common.main(fit, dtype=np.float32, max_repeat=2, params={"epochs": 60})
