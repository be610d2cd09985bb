/* A minimal plugin written straight against the aro_plugin_* C ABI (no SDK): the action
   Tally.Count answers {"count": <characters of data>} and the qualifier tally.double
   doubles an integer.  Enough JSON handling for the test's fixed inputs only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *copy(const char *text) {
    char *out = malloc(strlen(text) + 1);
    strcpy(out, text);
    return out;
}

char *aro_plugin_info(void) {
    return copy("{\"name\":\"tally\",\"version\":\"1.0.0\",\"language\":\"c\","
                "\"actions\":[{\"name\":\"Count\",\"verbs\":[\"Tally.Size\"]}],"
                "\"qualifiers\":[{\"name\":\"double\",\"inputTypes\":[\"Int\"]}]}");
}

/* The string value of "data" in the input object, or NULL. */
static const char *data_string(const char *json, size_t *length) {
    const char *key = strstr(json, "\"data\":\"");
    if (!key) return NULL;
    const char *start = key + strlen("\"data\":\"");
    const char *end = strchr(start, '"');
    *length = (size_t)(end - start);
    return start;
}

char *aro_plugin_execute(const char *action, const char *input_json) {
    char buffer[128];
    size_t length = 0;
    if (strcmp(action, "Count") != 0) return copy("{\"error\":\"Unknown action\"}");
    if (!data_string(input_json, &length)) return copy("{\"error\":\"Count needs text\"}");
    snprintf(buffer, sizeof buffer, "{\"count\":%zu}", length);
    return copy(buffer);
}

char *aro_plugin_qualifier(const char *name, const char *input_json) {
    char buffer[128];
    const char *value = strstr(input_json, "\"value\":");
    if (strcmp(name, "double") != 0 || !value) return copy("{\"error\":\"unknown\"}");
    snprintf(buffer, sizeof buffer, "{\"result\":%ld}", 2 * strtol(value + 8, NULL, 10));
    return copy(buffer);
}

void aro_plugin_free(char *pointer) { free(pointer); }
