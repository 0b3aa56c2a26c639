/*
 * fixture_common.h — shared pieces of the test-fixture plugins in this folder.
 *
 * Each fixture is one C file that includes this header and defines its own descriptor, plugin
 * table and entry. The helpers here are `static inline` so that a fixture may use any subset of
 * them without unused-function warnings. The "first pixels" model (endmembers = the first r
 * pixels, abundances all 1/r) is trivial on purpose: fixtures exercise the loader and the
 * host's handling of plugins, not unmixing.
 *
 * Built by the tests with: cc -std=c99 -shared -fPIC -I SDK/include -o lib.so fixture.c -lm
 */
#ifndef UNMIX_FIXTURE_COMMON_H
#define UNMIX_FIXTURE_COMMON_H

#include "unmix.h"

#include <stdio.h>
#include <stdlib.h>

struct unmix_instance {
    const unmix_host_t *host;
    int fitted;
    uint32_t r;
    uint32_t bands;
    char error[256];
};

static inline void fx_set_error(unmix_instance_t *inst, const char *message)
{
    snprintf(inst->error, sizeof inst->error, "%s", message);
}

static inline unmix_instance_t *fx_create(const unmix_host_t *host)
{
    unmix_instance_t *inst = (unmix_instance_t *)calloc(1, sizeof *inst);
    if (inst != NULL) inst->host = host;
    return inst;
}

static inline void fx_destroy(unmix_instance_t *inst)
{
    free(inst);
}

static inline const char *fx_last_error(const unmix_instance_t *inst)
{
    return inst == NULL ? "" : inst->error;
}

static inline const void *fx_get_extension(const unmix_plugin_t *plugin, const char *id)
{
    (void)plugin;
    (void)id;
    return NULL;
}

/* set_params for a plugin without parameters: accepts exactly zero values. */
static inline unmix_status fx_set_params_none(unmix_instance_t *inst, const double *values,
                                              uint32_t count, uint64_t seed)
{
    (void)values;
    (void)seed;
    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    if (count != 0) {
        fx_set_error(inst, "this plugin takes no parameters");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    return UNMIX_OK;
}

/* Fit: the first r pixels are the endmembers. */
static inline unmix_status fx_fit_first_pixels(unmix_instance_t *inst, const unmix_cube_t *cube,
                                               uint32_t r, float *endmembers)
{
    size_t i, n;
    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    inst->fitted = 0;
    if (cube == NULL || cube->data == NULL || endmembers == NULL) {
        fx_set_error(inst, "NULL cube, data or endmembers");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    if (r < 1 || r >= cube->bands || (size_t)r > (size_t)cube->rows * cube->cols) {
        fx_set_error(inst, "need 1 <= r < bands and r <= pixels");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    n = (size_t)r * cube->bands;
    for (i = 0; i < n; i++) endmembers[i] = cube->data[i];
    inst->r = r;
    inst->bands = cube->bands;
    inst->fitted = 1;
    return UNMIX_OK;
}

/* Abundances: 1/r everywhere. */
static inline unmix_status fx_abundances_uniform(unmix_instance_t *inst, const unmix_cube_t *cube,
                                                 float *abundances)
{
    size_t i, n;
    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    if (!inst->fitted) {
        fx_set_error(inst, "abundances called before a successful fit");
        return UNMIX_ERR_BAD_STATE;
    }
    if (cube == NULL || cube->data == NULL || abundances == NULL) {
        fx_set_error(inst, "NULL cube, data or abundances");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    if (cube->bands != inst->bands) {
        fx_set_error(inst, "band count differs from the fitted cube");
        return UNMIX_ERR_BAD_STATE;
    }
    n = (size_t)cube->rows * cube->cols * inst->r;
    for (i = 0; i < n; i++) abundances[i] = 1.0f / (float)inst->r;
    return UNMIX_OK;
}

#endif /* UNMIX_FIXTURE_COMMON_H */
