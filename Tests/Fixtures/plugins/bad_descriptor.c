/*
 * bad_descriptor.c — a plugin whose descriptor is invalid: the default of its integer
 * parameter `iterations` (0) lies outside the declared range [1, 10]. The host must refuse it.
 */
#include "fixture_common.h"

static const unmix_param_info_t params[1] = {
    { "iterations", "An integer whose default lies below its minimum.", NULL,
      UNMIX_PARAM_INTEGER, UNMIX_PARAM_HAS_MIN | UNMIX_PARAM_HAS_MAX,
      0.0, 1.0, 10.0, 0, NULL },
};

static const unmix_descriptor_t descriptor = {
    "bad_descriptor", "Bad descriptor", "1.0.0",
    "A parameter default outside its range.",
    "A test fixture: the host must refuse a descriptor whose parameter default lies outside "
    "the parameter's bounds.",
    "unmix tests", "MIT", NULL,
    0, 1, params,
};

static unmix_status set_params(unmix_instance_t *inst, const double *values, uint32_t count,
                               uint64_t seed)
{
    (void)seed;
    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    if (count != 1 || values == NULL) {
        fx_set_error(inst, "expected 1 parameter value");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    if (values[0] < 1.0 || values[0] > 10.0 || values[0] != (double)(int)values[0]) {
        fx_set_error(inst, "parameter 'iterations': must be an integer in [1, 10]");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    return UNMIX_OK;
}

static const unmix_plugin_t plugin = {
    UNMIX_ABI_MAJOR, UNMIX_ABI_MINOR, &descriptor,
    fx_create, fx_destroy, set_params, fx_fit_first_pixels, fx_abundances_uniform,
    fx_last_error, fx_get_extension,
};

UNMIX_EXPORT const unmix_plugin_t *unmix_plugin_entry(void) { return &plugin; }
