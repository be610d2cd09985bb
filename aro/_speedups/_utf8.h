/* The incremental UTF-8 validator of _codec.pyx (text messages, RFC 6455 8.1). */

#ifndef ARO_UTF8_H
#define ARO_UTF8_H

#include <stdint.h>
#include <string.h>

/* UTF-8 validation as a DFA over byte classes (Unicode 15, table 3-7), so a text message
   can be checked piece by piece: the state carries over between frames and feed() calls
   and turns REJECT at the first byte no continuation could make valid. */
enum { ARO_UTF8_ACCEPT = 0, ARO_UTF8_REJECT = 1 };
static uint8_t aro_utf8_class[256];
/* States: 0 accept, 1 reject, 2/3/4 need 1/2/3 continuation bytes, 5 after E0 (needs
   A0-BF), 6 after ED (80-9F), 7 after F0 (90-BF), 8 after F4 (80-8F). Classes: 0 ASCII,
   1 80-8F, 2 90-9F, 3 A0-BF, 4 never valid, 5 C2-DF, 6 E0, 7 E1-EC EE-EF, 8 ED, 9 F0,
   10 F1-F3, 11 F4. */
static const uint8_t aro_utf8_next[9][12] = {
    {0, 1, 1, 1, 1, 2, 5, 3, 6, 7, 4, 8},
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    {1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
};

static void aro_utf8_init(void)
{
    int b;
    for (b = 0; b < 256; b++) {
        aro_utf8_class[b] =
            b < 0x80 ? 0 : b < 0x90 ? 1 : b < 0xA0 ? 2 : b < 0xC0 ? 3 : b < 0xC2 ? 4 :
            b < 0xE0 ? 5 : b == 0xE0 ? 6 : b == 0xED ? 8 : b < 0xF0 ? 7 : b == 0xF0 ? 9 :
            b < 0xF4 ? 10 : b == 0xF4 ? 11 : 4;
    }
}

/* Run the DFA over p[0:n] from `state`; ASCII runs are skipped a word at a time. */
static int aro_utf8_run(int state, const uint8_t *p, size_t n)
{
    size_t i = 0;
    uint64_t word;
    while (i < n) {
        if (state == ARO_UTF8_ACCEPT) {
            while (i + 8 <= n) {
                memcpy(&word, p + i, 8);
                if (word & 0x8080808080808080ULL) break;
                i += 8;
            }
            if (i == n) break;
        }
        state = aro_utf8_next[state][aro_utf8_class[p[i++]]];
        if (state == ARO_UTF8_REJECT) break;
    }
    return state;
}

#endif /* ARO_UTF8_H */
