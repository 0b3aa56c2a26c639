/*
 * minimal.c — the smallest valid plugin: id "minimal", no parameters. `fit` returns the first
 * r pixels as endmembers; `abundances` are 1/r everywhere. Used by the conformance tests.
 */
#include "fixture_common.h"

static const unmix_descriptor_t descriptor = {
    "minimal", "Minimal", "1.0.0",
    "The smallest valid plugin: the first r pixels are the endmembers.",
    "A test fixture. Endmembers are the first r pixels of the cube; every abundance is 1/r.",
    "unmix tests", "MIT", NULL,
    0, 0, NULL,
};

static const unmix_plugin_t plugin = {
    UNMIX_ABI_MAJOR, UNMIX_ABI_MINOR, &descriptor,
    fx_create, fx_destroy, fx_set_params_none, fx_fit_first_pixels, fx_abundances_uniform,
    fx_last_error, fx_get_extension,
};

UNMIX_EXPORT const unmix_plugin_t *unmix_plugin_entry(void) { return &plugin; }
