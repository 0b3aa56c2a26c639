/*
 * hostile.c — one plugin per bad behaviour, chosen at compile time:
 *
 *     cc -std=c99 -shared -fPIC -I SDK/include -DHOSTILE_MODE=crash_fit -o libunmix_hostile_crash_fit.so hostile.c -lm
 *
 * Apart from the one behaviour its mode names, each build is a correct plugin: id
 * "hostile_<mode>" (the `shadow` mode: "evil"), no parameters (the table modes: one), the "first
 * pixels" model of fixture_common.h (endmembers = the first r pixels, abundances 1/r), declared
 * UNMIX_CAP_ABUNDANCES_NONNEGATIVE and UNMIX_CAP_ABUNDANCES_SUM_TO_ONE. So a host that fails on a
 * build fails for the named reason alone. The modes:
 *
 *   crash_fit          fit dereferences NULL (SIGSEGV).
 *   abort_fit          fit calls abort() (SIGABRT).
 *   exit_fit           fit calls exit(0): the process ends "successfully" without a result.
 *   loop_fit           fit spins forever and never asks should_cancel.
 *   sleep_create       create sleeps for an hour (restarting the sleep when a signal cuts it).
 *   crash_entry        unmix_plugin_entry dereferences NULL.
 *   crash_constructor  a library constructor dereferences NULL: loading the library crashes.
 *   nan_endmembers     fit succeeds with one NaN among the endmembers (endmember 0, band 1).
 *   inf_abundances     abundances succeed with +inf for endmember 0 of the last pixel.
 *   nan_abundances     abundances succeed with NaN for endmember 0 of the first pixel.
 *   overrun            abundances write the result, then 64 KiB of 0x7f bytes past its end.
 *   huge_alloc         fit mallocs and memsets 100 GB, 1 GB at a time, never freed (returns
 *                      OUT_OF_MEMORY when a malloc fails, as under a memory limit).
 *   stdout_fit         the entry function and fit print a line to stdout (and flush it).
 *   lying_choices      a choice parameter with choice_count 1000 and an array of 2 entries.
 *   huge_default       a choice parameter whose default is 1e300.
 *   nan_bounds         a real parameter flagged with both bounds, both NaN (default 0.5).
 *   shadow             id "evil", display name "VCA".
 *   state_flag         declares UNMIX_CAP_STATE, and get_extension offers no state extension.
 *   forged_error       fit fails; last_error holds a newline, a second "unmix: error: forged"
 *                      line and ANSI colour escapes.
 *   wrong_shape        abundances of 3/r each: every pixel sums to 3 under a sum-to-one promise.
 *   missing_dependency fit calls hostile_helper(), from the library built with -DHOSTILE_HELPER,
 *                      which the tests delete after linking: the dynamic loader refuses the
 *                      library for a missing dependency.
 *
 * -DHOSTILE_HELPER builds that helper library instead (no plugin at all).
 */
#define _POSIX_C_SOURCE 200809L

#include "fixture_common.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#ifdef HOSTILE_HELPER

int hostile_helper(void);
int hostile_helper(void) { return 1; }

#else /* the plugin */

#ifndef HOSTILE_MODE
#error "build with -DHOSTILE_MODE=<mode> (see the list at the top of this file)"
#endif

#define HX_STRING(x) #x
#define HX_EXPAND(x) HX_STRING(x)
/* Taken before the mode names below become macros, so it reads "crash_fit", not "1". */
static const char mode_name[] = HX_EXPAND(HOSTILE_MODE);

/* Every mode as a number, so that `#if HOSTILE_MODE == crash_fit` selects code. Nothing below
 * uses these words as identifiers. */
#define crash_fit 1
#define abort_fit 2
#define exit_fit 3
#define loop_fit 4
#define sleep_create 5
#define crash_entry 6
#define crash_constructor 7
#define nan_endmembers 8
#define inf_abundances 9
#define nan_abundances 10
#define overrun 11
#define huge_alloc 12
#define stdout_fit 13
#define lying_choices 14
#define huge_default 15
#define nan_bounds 16
#define shadow 17
#define state_flag 18
#define forged_error 19
#define wrong_shape 20
#define missing_dependency 21

#if !(HOSTILE_MODE >= 1 && HOSTILE_MODE <= 21)
#error "unknown HOSTILE_MODE (see the list at the top of this file)"
#endif

/* A NULL the compiler cannot see through, so the crashing modes really dereference it. */
static int *volatile nowhere = NULL;

static inline void crash(void) { *nowhere = 1; }

#if HOSTILE_MODE == crash_constructor
__attribute__((constructor)) static void crash_on_load(void) { crash(); }
#endif

#if HOSTILE_MODE == missing_dependency
int hostile_helper(void);
#endif

/* ---- The parameter table: empty, except in the table modes ---- */

#if HOSTILE_MODE == lying_choices
static const char *const two_choices[2] = { "first", "second" };
static const unmix_param_info_t params[1] = {
    { "method", "A choice whose count says 1000 over an array of 2.", NULL,
      UNMIX_PARAM_CHOICE, 0, 0.0, 0.0, 0.0, 1000, two_choices },
};
#define PARAM_COUNT 1
#elif HOSTILE_MODE == huge_default
static const char *const two_choices[2] = { "first", "second" };
static const unmix_param_info_t params[1] = {
    { "method", "A choice whose default index is 1e300.", NULL,
      UNMIX_PARAM_CHOICE, 0, 1e300, 0.0, 0.0, 2, two_choices },
};
#define PARAM_COUNT 1
#elif HOSTILE_MODE == nan_bounds
static const unmix_param_info_t params[1] = {
    { "alpha", "A real whose declared bounds are both NaN.", NULL,
      UNMIX_PARAM_REAL, UNMIX_PARAM_HAS_MIN | UNMIX_PARAM_HAS_MAX, 0.5, NAN, NAN, 0, NULL },
};
#define PARAM_COUNT 1
#else
#define PARAM_COUNT 0
#endif

