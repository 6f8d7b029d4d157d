"""Router artifacts: a zip of JSON and arrays, versioned, never pickled (DESIGN §10).

Layout of ``r.routecraft``::

    manifest.json           format + version, routecraft version, router class, params,
                            learned JSON state, models, embedder, training fingerprint,
                            metrics, and the sha256 of every other member
    arrays/<name>.npy       numpy arrays (saved and loaded with allow_pickle=False)
    blobs/<name>            opaque bytes of allowed kinds (safetensors weights, tokenizer JSON)

Loading checks, in order: it is a zip; the manifest parses; the format name and version
are ours; the class is on the allow-list; every member is listed with a matching
sha256; no member looks like a pickle stream. Only then are arrays read.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ArtifactError
from .._version import __version__

FORMAT_NAME = "routecraft-router"
FORMAT_VERSION = 1
BLOB_SUFFIXES = (".safetensors", ".json", ".txt", ".model")
_PICKLE_PREFIXES = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _encode_param(name: str, value: Any) -> Any:
    from ..embed._base import Embedder

    if isinstance(value, Embedder):
        return value.name
    try:
        json.dumps(value)
    except TypeError:
        raise ArtifactError(
            f"parameter '{name}' of type {type(value).__name__} cannot be saved; "
            "router parameters must be JSON values"
        ) from None
    return value


def _npy_bytes(array: np.ndarray) -> bytes:
    if array.dtype == object:
        raise ArtifactError("object arrays cannot be saved (they would need pickle)")
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def save_router(router: Any, path: str | Path, metrics: dict[str, Any] | None = None) -> str:
    """Write ``router`` to ``path`` and a markdown router card beside it; returns the path."""
    from ..routers._registry import allowed_classes

    router._check_fitted()
    cls = type(router).__name__
    if cls not in allowed_classes():
        raise ArtifactError(f"router class {cls!r} is not on the allow-list and cannot be saved")
    state, arrays = router._get_state()
    blobs: dict[str, bytes] = state.pop("__blobs__", {}) if isinstance(state, dict) else {}
    members: dict[str, bytes] = {}
    for name, arr in arrays.items():
        members[f"arrays/{name}.npy"] = _npy_bytes(np.asarray(arr))
    for name, data in blobs.items():
        if not name.endswith(BLOB_SUFFIXES):
            raise ArtifactError(f"blob {name!r} has a suffix that artifacts do not allow")
        members[f"blobs/{name}"] = data
    params = {k: _encode_param(k, v) for k, v in router.get_params(deep=False).items()}
    embedder = state.get("embedder_") if isinstance(state, dict) else None
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "routecraft_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "router_class": cls,
        "params": params,
        "quality_kind": router.quality_kind,
        "models": list(router.models_),
        "embedder": {"name": embedder["name"], "dim": embedder["dim"]} if embedder else None,
        "training_data": getattr(router, "training_fingerprint_", None),
        "n_train_queries": getattr(router, "n_train_queries_", None),
        "metrics": metrics or {},
        "state": state,
        "members": {name: _sha256(data) for name, data in members.items()},
    }
    try:
        manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True, allow_nan=True).encode()
    except TypeError as exc:
        raise ArtifactError(f"router state is not JSON-serialisable: {exc}") from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", manifest_bytes)
        for name, data in members.items():
            # float weights barely deflate (~8%) and deflating 90 MB costs seconds: store them
            stored = zipfile.ZIP_STORED if name.endswith(".safetensors") else None
            zf.writestr(name, data, compress_type=stored)
    tmp.replace(path)  # atomic: a crash never leaves a half-written artifact
    from ._card import write_card

    write_card(manifest, path)
    return str(path)


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The verified manifest of an artifact (no arrays are read)."""
    with _open(path) as zf:
        return _verified_manifest(zf, path)


def _open(path: str | Path) -> zipfile.ZipFile:
    p = Path(path)
    if not p.is_file():
        raise ArtifactError(f"{p}: no such artifact file")
    try:
        return zipfile.ZipFile(p)
    except zipfile.BadZipFile:
        raise ArtifactError(f"{p}: not a routecraft artifact (not a zip file)") from None


def _verified_manifest(zf: zipfile.ZipFile, path: str | Path) -> dict[str, Any]:
    names = set(zf.namelist())
    if "manifest.json" not in names:
        raise ArtifactError(f"{path}: not a routecraft artifact (no manifest.json)")
    try:
        manifest = json.loads(zf.read("manifest.json"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: manifest.json is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ArtifactError(f"{path}: not a routecraft artifact (format is {manifest.get('format') if isinstance(manifest, dict) else None!r})")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"{path}: artifact format version {version!r} is not supported "
            f"(this routecraft {__version__} reads version {FORMAT_VERSION})"
        )
    listed = manifest.get("members", {})
    for name in names - {"manifest.json"}:
        if name not in listed:
            raise ArtifactError(f"{path}: unexpected member {name!r} not listed in the manifest")
        data = zf.read(name)
        if data.startswith(_PICKLE_PREFIXES) or name.endswith((".pkl", ".pickle", ".pt", ".bin")):
            raise ArtifactError(f"{path}: member {name!r} is a pickle stream; routecraft never unpickles")
        if _sha256(data) != listed[name]:
            raise ArtifactError(f"{path}: member {name!r} does not match its checksum (tampered or corrupt)")
    for name in listed:
        if name not in names:
            raise ArtifactError(f"{path}: member {name!r} listed in the manifest is missing")
    return manifest


def load_router(path: str | Path) -> Any:
    """Load a router saved with :meth:`Router.save`. Never unpickles anything."""
    from ..routers._registry import router_class

    with _open(path) as zf:
        manifest = _verified_manifest(zf, path)
        try:
            cls = router_class(str(manifest.get("router_class")))
        except Exception as exc:
            raise ArtifactError(f"{path}: {exc}") from None
        arrays: dict[str, np.ndarray] = {}
        blobs: dict[str, bytes] = {}
        for name in manifest["members"]:
            if name.startswith("arrays/") and name.endswith(".npy"):
                try:
                    arrays[name[len("arrays/"):-len(".npy")]] = np.load(
                        io.BytesIO(zf.read(name)), allow_pickle=False
                    )
                except ValueError as exc:
                    raise ArtifactError(f"{path}: array {name!r} cannot be read without pickle ({exc})") from None
            elif name.startswith("blobs/"):
                blobs[name[len("blobs/"):]] = zf.read(name)
    try:
        router = cls(**manifest["params"])
    except TypeError as exc:
        raise ArtifactError(f"{path}: parameters do not fit {cls.__name__}: {exc}") from None
    state = dict(manifest["state"])
    if blobs:
        state["__blobs__"] = blobs
    router._set_state(state, arrays)
    router.training_fingerprint_ = manifest.get("training_data")
    router.n_train_queries_ = manifest.get("n_train_queries")
    router.artifact_manifest_ = {k: v for k, v in manifest.items() if k not in ("state", "members")}
    return router
