/*
 * crashing.c — a valid plugin whose `fit` dereferences a NULL pointer (SIGSEGV). For testing
 * that the host survives, or at least reports, a crashing plugin.
 */
#include "fixture_common.h"

static const unmix_descriptor_t descriptor = {
    "crashing", "Crashing", "1.0.0",
    "Every fit crashes with a segmentation fault.",
    "A test fixture: fit writes through a NULL pointer.",
    "unmix tests", "MIT", NULL,
    0, 0, NULL,
};

/* Volatile, so that the compiler cannot prove the pointer NULL and turn the store into a trap
 * instruction (SIGILL) or drop it: the store really happens, at address 0. */
static int *volatile null_pointer = NULL;

static unmix_status fit(unmix_instance_t *inst, const unmix_cube_t *cube, uint32_t r,
                        float *endmembers)
{
    (void)inst;
    (void)cube;
    (void)endmembers;
    *null_pointer = (int)r;
    return UNMIX_OK;
}

static const unmix_plugin_t plugin = {
    UNMIX_ABI_MAJOR, UNMIX_ABI_MINOR, &descriptor,
    fx_create, fx_destroy, fx_set_params_none, fit, fx_abundances_uniform,
    fx_last_error, fx_get_extension,
};

UNMIX_EXPORT const unmix_plugin_t *unmix_plugin_entry(void) { return &plugin; }
