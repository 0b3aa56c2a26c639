/*
 * failing.c — a valid plugin whose `fit` always fails with UNMIX_ERR_NUMERICAL and the
 * last_error "deliberate failure for tests". For testing how the host reports plugin errors.
 */
#include "fixture_common.h"

static const unmix_descriptor_t descriptor = {
    "failing", "Failing", "1.0.0",
    "Every fit fails with a numerical error.",
    "A test fixture: fit always returns UNMIX_ERR_NUMERICAL with a fixed reason.",
    "unmix tests", "MIT", NULL,
    0, 0, NULL,
};

static unmix_status fit(unmix_instance_t *inst, const unmix_cube_t *cube, uint32_t r,
                        float *endmembers)
{
    (void)cube;
    (void)r;
    (void)endmembers;
    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    inst->fitted = 0;
    fx_set_error(inst, "deliberate failure for tests");
    return UNMIX_ERR_NUMERICAL;
}

static const unmix_plugin_t plugin = {
    UNMIX_ABI_MAJOR, UNMIX_ABI_MINOR, &descriptor,
    fx_create, fx_destroy, fx_set_params_none, fit, fx_abundances_uniform,
    fx_last_error, fx_get_extension,
};

UNMIX_EXPORT const unmix_plugin_t *unmix_plugin_entry(void) { return &plugin; }
