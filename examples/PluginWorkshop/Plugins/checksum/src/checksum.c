/* Checksum.Adler: the Adler-32 checksum of the "data" text, answered as {"adler32": N}.
   Written straight against the aro_plugin_* C ABI; aro-py builds it with the system C
   compiler the first time the application starts. The JSON reading is just enough for a
   text without escapes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *answer(const char *text) {
    char *out = malloc(strlen(text) + 1);
    if (out) strcpy(out, text);
    return out;
}

char *aro_plugin_info(void) {
    return answer("{\"name\":\"plugin-c-checksum\",\"version\":\"1.0.0\",\"language\":\"c\","
                  "\"actions\":[{\"name\":\"Adler\"}],\"qualifiers\":[]}");
}

char *aro_plugin_execute(const char *action, const char *input_json) {
    const char *key = strstr(input_json, "\"data\":\"");
    uint32_t a = 1, b = 0;
    char buffer[64];
    if (strcmp(action, "Adler") != 0) return answer("{\"error\":\"Unknown action\"}");
    if (!key) return answer("{\"error\":\"Adler needs a text\"}");
    for (const char *c = key + strlen("\"data\":\""); *c && *c != '"'; c++) {
        a = (a + (unsigned char)*c) % 65521;
        b = (b + a) % 65521;
    }
    snprintf(buffer, sizeof buffer, "{\"adler32\":%lu}", (unsigned long)((b << 16) | a));
    return answer(buffer);
}

void aro_plugin_free(char *pointer) { free(pointer); }
