/*
 * wrong_abi.c — a complete plugin, valid in every respect but one: its table declares
 * abi_major = UNMIX_ABI_MAJOR + 1. The host must refuse it.
 */
#include "fixture_common.h"

static const unmix_descriptor_t descriptor = {
    "wrong_abi", "Wrong ABI", "1.0.0",
    "Built against a future major ABI version.",
    "A test fixture: the host must refuse a plugin whose abi_major differs from its own.",
    "unmix tests", "MIT", NULL,
    0, 0, NULL,
};

static const unmix_plugin_t plugin = {
    UNMIX_ABI_MAJOR + 1, UNMIX_ABI_MINOR, &descriptor,
    fx_create, fx_destroy, fx_set_params_none, fx_fit_first_pixels, fx_abundances_uniform,
    fx_last_error, fx_get_extension,
};

UNMIX_EXPORT const unmix_plugin_t *unmix_plugin_entry(void) { return &plugin; }
