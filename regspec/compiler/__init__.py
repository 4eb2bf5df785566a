"""The compile stage: the only package that imports TensorFlow/Keras (lazily, via keras_env)."""
