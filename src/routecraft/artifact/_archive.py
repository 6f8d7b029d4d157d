"""Router artifacts: a zip of JSON and arrays, versioned, never pickled (DESIGN §10).

Layout of ``r.routecraft``::

    manifest.json           format + version, routecraft version, router class, params,
                            learned JSON state, models, embedder, training fingerprint,
                            metrics, and the sha256 of every other member
    manifest.sig            (optional) HMAC-SHA256 of manifest.json under ROUTECRAFT_SIGNING_KEY
    arrays/<name>.npy       numpy arrays (saved and loaded with allow_pickle=False)
    blobs/<name>            opaque bytes of allowed kinds (safetensors weights, tokenizer JSON)

Loading checks, in order, before anything is decompressed: it is a zip; member count,
declared sizes and compression ratios are within limits (a zip bomb is refused from
its directory). Then: the manifest parses and has the right structure; the format
name and version are ours; the signature verifies (when a key is set); the class is
on the allow-list; every member is listed with a matching sha256; no member looks
like a pickle stream. Then arrays are read, each checked against the router's state
schema (:mod:`._schema`), and parameters are re-validated exactly as ``fit`` does.

Saving writes a unique temp file in the target directory, fsyncs it and renames it
into place (:mod:`routecraft._atomic`): concurrent saves to one path leave one
complete artifact, and a failed save leaves nothing.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_writer
from .._errors import ArtifactError, ParameterError, user_path
from .._version import __version__
from ._schema import check_arrays

FORMAT_NAME = "routecraft-router"
FORMAT_VERSION = 1
BLOB_SUFFIXES = (".safetensors", ".json", ".txt", ".model")
_PICKLE_PREFIXES = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
SIGNATURE_MEMBER = "manifest.sig"
SIGNING_KEY_ENV = "ROUTECRAFT_SIGNING_KEY"

# Limits checked from the zip directory before any member is decompressed.
MAX_MEMBERS = 10_000
MAX_MANIFEST_BYTES = 64 * 2**20
MAX_TOTAL_BYTES_ENV = "ROUTECRAFT_ARTIFACT_MAX_BYTES"
DEFAULT_MAX_TOTAL_BYTES = 8 * 2**30  # the largest router (causal-llm LoRA + tokenizer) is far below
MAX_RATIO = 200  # uncompressed / compressed; floats deflate ~1.1x, JSON ~10x, bombs ~1000x
RATIO_FLOOR = 2**20  # members smaller than this may compress as well as they like

# manifest key -> accepted JSON types (None: JSON null)
_MANIFEST_TYPES: dict[str, tuple[type, ...]] = {
    "format": (str,),
    "format_version": (int,),
    "router_class": (str,),
    "params": (dict,),
    "state": (dict,),
    "members": (dict,),
    "models": (list,),
    "quality_kind": (str,),
    "embedder": (dict, type(None)),
    "metrics": (dict,),
    "training_data": (str, type(None)),
    "n_train_queries": (int, type(None)),
}


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


def resolve_signing_key(key: str | bytes | None = None) -> bytes | None:
    """The HMAC key: ``key`` if given, else ``$ROUTECRAFT_SIGNING_KEY``, else None (no signing)."""
    if key is None:
        key = os.environ.get(SIGNING_KEY_ENV) or None
    if key is None:
        return None
    return key.encode() if isinstance(key, str) else bytes(key)


def _signature(key: bytes, manifest_bytes: bytes) -> str:
    return hmac.new(key, manifest_bytes, hashlib.sha256).hexdigest()


def save_router(
    router: Any, path: str | Path, metrics: dict[str, Any] | None = None, signing_key: str | bytes | None = None
) -> str:
    """Write ``router`` to ``path`` and a markdown router card beside it; returns the path.

    With a signing key (argument or ``$ROUTECRAFT_SIGNING_KEY``) the manifest is signed
    with HMAC-SHA256, so a loader holding the key refuses an artifact edited and re-hashed.
    """
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
    key = resolve_signing_key(signing_key)
    path = Path(path)
    with user_path(path, "write artifact", ArtifactError):
        with atomic_writer(path) as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", manifest_bytes)
            if key is not None:
                zf.writestr(SIGNATURE_MEMBER, _signature(key, manifest_bytes))
            for name, data in members.items():
                # float weights barely deflate (~8%) and deflating 90 MB costs seconds: store them
                stored = zipfile.ZIP_STORED if name.endswith(".safetensors") else None
                zf.writestr(name, data, compress_type=stored)
    from ._card import write_card

    with user_path(path, "write the router card", ArtifactError):
        write_card(manifest, path)
    return str(path)


def read_manifest(path: str | Path, signing_key: str | bytes | None = None) -> dict[str, Any]:
    """The verified manifest of an artifact (no arrays are read)."""
    with _open(path) as zf:
        return _verified_manifest(zf, path, signing_key)


def max_total_bytes() -> int:
    """Most bytes an artifact may decompress to: ``$ROUTECRAFT_ARTIFACT_MAX_BYTES`` or 8 GiB."""
    raw = os.environ.get(MAX_TOTAL_BYTES_ENV)
    if not raw:
        return DEFAULT_MAX_TOTAL_BYTES
    try:
        value = int(raw)
    except ValueError:
        raise ArtifactError(f"{MAX_TOTAL_BYTES_ENV} must be a whole number of bytes, got {raw!r}") from None
    if value <= 0:
        raise ArtifactError(f"{MAX_TOTAL_BYTES_ENV} must be > 0, got {raw!r}")
    return value


def _open(path: str | Path) -> zipfile.ZipFile:
    p = Path(path)
    with user_path(p, "read artifact", ArtifactError):
        exists = p.is_file()
    if not exists:
        raise ArtifactError(f"{p}: no such artifact file")
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise ArtifactError(f"{p}: not a routecraft artifact (not a readable zip file: {exc})") from None
    except OSError as exc:
        raise ArtifactError(f"{p}: cannot read artifact: {exc.strerror or exc}") from None
    try:
        _check_limits(zf, p)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_limits(zf: zipfile.ZipFile, path: Path) -> None:
    """Refuse zip bombs from the central directory alone: nothing is decompressed here."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ArtifactError(f"{path}: {len(infos)} members is more than an artifact holds ({MAX_MEMBERS})")
    limit = max_total_bytes()
    total = 0
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            raise ArtifactError(f"{path}: member {info.filename!r} appears twice")
        seen.add(info.filename)
        if info.filename == "manifest.json" and info.file_size > MAX_MANIFEST_BYTES:
            raise ArtifactError(
                f"{path}: manifest.json is {info.file_size} bytes, over the {MAX_MANIFEST_BYTES} byte limit"
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ArtifactError(
                f"{path}: member {info.filename!r} would expand {info.file_size / max(info.compress_size, 1):.0f}x "
                f"(limit {MAX_RATIO}x); refusing a likely zip bomb"
            )
        total += info.file_size
        if total > limit:
            raise ArtifactError(
                f"{path}: members expand to more than {limit} bytes (set {MAX_TOTAL_BYTES_ENV} to raise the limit)"
            )


def _read(zf: zipfile.ZipFile, name: str, path: str | Path) -> bytes:
    """A member's bytes, never more than its declared size, with zip/deflate errors as ArtifactError."""
    info = zf.getinfo(name)
    try:
        with zf.open(info) as fh:
            data = fh.read(info.file_size + 1)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise ArtifactError(f"{path}: member {name!r} is corrupt ({exc})") from None
    except OSError as exc:  # zlib.error is not an OSError, but truncated reads can be
        raise ArtifactError(f"{path}: member {name!r} cannot be read ({exc})") from None
    except Exception as exc:  # zlib.error: the deflate stream itself is damaged
        if type(exc).__module__ == "zlib":
            raise ArtifactError(f"{path}: member {name!r} is corrupt ({exc})") from None
        raise
    if len(data) != info.file_size:
        raise ArtifactError(f"{path}: member {name!r} is not the size its zip entry declares")
    return data


def _check_structure(manifest: dict[str, Any], path: str | Path) -> None:
    for key, types in _MANIFEST_TYPES.items():
        if key not in manifest:
            raise ArtifactError(f"{path}: manifest.json has no '{key}' field")
        value = manifest[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            want = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ArtifactError(f"{path}: manifest field '{key}' must be {want}, got {type(value).__name__}")
    members = manifest["members"]
    for name, digest in members.items():
        if not isinstance(digest, str):
            raise ArtifactError(f"{path}: manifest field 'members' entry {name!r} must be a sha256 string")
    models = manifest["models"]
    if not models or not all(isinstance(m, str) for m in models):
        raise ArtifactError(f"{path}: manifest field 'models' must be a non-empty list of model names")
    if manifest["state"].get("models_") != models:
        raise ArtifactError(f"{path}: manifest field 'state.models_' does not match 'models'")


def _verified_manifest(zf: zipfile.ZipFile, path: str | Path, key: str | bytes | None = None) -> dict[str, Any]:
    names = set(zf.namelist())
    if "manifest.json" not in names:
        raise ArtifactError(f"{path}: not a routecraft artifact (no manifest.json)")
    raw = _read(zf, "manifest.json", path)
    try:
        manifest = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: manifest.json is not valid JSON ({exc})") from None
    except RecursionError:
        raise ArtifactError(f"{path}: manifest.json is nested too deeply") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ArtifactError(f"{path}: not a routecraft artifact (format is {found!r})")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"{path}: artifact format version {version!r} is not supported "
            f"(this routecraft {__version__} reads version {FORMAT_VERSION})"
        )
    _verify_signature(zf, raw, names, path, resolve_signing_key(key))
    _check_structure(manifest, path)
    listed = manifest["members"]
    for name in sorted(names - {"manifest.json", SIGNATURE_MEMBER}):
        if name not in listed:
            raise ArtifactError(f"{path}: unexpected member {name!r} not listed in the manifest")
        if name.endswith((".pkl", ".pickle", ".pt", ".bin")):
            raise ArtifactError(f"{path}: member {name!r} is a pickle stream; routecraft never unpickles")
        data = _read(zf, name, path)
        if data.startswith(_PICKLE_PREFIXES):
            raise ArtifactError(f"{path}: member {name!r} is a pickle stream; routecraft never unpickles")
        if _sha256(data) != listed[name]:
            raise ArtifactError(f"{path}: member {name!r} does not match its checksum (tampered or corrupt)")
    for name in listed:
        if name not in names:
            raise ArtifactError(f"{path}: member {name!r} listed in the manifest is missing")
    return manifest


def _verify_signature(
    zf: zipfile.ZipFile, manifest_bytes: bytes, names: set[str], path: str | Path, key: bytes | None
) -> None:
    """With a key, the artifact must carry a matching HMAC; without one, signatures are not checked."""
    if key is None:
        return
    if SIGNATURE_MEMBER not in names:
        raise ArtifactError(f"{path}: artifact is not signed, and {SIGNING_KEY_ENV} requires a signature")
    found = _read(zf, SIGNATURE_MEMBER, path).decode("ascii", "replace").strip()
    if not hmac.compare_digest(found, _signature(key, manifest_bytes)):
        raise ArtifactError(f"{path}: signature does not match (tampered, or signed with another key)")


def load_router(path: str | Path, signing_key: str | bytes | None = None) -> Any:
    """Load a router saved with :meth:`Router.save`. Never unpickles anything.

    With a signing key (argument or ``$ROUTECRAFT_SIGNING_KEY``) an unsigned or
    wrongly signed artifact is refused.
    """
    with _open(path) as zf:
        manifest = _verified_manifest(zf, path, signing_key)
        from ..routers._registry import router_class  # after the checks: a bomb never costs the imports

        try:
            cls = router_class(manifest["router_class"])
        except Exception as exc:
            raise ArtifactError(f"{path}: {exc}") from None
        arrays: dict[str, np.ndarray] = {}
        blobs: dict[str, bytes] = {}
        for name in manifest["members"]:
            if name.startswith("arrays/") and name.endswith(".npy"):
                try:
                    arrays[name[len("arrays/"):-len(".npy")]] = np.load(
                        io.BytesIO(_read(zf, name, path)), allow_pickle=False
                    )
                except (ValueError, EOFError, OSError) as exc:
                    raise ArtifactError(f"{path}: array {name!r} is not a plain numpy array ({exc})") from None
            elif name.startswith("blobs/"):
                blobs[name[len("blobs/"):]] = _read(zf, name, path)
            else:
                raise ArtifactError(f"{path}: member {name!r} is neither an array nor a blob")
    router = _construct(cls, manifest["params"], path)
    state = dict(manifest["state"])
    dims = {"n_models": len(manifest["models"])}
    if isinstance(state.get("embedder_"), dict) and isinstance(state["embedder_"].get("dim"), int):
        dims["dim"] = state["embedder_"]["dim"]
    own = {k: v for k, v in arrays.items() if not k.startswith("embedder.")}
    check_arrays(own, getattr(cls, "state_schema", None), dims, str(path))
    check_arrays({k: v for k, v in arrays.items() if k.startswith("embedder.")}, None, dims, str(path))
    if blobs:
        state["__blobs__"] = blobs
    try:
        router._set_state(state, arrays)
    except ArtifactError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ArtifactError(f"{path}: router state does not fit {cls.__name__} ({what})") from None
    router.training_fingerprint_ = manifest.get("training_data")
    router.n_train_queries_ = manifest.get("n_train_queries")
    router.artifact_manifest_ = {k: v for k, v in manifest.items() if k not in ("state", "members")}
    return router


def _construct(cls: type, params: dict[str, Any], path: str | Path) -> Any:
    """Build the router and validate its parameters exactly as ``fit`` does."""
    try:
        router = cls(**params)
    except TypeError as exc:
        raise ArtifactError(f"{path}: parameters do not fit {cls.__name__}: {exc}") from None
    try:
        router._validate_params()
    except ParameterError as exc:
        raise ArtifactError(f"{path}: {exc}") from None
    return router
