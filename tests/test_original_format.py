"""The original format (`cifar-10-batches-py/`, `cifar-10-python.tar.gz`) is read safely:
damaged files give one line naming the file, and a pickle that names any code to run
is refused before it runs.

Every batch here is small and synthetic, written under tmp_path (never the real data).
"""

import hashlib
import io
import os
import pathlib
import pickle
import struct
import subprocess
import sys
import tarfile
from typing import ClassVar

import numpy as np
import pytest

from cifar_mlp import cli
from cifar_mlp.core import batches, data

N = 4  # images per synthetic batch


def planar(seed=0, n=N, columns=3072):
    return np.random.default_rng(seed).integers(0, 256, size=(n, columns), dtype=np.uint8)


def batch_dict(seed=0, changes=()):
    """A batch as the original holds it: bytes keys, planar uint8 data, a list of int labels."""
    batch = {b"batch_label": b"training batch 1 of 5", b"data": planar(seed),
             b"labels": [int(v) for v in np.arange(N) % 10],
             b"filenames": [f"image_{i}.png".encode() for i in range(N)]}
    return {**batch, **dict(changes)}


class Python2Pickler(pickle._Pickler):
    """Writes as Python 2's cPickle did: every string a byte string, NumPy's names from NumPy 1."""

    dispatch: ClassVar[dict] = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj):
        size = len(obj)
        self.write(pickle.SHORT_BINSTRING + bytes([size]) + obj if size < 256
                   else pickle.BINSTRING + struct.pack("<i", size) + obj)
        self.memoize(obj)

    def save_str(self, obj):
        self.save_bytes(obj.encode("latin-1"))

    dispatch[bytes] = save_bytes
    dispatch[str] = save_str


def python2_pickle(obj) -> bytes:
    out = io.BytesIO()
    Python2Pickler(out, protocol=2).dump(obj)
    return out.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


WRITERS = {
    "as Python 2 wrote it": python2_pickle,
    "protocol 2": lambda obj: pickle.dumps(obj, protocol=2),
    "protocol 5": lambda obj: pickle.dumps(obj, protocol=5),
}


def write(file, obj, protocol=2):
    file.write_bytes(pickle.dumps(obj, protocol=protocol))
    return file


class Hostile:
    """Unpickled by plain pickle, it creates `marker`: any code could run in its place."""

    def __init__(self, marker):
        self.marker = pathlib.Path(marker)

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


def hostile_batch(file, marker):
    # Protocol 4 names the callable as pathlib.Path.touch (older protocols reach it via getattr).
    return write(file, batch_dict(changes={b"data": Hostile(marker)}), protocol=4)


def folder_of_batches(folder, first=None):
    """A cifar-10-batches-py/ folder of six valid synthetic batches; `first(file)` may replace data_batch_1."""
    folder.mkdir(parents=True)
    for seed, name in enumerate(batches.BATCH_NAMES):
        write(folder / name, batch_dict(seed))
    if first:
        first(folder / "data_batch_1")
    return folder


# ---------------------------------------------------------------- valid batches

@pytest.mark.parametrize("writer", WRITERS)
def test_a_batch_in_the_original_pickle_format_loads_as_hwc(tmp_path, writer):
    batch = batch_dict()
    file = tmp_path / "data_batch_1"
    file.write_bytes(WRITERS[writer](batch))
    x, y = batches.read_batch(file)
    assert x.shape == (N, 32, 32, 3) and x.dtype == np.uint8
    assert y.dtype == np.uint8 and y.tolist() == batch[b"labels"]
    # A row is 1024 red, then 1024 green, then 1024 blue values, each 32 rows of 32.
    image, row, column, channel = 1, 5, 7, 2
    assert x[image, row, column, channel] == batch[b"data"][image, channel * 1024 + row * 32 + column]
    np.testing.assert_array_equal(x[2, :, :, 0], batch[b"data"][2, :1024].reshape(32, 32))


