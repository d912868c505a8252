"""dicompile.runtime: the hand-written engine that executes the generated code.

The front door for files is :func:`read_file` and :func:`write_file` (PS3.10).  They import
the codecs on first call, so ``import dicompile.runtime`` stays cheap.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dicompile.runtime.codec.transfer_syntax import TransferSyntax
    from dicompile.runtime.codec.writer import LengthPolicy
    from dicompile.runtime.core.dataset import Dataset
    from dicompile.runtime.media.part10 import FileDataset

#: Values at least this long stay in the file until used (1 MiB).
DEFAULT_DEFER_SIZE = 1 << 20


def read_file(
    path: str | os.PathLike[str],
    *,
    stop_before_pixels: bool = False,
    defer_size: int | None = DEFAULT_DEFER_SIZE,
    strict: bool = False,
) -> FileDataset:
    """Read a DICOM Part 10 file: ``.meta`` (group 0002), ``.dataset``, ``.transfer_syntax``.

    See :func:`dicompile.runtime.media.part10.read_file` for every option.

    References
    ----------
    PS3.10 §7.1; PS3.5 §7 and Annex A.
    """
    from dicompile.runtime.media import part10

    return part10.read_file(
        path, stop_before_pixels=stop_before_pixels, defer_size=defer_size, strict=strict
    )


def write_file(
    path: str | os.PathLike[str],
    dataset: Dataset | FileDataset,
    *,
    transfer_syntax: str | TransferSyntax | None = None,
    lengths: LengthPolicy | None = None,
    strict: bool = False,
    durable: bool = False,
) -> int:
    """Write a DICOM Part 10 file atomically (fsynced too with ``durable=True``);
    returns its size.

    See :func:`dicompile.runtime.media.part10.write_file` for every option.

    References
    ----------
    PS3.10 §7.1, Table 7.1-1; PS3.5 Annex A.
    """
    from dicompile.runtime.codec.writer import LengthPolicy
    from dicompile.runtime.media import part10

    return part10.write_file(
        path,
        dataset,
        transfer_syntax=transfer_syntax,
        lengths=lengths or LengthPolicy.PRESERVE,
        strict=strict,
        durable=durable,
    )


__all__ = ["DEFAULT_DEFER_SIZE", "read_file", "write_file"]