/* ---- The descriptor ---- */

#define CONSTRAINTS (UNMIX_CAP_ABUNDANCES_NONNEGATIVE | UNMIX_CAP_ABUNDANCES_SUM_TO_ONE)
#if HOSTILE_MODE == state_flag
#define CAPABILITIES (CONSTRAINTS | UNMIX_CAP_STATE)
#else
#define CAPABILITIES CONSTRAINTS
#endif

static char plugin_id[64];
static char plugin_name[64];
static unmix_descriptor_t descriptor = {
    plugin_id, plugin_name, "1.0.0",
    "A test fixture that misbehaves in one way (see hostile.c).",
    "Endmembers are the first r pixels and every abundance is 1/r, except where the mode this "
    "library was built with says otherwise.",
    "unmix tests", "MIT", NULL,
    CAPABILITIES, PARAM_COUNT,
#if PARAM_COUNT > 0
    params,
#else
    NULL,
#endif
};

/* ---- The functions ---- */

static unmix_instance_t *create(const unmix_host_t *host)
{
#if HOSTILE_MODE == sleep_create
    unsigned left = 3600;
    while (left > 0) left = sleep(left);
#endif
    return fx_create(host);
}

static unmix_status set_params(unmix_instance_t *inst, const double *values, uint32_t count, uint64_t seed)
{
    (void)values;
    (void)seed;
    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    if (count != PARAM_COUNT) {
        fx_set_error(inst, "wrong number of parameter values");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    return UNMIX_OK;
}

static unmix_status fit(unmix_instance_t *inst, const unmix_cube_t *cube, uint32_t r, float *endmembers)
{
    unmix_status status;
#if HOSTILE_MODE == crash_fit
    crash();
#elif HOSTILE_MODE == abort_fit
    abort();
#elif HOSTILE_MODE == exit_fit
    exit(0);
#elif HOSTILE_MODE == loop_fit
    volatile unsigned long spins = 0;
    for (;;) spins++;
#elif HOSTILE_MODE == huge_alloc
    /* In 1 GB blocks: one 100 GB request would be refused up front by Linux's default
     * overcommit heuristic, each 1 GB one is granted, and touching them is what costs. */
    size_t block_size = (size_t)1000 * 1000 * 1000, blocks;
    for (blocks = 0; blocks < 100; blocks++) {
        char *block = (char *)malloc(block_size);
        if (block == NULL) {   /* under a memory limit: a clean failure (the blocks leak) */
            if (inst != NULL) fx_set_error(inst, "could not allocate 100 GB");
            return UNMIX_ERR_OUT_OF_MEMORY;
        }
        memset(block, 1, block_size);
    }
#elif HOSTILE_MODE == stdout_fit
    printf("hostile_stdout_fit: written to stdout by fit\n");
    fflush(stdout);
#elif HOSTILE_MODE == forged_error
    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    inst->fitted = 0;
    fx_set_error(inst, "fit failed\nunmix: error: forged\n\033[31mred text\033[0m\033[2K");
    return UNMIX_ERR_NUMERICAL;
#elif HOSTILE_MODE == missing_dependency
    if (hostile_helper() != 1) return UNMIX_ERR_INTERNAL;
#endif
    status = fx_fit_first_pixels(inst, cube, r, endmembers);
#if HOSTILE_MODE == nan_endmembers
    if (status == UNMIX_OK) endmembers[1] = NAN;
#endif
    return status;
}

static unmix_status abundances(unmix_instance_t *inst, const unmix_cube_t *cube, float *out)
{
    unmix_status status = fx_abundances_uniform(inst, cube, out);
    size_t n;
    if (status != UNMIX_OK) return status;
    n = (size_t)cube->rows * cube->cols * inst->r;
    (void)n;
#if HOSTILE_MODE == inf_abundances
    out[n - inst->r] = INFINITY;
#elif HOSTILE_MODE == nan_abundances
    out[0] = NAN;
#elif HOSTILE_MODE == overrun
    memset(out + n, 0x7f, 64 * 1024);
#elif HOSTILE_MODE == wrong_shape
    {
        size_t i;
        for (i = 0; i < n; i++) out[i] = 3.0f / (float)inst->r;
    }
#endif
    return status;
}

static const void *get_extension(const unmix_plugin_t *plugin, const char *id)
{
    (void)plugin;
    (void)id;
    return NULL; /* no extension, state_flag's claim notwithstanding */
}

static const unmix_plugin_t plugin = {
    UNMIX_ABI_MAJOR, UNMIX_ABI_MINOR, &descriptor,
    create, fx_destroy, set_params, fit, abundances, fx_last_error, get_extension,
};

UNMIX_EXPORT const unmix_plugin_t *unmix_plugin_entry(void)
{
#if HOSTILE_MODE == crash_entry
    crash();
#elif HOSTILE_MODE == stdout_fit
    printf("hostile_stdout_fit: written to stdout by unmix_plugin_entry\n");
    fflush(stdout);
#endif
#if HOSTILE_MODE == shadow
    (void)mode_name;
    snprintf(plugin_id, sizeof plugin_id, "evil");
    snprintf(plugin_name, sizeof plugin_name, "VCA");
#else
    snprintf(plugin_id, sizeof plugin_id, "hostile_%s", mode_name);
    snprintf(plugin_name, sizeof plugin_name, "Hostile %s", mode_name);
#endif
    return &plugin;
}

#endif /* HOSTILE_HELPER */
