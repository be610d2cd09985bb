# cython: language_level=3
"""Compiled WebSocket codec primitives (the pure-Python twin is ``_pure.py``)."""

from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize

IMPLEMENTATION = "compiled"


def apply_mask(bytes data, bytes mask):
    """XOR ``data`` with the 4-byte ``mask`` (RFC 6455 §5.3), eight bytes at a time."""
    if len(mask) != 4:
        raise ValueError("mask must be 4 bytes")
    cdef Py_ssize_t n = len(data), i = 0, words = n // 8
    result = PyBytes_FromStringAndSize(NULL, n)
    cdef uint8_t* out = <uint8_t*> PyBytes_AS_STRING(result)
    cdef const uint8_t* src = <const uint8_t*> PyBytes_AS_STRING(data)
    cdef const uint8_t* key = <const uint8_t*> PyBytes_AS_STRING(mask)
    cdef uint8_t wide[8]
    cdef uint64_t key64, word
    for i in range(8):
        wide[i] = key[i % 4]
    memcpy(&key64, wide, 8)
    for i in range(words):
        memcpy(&word, src + i * 8, 8)
        word ^= key64
        memcpy(out + i * 8, &word, 8)
    for i in range(words * 8, n):
        out[i] = src[i] ^ key[i % 4]
    return result
