"""Pure-Python twin of ``_codec.pyx``: the same API, used when the extension is absent."""

IMPLEMENTATION = "pure"


def apply_mask(data: bytes, mask: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``mask`` (RFC 6455 §5.3) as one big integer operation."""
    if len(mask) != 4:
        raise ValueError("mask must be 4 bytes")
    size = len(data)
    if not size:
        return b""
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(size, "little")
