/* The WebSocket unmask kernel of _codec.pyx (RFC 6455 5.3). */

#ifndef ARO_MASK_H
#define ARO_MASK_H

#include <stdint.h>
#include <string.h>

/* GCC on x86-64 Linux builds the unmask loop twice, plain and AVX2, and picks one at load
   time (ifunc), so the wheel stays portable while AVX2 machines get 32-byte XORs. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define ARO_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ARO_CLONES
#endif

/* A block of payload XORed at once: a 32-byte vector where the compiler has them. */
#if defined(__GNUC__)
typedef uint64_t aro_block __attribute__((vector_size(32)));
#else
typedef uint64_t aro_block;
#endif
#define ARO_UNROLL (4 * sizeof(aro_block))

/* dst[i] = src[i] ^ mask[(phase + i) % 4] (RFC 6455 5.3). Long payloads first XOR bytes
   up to a 32-byte boundary of dst (aligned stores; the loads stay unaligned), then four
   blocks per step with the rotated mask replicated into every 8-byte lane, then words,
   then bytes. memcpy keeps every access alignment-safe and compiles to plain moves. */
ARO_CLONES
static void aro_unmask(uint8_t *restrict dst, const uint8_t *restrict src, size_t n,
                       const uint8_t *mask, size_t phase)
{
    uint8_t key[8];
    uint64_t key64, word;
    aro_block b0, b1, b2, b3, keys;
    size_t i = 0, j, start = 0;
    if (n >= ARO_UNROLL + 32) {
        start = (32 - ((uintptr_t)dst & 31)) & 31;
        for (; i < start; i++) dst[i] = src[i] ^ mask[(phase + i) & 3];
    }
    for (j = 0; j < 8; j++) key[j] = mask[(phase + start + j) & 3];
    memcpy(&key64, key, 8);
    for (j = 0; j < sizeof keys; j += 8) memcpy((uint8_t *)&keys + j, &key64, 8);
    for (; i + ARO_UNROLL <= n; i += ARO_UNROLL) {
        /* Four named blocks, not an array: GCC keeps them in registers. */
        memcpy(&b0, src + i, sizeof b0);
        memcpy(&b1, src + i + sizeof b0, sizeof b0);
        memcpy(&b2, src + i + 2 * sizeof b0, sizeof b0);
        memcpy(&b3, src + i + 3 * sizeof b0, sizeof b0);
        b0 ^= keys;
        b1 ^= keys;
        b2 ^= keys;
        b3 ^= keys;
        memcpy(dst + i, &b0, sizeof b0);
        memcpy(dst + i + sizeof b0, &b1, sizeof b0);
        memcpy(dst + i + 2 * sizeof b0, &b2, sizeof b0);
        memcpy(dst + i + 3 * sizeof b0, &b3, sizeof b0);
    }
    for (; i + 8 <= n; i += 8) {
        memcpy(&word, src + i, 8);
        word ^= key64;
        memcpy(dst + i, &word, 8);
    }
    for (; i < n; i++) dst[i] = src[i] ^ key[(i - start) & 3];
}

#endif /* ARO_MASK_H */