def test_a_whole_resaved_folder_is_read_and_stopped_only_by_the_sha256(tmp_path, monkeypatch):
    folder = folder_of_batches(tmp_path / "cifar-10-batches-py")
    # Tiny batches cannot have CIFAR-10's shapes: expect theirs, so the checksums are what refuses.
    monkeypatch.setattr(data, "SHAPES", {"x_train": (5 * N, 32, 32, 3), "y_train": (5 * N,),
                                         "x_test": (N, 32, 32, 3), "y_test": (N,)})
    with pytest.raises(data.DataError, match="SHA-256 of x_train does not match"):
        data.read_python_batches(folder)


# ---------------------------------------------------------------- damaged batches

def test_a_flipped_byte_in_the_header_names_the_file(tmp_path):
    file = write(tmp_path / "data_batch_1", batch_dict())
    damaged = bytearray(file.read_bytes())
    damaged[0] ^= 0xFF
    file.write_bytes(bytes(damaged))
    with pytest.raises(batches.BatchError, match=f"{file} .*is damaged, not a CIFAR-10 pickle"):
        batches.read_batch(file)
    folder = folder_of_batches(tmp_path / "folder", first=lambda f: f.write_bytes(bytes(damaged)))
    with pytest.raises(data.DataError, match=f"{folder / 'data_batch_1'} .*damaged.*download"):
        data.read_python_batches(folder)


def test_a_truncated_batch_is_said_to_be_truncated(tmp_path):
    file = write(tmp_path / "data_batch_1", batch_dict())
    file.write_bytes(file.read_bytes()[:5000])
    with pytest.raises(batches.BatchError, match=f"{file} .*is truncated"):
        batches.read_batch(file)
    file.write_bytes(b"")
    with pytest.raises(batches.BatchError, match="is truncated"):
        batches.read_batch(file)


def test_a_batch_of_the_wrong_shape_names_the_shape(tmp_path):
    file = write(tmp_path / "data_batch_1", batch_dict(changes={b"data": planar(columns=3000)}))
    with pytest.raises(batches.BatchError, match=r"data_batch_1 .*shape \(4, 3000\).*expected \(N, 3072\)"):
        batches.read_batch(file)
    file = write(tmp_path / "test_batch", batch_dict(changes={b"labels": [1, 2]}))
    with pytest.raises(batches.BatchError, match=r"test_batch .*labels of shape \(2,\)"):
        batches.read_batch(file)


@pytest.mark.parametrize("content", [{b"data": planar()}, [planar(), [1, 2, 3, 4]]],
                         ids=["dict without labels", "list"])
def test_a_pickle_that_is_not_a_batch_dict_is_the_wrong_type(tmp_path, content):
    file = write(tmp_path / "data_batch_1", content)
    with pytest.raises(batches.BatchError, match=f"{file} .*not a CIFAR-10 batch"):
        batches.read_batch(file)


def test_an_unreadable_batch_is_named(tmp_path):
    file = tmp_path / "data_batch_1"
    file.mkdir()  # root reads any file, whatever its mode; nobody reads a folder as a file
    with pytest.raises(batches.BatchError, match=f"{file} is unreadable \\(Is a directory\\); download"):
        batches.read_batch(file)


def test_a_missing_batch_is_named(tmp_path):
    folder = folder_of_batches(tmp_path / "cifar-10-batches-py")
    (folder / "test_batch").unlink()
    with pytest.raises(data.DataError, match=f"{folder / 'test_batch'} is missing"):
        data.read_python_batches(folder)


# ---------------------------------------------------------------- hostile batches

def test_the_hostile_pickle_really_runs_code_under_plain_pickle(tmp_path):
    file = hostile_batch(tmp_path / "data_batch_1", tmp_path / "ran")
    with open(file, "rb") as f:
        pickle.load(f, encoding="bytes")  # what read_python_batches did before
    assert (tmp_path / "ran").exists()


