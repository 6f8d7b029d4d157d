"""State schemas: the dtype and shape every array of a router's state must have.

A router declares ``state_schema = {"train_scores": ("f", ("n_train", "n_models")), ...}``
(and an embedder that learns declares its own for its ``embedder.*`` arrays). The
dtype part is a string of numpy kind letters (``"f"`` float, ``"iu"`` integers,
``"b"`` bool, ``"U"`` unicode); each shape entry is an int (fixed), a name (a size
that must agree everywhere it appears: ``n_models`` and ``dim`` are bound from the
manifest, others from the first array that uses them) or ``None`` (any size); a
shape of ``None`` allows any rank. A key with ``*`` (``"knots_x.*"``, ``"child*"``) is
a glob for a family of arrays whose count depends on the fit (it may match none).

Checksums catch accidents; a schema catches an artifact that hashes fine but holds
an array a router would only choke on later (wrong dtype, a transposed matrix, a
vector of the wrong length), and says so at load time with the array's name.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Mapping, Optional, Union

import numpy as np

from .._errors import ArtifactError

Dim = Union[int, str, None]
ArraySpec = tuple[str, Optional[tuple[Dim, ...]]]
StateSchema = Mapping[str, ArraySpec]

# kinds an artifact may hold at all: never object ("O") or structured ("V") arrays
SAFE_KINDS = "biufU"


def check_arrays(
    arrays: Mapping[str, np.ndarray],
    schema: Optional[StateSchema],
    dims: dict[str, int],
    where: str,
    prefix: str = "",
) -> None:
    """Raise :class:`ArtifactError` naming the first array that does not fit ``schema``.

    ``dims`` holds the sizes already known (it is updated with the ones bound here, so
    several calls can share it). With ``schema=None`` (a router that declares none)
    only the generic rule applies: plain numeric, bool or string arrays.
    """
    for name, arr in arrays.items():
        if arr.dtype.kind not in SAFE_KINDS:
            raise ArtifactError(f"{where}: array '{prefix}{name}' has dtype {arr.dtype.str}, which artifacts never hold")
    if schema is None:
        return
    exact = {k: v for k, v in schema.items() if "*" not in k}
    patterns = {k: v for k, v in schema.items() if "*" in k}

    def spec_of(name: str) -> Optional[ArraySpec]:
        if name in exact:
            return exact[name]
        return next((v for k, v in patterns.items() if fnmatchcase(name, k)), None)

    unexpected = sorted(a for a in arrays if spec_of(a) is None)
    if unexpected:
        raise ArtifactError(f"{where}: unexpected array '{prefix}{unexpected[0]}' (not in the state schema)")
    missing = sorted(set(exact) - set(arrays))
    if missing:
        raise ArtifactError(f"{where}: array '{prefix}{missing[0]}' is missing")
    for name in sorted(arrays):
        kinds, shape = spec_of(name)
        arr = arrays[name]
        label = f"{where}: array '{prefix}{name}'"
        if arr.dtype.kind not in kinds:
            raise ArtifactError(f"{label} has dtype {arr.dtype.str}; expected kind {'/'.join(kinds)}")
        if shape is None:  # any shape (nested or variable-rank state: the dtype rule still applies)
            continue
        if arr.ndim != len(shape):
            raise ArtifactError(f"{label} has {arr.ndim} dimension(s) {tuple(arr.shape)}; expected {len(shape)}")
        for axis, (size, want) in enumerate(zip(arr.shape, shape)):
            if want is None:
                continue
            if isinstance(want, str):
                want_size = dims.setdefault(want, int(size))
                if size != want_size:
                    raise ArtifactError(
                        f"{label} has size {size} on axis {axis}; expected {want}={want_size}"
                    )
            elif size != want:
                raise ArtifactError(f"{label} has size {size} on axis {axis}; expected {want}")
