"""`data: {type: image_directory, train: images/train}`: one subfolder of images per class.

Streams through `keras.utils.image_dataset_from_directory`. The folders are checked first
(classes, files that are not images or are cut short, links out of the folder), so a bad
file is reported before training rather than failing in the middle of an epoch.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from regspec.backend.keras.data import Datasets, augment, check_path, fail, output_units, preprocessing_record, short
from regspec.backend.keras.env import keras
from regspec.backend.keras.sources import INDENT, Exported
from regspec.ir.graph import Program
from regspec.lang.data import ImageDirectoryData
from regspec.rundir.records import ImageRecord

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def load(program: Program, data: ImageDirectoryData, seed: int | None) -> Datasets:
    import tensorflow as tf

    k = keras()
    bs = program.training.batch_size
    classes = _check_folder(program, "train", data.train)
    _check_classes(program, data, classes)
    if data.test:
        test_classes = _check_folder(program, "test", data.test)
        if test_classes != classes:
            # Keras numbers each folder's classes on its own: a test folder with other classes
            # would be scored against the wrong labels.
            extra = sorted(set(test_classes) - set(classes))
            lacking = sorted(set(classes) - set(test_classes))
            what = "; ".join(([f"class(es) the train folder lacks: {short(', '.join(extra))}"] if extra else [])
                             + ([f"no folder for: {short(', '.join(lacking))}"] if lacking else []))
            raise fail(program, "test", f"{data.test} has other classes than {data.train} ({what})",
                        "the test folder needs one subfolder per class of the train folder, same names")
    common: dict[str, Any] = dict(
        image_size=tuple(data.image_size), label_mode=data.label_mode, color_mode=data.color_mode,
        batch_size=bs, interpolation=data.interpolation, seed=seed if seed is not None else 1337,
        verbose=False, class_names=classes,
    )
    if data.validation_split:
        train, val = k.utils.image_dataset_from_directory(
            data.train, validation_split=data.validation_split, subset="both", shuffle=True, **common
        )
    else:
        train = k.utils.image_dataset_from_directory(data.train, shuffle=True, **common)
        val = None
    test = k.utils.image_dataset_from_directory(data.test, shuffle=False, **common) if data.test else None
    scale = data.rescale

    def prep(ds: Any, *, cache: bool) -> Any:
        if ds is None:
            return None
        if scale is not None:
            ds = ds.map(lambda x, y: (x * scale, y), num_parallel_calls=tf.data.AUTOTUNE)
        if cache and data.cache:
            ds = ds.cache()
        return ds

    base = prep(train, cache=True)
    augmented = augment(program, base)
    if program.training.steps_per_epoch:
        augmented = augmented.repeat()
    val_ds = prep(val, cache=True)
    test_ds = prep(test, cache=True)
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[data.color_mode]
    record = preprocessing_record(
        program, raw_shape=[*data.image_size, channels], classes=classes, rescale=scale,
        image=ImageRecord(size=tuple(data.image_size), color_mode=data.color_mode, interpolation=data.interpolation,
                          label_mode=data.label_mode),
    )
    return Datasets(
        train=augmented.prefetch(tf.data.AUTOTUNE), train_eval=base.prefetch(tf.data.AUTOTUNE),
        validation=(val_ds if val_ds is not None else test_ds), test=test_ds, preprocessing=record,
    )


def _check_folder(program: Program, key: str, path: str) -> list[str]:
    check_path(program, key, path, folder=True)
    # As Keras lists them: sorted, hidden folders skipped.
    classes = [d for d in sorted(os.listdir(path)) if not d.startswith(".") and os.path.isdir(os.path.join(path, d))]
    if not classes:
        raise fail(program, key, f"{path} has no class subfolders", "put the images in one subfolder per class")
    for c in classes:
        folder = os.path.join(path, c)
        images = [f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXTENSIONS)]
        if not images:
            raise fail(program, key, f"class folder {folder} has no images ({', '.join(IMAGE_EXTENSIONS)})")
        root = os.path.realpath(path) + os.sep
        for f in images:
            full = os.path.join(folder, f)
            if not os.path.realpath(full).startswith(root):
                raise fail(program, key, f"{full} links outside the data folder {path}",
                            "copy the image in, or point the spec at the folder it is in")
            if not stat.S_ISREG(os.stat(full).st_mode):  # a FIFO or device named like an image would hang
                raise fail(program, key, f"{full} is not a regular file")
            problem = image_problem(full)
            if problem:
                raise fail(program, key, f"{full} {problem}", "remove or replace the file")
    return classes


# (signature, what a whole file ends with) per format; a cheap look at both ends of each file
# catches files that are not images and files cut short, before training fails on them.
_SIGNATURES = {
    ".png": (b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"), ".jpg": (b"\xff\xd8\xff", b"\xff\xd9"),
    ".jpeg": (b"\xff\xd8\xff", b"\xff\xd9"), ".gif": (b"GIF8", b";"), ".bmp": (b"BM", b""),
}


def image_problem(path: str) -> str | None:
    ext = os.path.splitext(path)[1].lower()
    head_sig, tail_sig = _SIGNATURES[ext]
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64))
            tail = fh.read(64)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if size == 0:
        return "is empty"
    if not head.startswith(head_sig):
        return f"is not a {ext[1:].upper()} image (its first bytes say otherwise)"
    if tail_sig and tail_sig not in tail:
        return f"is cut short (a whole {ext[1:].upper()} file ends with its end marker)"
    if ext == ".bmp" and int.from_bytes(head[2:6], "little") != size:
        return "is cut short (its header gives another size)"
    return None


def _check_classes(program: Program, data: ImageDirectoryData, class_names: list[str]) -> None:
    units = output_units(program)
    n = len(class_names)
    if data.label_mode == "binary":
        if n != 2:
            raise fail(program, "label_mode", f"binary labels need 2 class folders, found {n}: {', '.join(class_names)}")
        if units != 1:
            raise fail(program, "label_mode", f"binary labels need 1 output unit; the last layer has {units}")
    elif units != n:
        raise fail(program, "label_mode", f"{n} class folders but the last layer has {units} unit(s)")


def export(program: Program, data: ImageDirectoryData) -> Exported:
    seed = program.training.seed
    common = (f"image_size={tuple(data.image_size)!r}, label_mode={data.label_mode!r}, color_mode={data.color_mode!r}, "
              f"batch_size={program.training.batch_size}, interpolation={data.interpolation!r}, "
              f"seed={seed if seed is not None else 1337}")
    body = [f"{INDENT}train = keras.utils.image_dataset_from_directory({data.train!r}, shuffle=True, {common})"]
    body += ([f"{INDENT}test = keras.utils.image_dataset_from_directory({data.test!r}, shuffle=False, {common})"]
             if data.test else [f"{INDENT}test = None"])
    if data.rescale is not None:
        body += [f"{INDENT}train = train.map(lambda x, y: (x * {data.rescale!r}, y))",
                 f"{INDENT}test = test.map(lambda x, y: (x * {data.rescale!r}, y)) if test is not None else None"]
    if data.augmentation:
        body += [f"{INDENT}train = train.cache().map(lambda x, y: (augment(x, training=True), y))  # training batches only"]
    return Exported(body + [f"{INDENT}return train, test"], arrays=False)
