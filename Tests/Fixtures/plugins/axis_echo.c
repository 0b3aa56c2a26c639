/*
 * axis_echo.c — reads the host's signal axis (UNMIX_HOST_EXT_AXIS, "unmix.axis/1") and hands it
 * back: endmember k, channel b is (k + 1) * (the axis value of channel b), or -1 everywhere
 * when the host gives no axis. It logs the axis' name and units as a warning (always shown).
 * Abundances are 1/r. Used by the tests of the axis extension.
 */
#include "fixture_common.h"

#include <string.h>

static const unmix_axis_t *host_axis(const unmix_host_t *host)
{
    if (host == NULL || host->get_extension == NULL) return NULL;
    const unmix_host_axis_ext_t *ext = (const unmix_host_axis_ext_t *)host->get_extension(host, UNMIX_HOST_EXT_AXIS);
    if (ext == NULL || ext->signal_axis == NULL) return NULL;
    return ext->signal_axis(host);
}

static unmix_status echo_fit(unmix_instance_t *inst, const unmix_cube_t *cube, uint32_t r, float *endmembers)
{
    const unmix_axis_t *axis = host_axis(inst->host);
    if (axis != NULL && axis->size != cube->bands) {
        fx_set_error(inst, "the axis size differs from the cube's bands");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    for (uint32_t k = 0; k < r; k++) {
        for (uint32_t b = 0; b < cube->bands; b++) {
            double v = axis == NULL ? -1.0
                     : (axis->values != NULL ? axis->values[b] : axis->offset + b * axis->scale) * (k + 1);
            endmembers[(size_t)k * cube->bands + b] = (float)v;
        }
    }
    if (axis != NULL && inst->host->log != NULL) {
        char message[200];
        snprintf(message, sizeof message, "axis '%s' in '%s', %u channels", axis->name, axis->units, axis->size);
        inst->host->log(inst->host, UNMIX_LOG_WARNING, message);
    }
    inst->fitted = 1;
    inst->r = r;
    inst->bands = cube->bands;
    return UNMIX_OK;
}

static const unmix_descriptor_t descriptor = {
    "axis_echo", "Axis echo", "1.0.0",
    "Hands the host's signal axis back as its endmembers.",
    "A test fixture for the unmix.axis/1 host extension.",
    "unmix tests", "MIT", NULL,
    0, 0, NULL,
};

static const unmix_plugin_t plugin = {
    UNMIX_ABI_MAJOR, UNMIX_ABI_MINOR, &descriptor,
    fx_create, fx_destroy, fx_set_params_none, echo_fit, fx_abundances_uniform,
    fx_last_error, fx_get_extension,
};

UNMIX_EXPORT const unmix_plugin_t *unmix_plugin_entry(void) { return &plugin; }
