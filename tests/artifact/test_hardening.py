"""Corrupt, hostile and concurrent artifacts: each refused with one ArtifactError, or written whole."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile

import numpy as np
import pytest

from routecraft import ArtifactError, load_router
from routecraft.artifact import _archive
from routecraft.artifact import read_manifest
from routecraft.routers import BestSingleRouter
from routecraft.routers._knn import KNNRouter


@pytest.fixture()
def artifact(tmp_path, conformance_data):
    path = tmp_path / "r.routecraft"
    KNNRouter(embedder="hashing", k=3).fit(conformance_data).save(str(path))
    return path


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return path


def _edit(path, edit_manifest=None, arrays=None, rehash=True):
    """Rewrite an artifact with edited manifest/arrays, re-hashing members like an attacker would."""
    members = _members(path)
    manifest = json.loads(members["manifest.json"])
    for name, arr in (arrays or {}).items():
        buf = io.BytesIO()
        np.save(buf, arr)
        members[f"arrays/{name}.npy"] = buf.getvalue()
        if rehash:
            manifest["members"][f"arrays/{name}.npy"] = hashlib.sha256(buf.getvalue()).hexdigest()
    if edit_manifest:
        edit_manifest(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()
    return _write(path.with_name("edited.routecraft"), members)


def test_every_single_byte_flip_is_an_artifact_error_or_loads_identically(artifact, conformance_data):
    """Flip each of a sample of bytes: never a zipfile/zlib/TypeError traceback."""
    original = artifact.read_bytes()
    expected = load_router(artifact).predict_quality(conformance_data)
    rng = np.random.default_rng(0)
    for pos in rng.choice(len(original), size=80, replace=False):
        damaged = bytearray(original)
        damaged[pos] ^= 0xFF
        artifact.write_bytes(bytes(damaged))
        try:
            loaded = load_router(artifact)
        except ArtifactError:
            continue
        np.testing.assert_allclose(loaded.predict_quality(conformance_data), expected)  # e.g. a zip comment byte


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(members=[]), "field 'members' must be dict, got list"),
        (lambda m: m.update(state=[]), "field 'state' must be dict, got list"),
        (lambda m: m.pop("state"), "manifest.json has no 'state' field"),
        (lambda m: m.update(params="k=3"), "field 'params' must be dict, got str"),
        (lambda m: m.update(models=[1, 2]), "'models' must be a non-empty list of model names"),
        (lambda m: m["state"].update(models_=["x"]), "'state.models_' does not match 'models'"),
        (lambda m: m["state"].pop("embedder_"), "router state does not fit KNNRouter (missing 'embedder_')"),
    ],
)
def test_malformed_manifest_is_named(artifact, edit, message):
    with pytest.raises(ArtifactError) as info:
        load_router(_edit(artifact, edit))
    assert message in str(info.value)


def test_parameters_are_validated_on_load_as_in_fit(artifact):
    bad = _edit(artifact, lambda m: m["params"].update(k=-5))
    with pytest.raises(ArtifactError, match=r"'k' parameter of KNNRouter must be an int in the range \[1, inf\). Got -5"):
        load_router(bad)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"train_scores": np.zeros((60, 3), dtype=np.int64)}, "array 'train_scores' has dtype <i8; expected kind f"),
        ({"prior": np.zeros(4)}, "array 'prior' has size 4 on axis 0; expected n_models=3"),
        ({"train_scores": np.zeros((59, 3))}, "expected n_train=60"),
        ({"train_embeddings": np.zeros(60, dtype=np.float32)}, "array 'train_embeddings' has 1 dimension(s)"),
        ({"extra": np.zeros(3)}, "unexpected array 'extra'"),
        ({"prior": np.array(["a", "b", "c"])}, "array 'prior' has dtype <U1; expected kind f"),
    ],
)
def test_arrays_are_checked_against_the_state_schema(artifact, arrays, message):
    with pytest.raises(ArtifactError) as info:
        load_router(_edit(artifact, arrays=arrays))
    assert message in str(info.value)


def test_signed_artifact_refuses_tampering_that_rehashes(tmp_path, conformance_data, monkeypatch):
    monkeypatch.setenv("ROUTECRAFT_SIGNING_KEY", "s3cret")
    path = tmp_path / "signed.routecraft"
    BestSingleRouter().fit(conformance_data).save(str(path))
    assert "manifest.sig" in _members(path)
    assert isinstance(load_router(path), BestSingleRouter)
    tampered = _edit(path, arrays={"mean_scores": np.array([1.0, 0.0, 0.0])})
    members = _members(tampered)
    members["manifest.sig"] = _members(path)["manifest.sig"]
    _write(tampered, members)
    with pytest.raises(ArtifactError, match="signature does not match"):
        load_router(tampered)
    monkeypatch.delenv("ROUTECRAFT_SIGNING_KEY")
    assert isinstance(load_router(tampered), BestSingleRouter)  # checksums alone cannot catch an attacker
    unsigned = tmp_path / "unsigned.routecraft"
    BestSingleRouter().fit(conformance_data).save(str(unsigned))
    with pytest.raises(ArtifactError, match="not signed"):
        load_router(unsigned, signing_key="s3cret")
    with pytest.raises(ArtifactError, match="signed with another key"):
        load_router(path, signing_key="other")


def test_zip_bomb_member_is_refused_from_the_directory(tmp_path, artifact):
    members = _members(artifact)
    members["arrays/zeros.npy"] = b"\0" * (20 * 2**20)  # deflates ~1000x
    bomb = _write(tmp_path / "bomb.routecraft", members)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ArtifactError, match="would expand .* likely zip bomb"):
        load_router(bomb)


def test_oversized_manifest_and_total_are_refused(tmp_path, artifact, monkeypatch):
    monkeypatch.setattr(_archive, "MAX_MANIFEST_BYTES", 1000)
    with pytest.raises(ArtifactError, match="manifest.json is .* over the 1000 byte limit"):
        read_manifest(artifact)
    monkeypatch.setattr(_archive, "MAX_MANIFEST_BYTES", 2**26)
    monkeypatch.setenv("ROUTECRAFT_ARTIFACT_MAX_BYTES", "5000")
    with pytest.raises(ArtifactError, match="expand to more than 5000 bytes"):
        load_router(artifact)


def test_concurrent_saves_leave_one_whole_artifact_and_no_temp_files(tmp_path, conformance_data):
    routers = [KNNRouter(embedder="hashing", k=k).fit(conformance_data) for k in (2, 3, 4, 5)]
    out = tmp_path / "same.routecraft"
    errors = []

    def save(r):
        try:
            for _ in range(5):
                r.save(str(out))
        except Exception as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(r,)) for r in routers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert load_router(out).k in (2, 3, 4, 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.routecraft", "same.routecraft.md"]


def test_failed_save_leaves_nothing(tmp_path, conformance_data, monkeypatch):
    router = BestSingleRouter().fit(conformance_data)
    monkeypatch.setattr(router, "_get_state", lambda: ({"models_": router.models_}, {"bad": np.array([{}], dtype=object)}))
    with pytest.raises(ArtifactError):
        router.save(str(tmp_path / "x.routecraft"))

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    router2 = BestSingleRouter().fit(conformance_data)
    monkeypatch.setattr(zipfile.ZipFile, "writestr", boom)
    with pytest.raises(ArtifactError, match="No space left on device"):
        router2.save(str(tmp_path / "y.routecraft"))
    assert list(tmp_path.iterdir()) == []
