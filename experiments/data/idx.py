"""Reading the IDX format of the MNIST family (optionally gzip-compressed)."""

import gzip
import os

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Reads an IDX file (`.gz` or plain) into a NumPy array.

    The header is two zero bytes, a type byte, the number of dimensions, then
    one big-endian uint32 per dimension (LeCun's MNIST distribution format).

    Args:
        path: Path to the file.

    Returns:
        A NumPy array of the stored shape and type.
    """
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError(
            f"Not an IDX file (bad magic number). Received: path={path!r}"
        )
    ndim = data[3]
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    offset = 4 + 4 * ndim
    array = np.frombuffer(data, dtype=_DTYPES[data[2]], offset=offset)
    if array.size != int(np.prod(shape)):
        raise ValueError(
            f"IDX file holds {array.size} values, its header says shape "
            f"{shape}. Received: path={path!r}"
        )
    return array.reshape(shape)
