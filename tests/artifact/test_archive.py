"""Artifacts never unpickle and refuse foreign, tampered or future files with a clear message."""

import hashlib
import json
import pickle
import zipfile

import numpy as np
import pytest

from routecraft import ArtifactError, load_router
from routecraft.artifact import FORMAT_VERSION, read_manifest
from routecraft.routers import BestSingleRouter


@pytest.fixture()
def artifact(tmp_path, conformance_data):
    path = tmp_path / "r.routecraft"
    BestSingleRouter().fit(conformance_data).save(str(path), metrics={"apgr": 0.5})
    return path


def _rewrite(path, *, manifest=None, extra=None, replace=None):
    """Copy the artifact with an edited manifest and/or extra/replaced members."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    m = json.loads(members["manifest.json"])
    if manifest:
        manifest(m)
    members["manifest.json"] = json.dumps(m).encode()
    members.update(extra or {})
    members.update(replace or {})
    out = path.with_name("edited.routecraft")
    with zipfile.ZipFile(out, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return out


def test_round_trip_keeps_manifest_and_card(artifact, conformance_data):
    loaded = load_router(artifact)
    assert isinstance(loaded, BestSingleRouter)
    assert read_manifest(artifact)["metrics"] == {"apgr": 0.5}
    assert loaded.artifact_manifest_["format_version"] == FORMAT_VERSION
    assert "BestSingleRouter" in artifact.with_name("r.routecraft.md").read_text()


def test_pickle_stream_is_refused(artifact):
    payload = pickle.dumps({"evil": 1})
    def list_it(m):
        m["members"]["arrays/evil.npy"] = hashlib.sha256(payload).hexdigest()
    bad = _rewrite(artifact, manifest=list_it, extra={"arrays/evil.npy": payload})
    with pytest.raises(ArtifactError, match="pickle"):
        load_router(bad)


def test_object_array_needing_pickle_is_refused(artifact):
    import io
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    data = buf.getvalue()
    def swap(m):
        m["members"]["arrays/mean_scores.npy"] = hashlib.sha256(data).hexdigest()
    bad = _rewrite(artifact, manifest=swap, replace={"arrays/mean_scores.npy": data})
    with pytest.raises(ArtifactError, match="pickle"):
        load_router(bad)


def test_wrong_format_version(artifact):
    bad = _rewrite(artifact, manifest=lambda m: m.update(format_version=99))
    with pytest.raises(ArtifactError, match="format version 99"):
        load_router(bad)


def test_unknown_class(artifact):
    bad = _rewrite(artifact, manifest=lambda m: m.update(router_class="os.system"))
    with pytest.raises(ArtifactError, match="allow-list"):
        load_router(bad)


def test_tampered_member(artifact):
    buf = __import__("io").BytesIO()
    np.save(buf, np.array([9.0, 9.0, 9.0]))
    bad = _rewrite(artifact, replace={"arrays/mean_scores.npy": buf.getvalue()})
    with pytest.raises(ArtifactError, match="checksum"):
        load_router(bad)


def test_unlisted_member(artifact):
    bad = _rewrite(artifact, extra={"arrays/extra.npy": b"x"})
    with pytest.raises(ArtifactError, match="not listed"):
        load_router(bad)


@pytest.mark.parametrize("content", [b"not a zip", b""])
def test_foreign_file(tmp_path, content):
    p = tmp_path / "x.routecraft"
    p.write_bytes(content)
    with pytest.raises(ArtifactError, match="not a zip"):
        load_router(p)


def test_zip_without_manifest(tmp_path):
    p = tmp_path / "x.routecraft"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ArtifactError, match="no manifest"):
        load_router(p)


def test_missing_file(tmp_path):
    with pytest.raises(ArtifactError, match="no such artifact"):
        load_router(tmp_path / "nope.routecraft")
