"""Small data made by the tests themselves (no downloads)."""

from pathlib import Path

import numpy as np


def image_folder(root: Path, classes: tuple[str, ...] = ("African", "Asian"), n: int = 6, size: int = 20) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for ci, c in enumerate(classes):
            d = root / split / c
            d.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                base = 60 + 120 * ci  # classes differ in brightness: learnable
                pixels = np.clip(rng.normal(base, 30, (size, size, 3)), 0, 255).astype("uint8")
                Image.fromarray(pixels).save(d / f"{c}_{i}.png")
    return root


def write_spec(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def tiny_mnist(path: Path, n: int = 60) -> Path:
    rng = np.random.default_rng(1)
    y = np.arange(n) % 10
    x = (rng.random((n, 28, 28)) * 50 + y[:, None, None] * 20).astype("uint8")
    np.savez(path, x_train=x, y_train=y.astype("uint8"), x_test=x[:20], y_test=y[:20].astype("uint8"))
    return path