def test_a_pickle_naming_code_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"
    file = hostile_batch(tmp_path / "data_batch_1", marker)
    with pytest.raises(batches.BatchError, match=f"{file} .*asks to load pathlib.Path.touch.*refused"):
        batches.read_batch(file)
    assert not marker.exists()


def test_a_pickle_naming_code_through_the_codecs_is_refused(tmp_path):
    # `_codecs.encode` is allowed for latin-1 only: other codecs (zlib, ...) are no batch's business.
    file = tmp_path / "data_batch_1"
    file.write_bytes(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x04\x00\x00\x00zlib\x86R.")
    with pytest.raises(batches.BatchError, match="damaged.*not latin-1"):
        batches.read_batch(file)


def test_a_hostile_batch_inside_a_tar_gz_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"
    folder = folder_of_batches(tmp_path / "src" / "cifar-10-batches-py",
                               first=lambda f: hostile_batch(f, marker))
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    with pytest.raises(data.DataError, match=(f"{archive}:cifar-10-batches-py/data_batch_1 "
                                              r"\(not the original.*pathlib.Path.touch")):
        data.read_python_batches(archive)
    assert not marker.exists()


def test_a_damaged_tar_gz_is_named(tmp_path):
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    with pytest.raises(data.DataError, match=f"{archive} \\(not the original.*not a readable tar.gz"):
        data.read_python_batches(archive)


# ---------------------------------------------------------------- the original MD5s

def test_the_md5_table_recognises_the_original_files(tmp_path, monkeypatch):
    file = write(tmp_path / "data_batch_1", batch_dict())
    digest = hashlib.md5(file.read_bytes()).hexdigest()
    assert batches.md5(file) == digest
    assert not batches.is_original(file)
    monkeypatch.setitem(batches.ORIGINAL_MD5, "data_batch_1", digest)
    assert batches.is_original(file)
    assert not batches.is_original(file, "data_batch_2")  # the same bytes under another name
    assert batches.is_original(file.rename(tmp_path / "copy"), "data_batch_1")


def test_messages_say_whether_the_file_is_the_original(tmp_path, monkeypatch):
    file = write(tmp_path / "data_batch_1", [1, 2])
    with pytest.raises(batches.BatchError, match=r"data_batch_1 \(not the original: its MD5 differs\)"):
        batches.read_batch(file)
    monkeypatch.setitem(batches.ORIGINAL_MD5, "data_batch_1", batches.md5(file))
    with pytest.raises(batches.BatchError, match=r"data_batch_1 \(the original\) holds a list"):
        batches.read_batch(file)


def test_the_md5_tables_are_torchvisions():
    assert batches.ORIGINAL_MD5 == {
        "cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
        "data_batch_1": "c99cafc152244af753f735de768cd75f",
        "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
        "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
        "data_batch_4": "634d18415352ddfa80567beed471001a",
        "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
        "test_batch": "40351d587109b95175f43aff81a1287e",
    }


# ---------------------------------------------------------------- python -m cifar_mlp.core.data

def test_the_cli_names_a_damaged_batch_in_a_few_lines_and_exits_3(tmp_path):
    folder = folder_of_batches(tmp_path / "cifar-10-batches-py",
                               first=lambda f: f.write_bytes(b"not a pickle at all"))
    cache = tmp_path / "no-cache" / "cifar10.npz"
    env = {**os.environ, "CIFAR10_SOURCE": str(folder), "CIFAR_MLP_CACHE": str(cache),
           "CIFAR_MLP_DEBUG": ""}
    done = subprocess.run([sys.executable, "-m", "cifar_mlp.core.data"], env=env, check=False,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3 == cli.exit_code(data.DataError("x")), done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) <= 3, done.stderr
    assert f"{folder / 'data_batch_1'} (not the original: its MD5 differs) is damaged" in lines[0]
    assert not cache.exists()
