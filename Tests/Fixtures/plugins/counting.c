/*
 * counting.c — a valid plugin (as minimal.c, id "counting" or -DCOUNTING_ID="...") that appends
 * a line to the file named by UNMIX_TEST_LOAD_LOG each time a process loads it: the registry
 * tests count how often discovery really loads a library.
 */
#include "fixture_common.h"
#include <stdio.h>
#include <stdlib.h>

#ifndef COUNTING_ID
#define COUNTING_ID "counting"
#endif

__attribute__((constructor)) static void count_load(void) {
    const char *path = getenv("UNMIX_TEST_LOAD_LOG");
    if (path == NULL) return;
    FILE *f = fopen(path, "a");
    if (f == NULL) return;
    fputs(COUNTING_ID "\n", f);
    fclose(f);
}

static const unmix_descriptor_t descriptor = {
    COUNTING_ID, "Counting " COUNTING_ID, "1.0.0",
    "A valid plugin that records each load.",
    "A test fixture: the first r pixels are the endmembers; every abundance is 1/r.",
    "unmix tests", "MIT", NULL,
    0, 0, NULL,
};

static const unmix_plugin_t plugin = {
    UNMIX_ABI_MAJOR, UNMIX_ABI_MINOR, &descriptor,
    fx_create, fx_destroy, fx_set_params_none, fx_fit_first_pixels, fx_abundances_uniform,
    fx_last_error, fx_get_extension,
};

UNMIX_EXPORT const unmix_plugin_t *unmix_plugin_entry(void) { return &plugin; }
