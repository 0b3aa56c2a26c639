/*
 * check.c — a stand-alone driver that exercises an unmix plugin without the Swift host.
 *
 *     ./check_driver ./libunmix_atgp.so
 *
 * It loads the library, prints the descriptor, then, with a stub host, fits a small synthetic
 * cube whose endmembers are known (3 Gaussian spectra over 50 bands, one pure pixel each, the
 * other pixels random mixtures on the simplex) and checks that the endmembers found match the
 * truth (spectral angle < 0.05 rad after the best matching) and that the abundances are
 * non-negative and, with the default parameters, sum to one. It also checks a few error paths
 * and, for a plugin that declares UNMIX_CAP_STATE, the "unmix.state/2" extension: model_shape,
 * save, load into a new instance, the same abundances, damaged states refused.
 * Exits 0 when every check passes, 1 otherwise. A developer aid; the real tests go through the
 * host.
 */
#define _POSIX_C_SOURCE 200809L

#include "unmix.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 10u
#define COLS 10u
#define BANDS 50u
#define R 3u
#define PIXELS (ROWS * COLS)
#define MAX_ANGLE 0.05

static int failures = 0;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "FAIL: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    failures++;
}

static void pass(const char *what)
{
    fprintf(stderr, "ok:   %s\n", what);
}

/* ---- stub host ---- */

static int cancel_requested = 0;

static void stub_log(const unmix_host_t *host, unmix_log_level level, const char *message)
{
    static const char *const names[] = { "debug", "info", "warning", "error" };
    (void)host;
    fprintf(stderr, "  [plugin %s] %s\n",
            level >= 0 && level <= 3 ? names[level] : "?", message);
}

static void stub_progress(const unmix_host_t *host, double fraction, const char *message)
{
    (void)host;
    if (fraction < 0.0 || fraction > 1.0) fail("progress fraction in [0, 1]", message);
    fprintf(stderr, "  [progress] %5.1f%% %s\n", 100.0 * fraction, message ? message : "");
}

static bool stub_should_cancel(const unmix_host_t *host)
{
    (void)host;
    return cancel_requested != 0;
}

static const void *stub_get_extension(const unmix_host_t *host, const char *id)
{
    (void)host;
    (void)id;
    return NULL;
}

/* ---- synthetic data ---- */

/* A 64-bit linear congruential generator (Knuth's MMIX constants); uniform in (0, 1). */
static double lcg_uniform(unsigned long long *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(*state >> 11) + 0.5) / 9007199254740992.0; /* 2^53 */
}

static void make_truth(float *endmembers)
{
    static const double centers[R] = { 10.0, 25.0, 40.0 };
    static const double widths[R] = { 4.0, 6.0, 5.0 };
    static const double heights[R] = { 1.0, 0.8, 0.9 };
    unsigned e, b;
    for (e = 0; e < R; e++) {
        for (b = 0; b < BANDS; b++) {
            double z = ((double)b - centers[e]) / widths[e];
            endmembers[e * BANDS + b] = (float)(0.05 + heights[e] * exp(-0.5 * z * z));
        }
    }
}

/* Pixel p mixes the endmembers with abundances drawn uniformly on the simplex (normalized
 * exponentials); a few pixels are pure so that a pure-pixel method can find the vertices. */
static void make_cube(const float *endmembers, float *cube, double *abundances)
{
    static const unsigned pure[R] = { 7, 42, 93 };
    unsigned long long state = 20240531ULL;
    unsigned p, e, b;
    for (p = 0; p < PIXELS; p++) {
        double sum = 0.0;
        for (e = 0; e < R; e++) {
            abundances[p * R + e] = -log(lcg_uniform(&state));
            sum += abundances[p * R + e];
        }
        for (e = 0; e < R; e++) abundances[p * R + e] /= sum;
    }
    for (e = 0; e < R; e++) {
        unsigned k;
        for (k = 0; k < R; k++) abundances[pure[e] * R + k] = k == e ? 1.0 : 0.0;
    }
    for (p = 0; p < PIXELS; p++) {
        for (b = 0; b < BANDS; b++) {
            double s = 0.0;
            for (e = 0; e < R; e++) s += abundances[p * R + e] * endmembers[e * BANDS + b];
            cube[p * BANDS + b] = (float)s;
        }
    }
}

static double spectral_angle(const float *x, const float *y, unsigned n)
{
    double xy = 0.0, xx = 0.0, yy = 0.0, c;
    unsigned i;
    for (i = 0; i < n; i++) {
        xy += (double)x[i] * y[i];
        xx += (double)x[i] * x[i];
        yy += (double)y[i] * y[i];
    }
    if (xx <= 0.0 || yy <= 0.0) return acos(-1.0);
    c = xy / sqrt(xx * yy);
    if (c > 1.0) c = 1.0;
    if (c < -1.0) c = -1.0;
    return acos(c);
}

/* Best matching of found to true endmembers over the R! permutations (R = 3): match[i] is the
 * true endmember of found endmember i. Returns the largest angle of the best matching. */
static double best_matching(const float *found, const float *truth, unsigned match[R])
{
    static const unsigned perms[6][R] = {
        { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 }
    };
    double best = 1e300;
    unsigned k, i;
    for (k = 0; k < 6; k++) {
        double worst = 0.0;
        for (i = 0; i < R; i++) {
            double a = spectral_angle(found + i * BANDS, truth + perms[k][i] * BANDS, BANDS);
            if (a > worst) worst = a;
        }
        if (worst < best) {
            best = worst;
            for (i = 0; i < R; i++) match[i] = perms[k][i];
        }
    }
    return best;
}

/* ---- driver ---- */

static const char *type_name(unmix_param_type t)
{
    switch (t) {
    case UNMIX_PARAM_INTEGER: return "integer";
    case UNMIX_PARAM_REAL: return "real";
    case UNMIX_PARAM_BOOLEAN: return "boolean";
    case UNMIX_PARAM_CHOICE: return "choice";
    default: return "?";
    }
}

static void print_descriptor(const unmix_plugin_t *plugin)
{
    const unmix_descriptor_t *d = plugin->descriptor;
    uint32_t i, c;
    printf("abi:          %u.%u\n", (unsigned)plugin->abi_major, (unsigned)plugin->abi_minor);
    printf("id:           %s\n", d->id);
    printf("name:         %s\n", d->name);
    printf("version:      %s\n", d->version);
    printf("summary:      %s\n", d->summary);
    printf("authors:      %s\n", d->authors ? d->authors : "(none)");
    printf("license:      %s\n", d->license ? d->license : "(none)");
    printf("capabilities: 0x%llx\n", (unsigned long long)d->capabilities);
    printf("description:\n  %s\n", d->description);
    printf("parameters (%u):\n", (unsigned)d->param_count);
    for (i = 0; i < d->param_count; i++) {
        const unmix_param_info_t *p = &d->params[i];
        printf("  %-12s %-8s default %g", p->id, type_name(p->type), p->default_value);
        if (p->flags & UNMIX_PARAM_HAS_MIN) printf(", min %g", p->min_value);
        if (p->flags & UNMIX_PARAM_HAS_MAX) printf(", max %g", p->max_value);
        if (p->flags & UNMIX_PARAM_LOG_SCALE) printf(", log scale");
        if (p->type == UNMIX_PARAM_CHOICE) {
            printf(", choices {");
            for (c = 0; c < p->choice_count; c++) printf("%s%s", c ? ", " : "", p->choices[c]);
            printf("}");
        }
        printf("\n    %s\n", p->help);
    }
}

static void expect_status(const char *what, unmix_status got, unmix_status want,
                          const unmix_plugin_t *plugin, const unmix_instance_t *inst)
{
    char detail[400];
    if (got == want) {
        fprintf(stderr, "ok:   %s (status %d: \"%s\")\n", what, (int)got,
                got == UNMIX_OK ? "" : plugin->last_error(inst));
        return;
    }
    snprintf(detail, sizeof detail, "status %d, expected %d (last_error \"%s\")", (int)got,
             (int)want, plugin->last_error(inst));
    fail(what, detail);
}

/* ---- the state extension ---- */

struct byte_buffer {
    unsigned char *bytes;
    size_t size;
};

static bool buffer_write(void *context, const void *bytes, size_t size)
{
    struct byte_buffer *b = (struct byte_buffer *)context;
    unsigned char *grown = (unsigned char *)realloc(b->bytes, b->size + size + 1);
    if (grown == NULL) return false;
    b->bytes = grown;
    if (size > 0) memcpy(b->bytes + b->size, bytes, size);
    b->size += size;
    return true;
}

/*
 * Saves the model of `inst` (fitted on `cube` with `values`), restores it into a new instance
 * set to the same values and checks the restored abundances are the same bits (as for a
 * deterministic abundance step); then that a truncated state, each single-byte change of the
 * first 16 bytes and a change in the last byte are refused, leaving the restored model in place.
 */
static void check_state(const unmix_plugin_t *plugin, const unmix_host_t *host,
                        unmix_instance_t *inst, const double *values, uint32_t count,
                        const unmix_cube_t *cube, const float *expected)
{
    static float restored[PIXELS * R], first[PIXELS * R];
    const unmix_state2_ext_t *ext;
    struct byte_buffer saved = { NULL, 0 };
    unmix_instance_t *other;
    uint32_t r = 0, bands = 0;
    size_t i;
    int refused = 0, tried = 0;

    if (!(plugin->descriptor->capabilities & UNMIX_CAP_STATE)) return;
    ext = (const unmix_state2_ext_t *)plugin->get_extension(plugin, UNMIX_EXT_STATE_2);
    if (ext == NULL) {
        fail("a plugin declaring UNMIX_CAP_STATE offers " UNMIX_EXT_STATE_2, NULL);
        return;
    }
    other = plugin->create(host);
    if (other == NULL) {
        fail("create (for the state checks)", NULL);
        return;
    }
    expect_status("model_shape before any fit or load", ext->model_shape(other, &r, &bands),
                  UNMIX_ERR_BAD_STATE, plugin, other);
    expect_status("save before any fit", ext->save(other, buffer_write, &saved),
                  UNMIX_ERR_BAD_STATE, plugin, other);
    free(saved.bytes);
    saved.bytes = NULL;
    saved.size = 0;
    expect_status("save", ext->save(inst, buffer_write, &saved), UNMIX_OK, plugin, inst);
    expect_status("set_params (for the restored model)",
                  plugin->set_params(other, values, count, 0), UNMIX_OK, plugin, other);
    expect_status("load", ext->load(other, saved.bytes, saved.size), UNMIX_OK, plugin, other);
    expect_status("model_shape after load", ext->model_shape(other, &r, &bands), UNMIX_OK,
                  plugin, other);
    if (r == R && bands == BANDS) pass("model_shape gives (R, bands)");
    else fail("model_shape gives (R, bands)", NULL);
    expect_status("abundances of the restored model", plugin->abundances(other, cube, restored),
                  UNMIX_OK, plugin, other);
    if (memcmp(restored, expected, sizeof restored) == 0) pass("the restored model gives the same abundances");
    else fail("the restored model gives the same abundances", NULL);
    memcpy(first, restored, sizeof first);

    if (saved.size > 0) {
        tried++;
        refused += ext->load(other, saved.bytes, saved.size - 1) == UNMIX_ERR_INVALID_ARGUMENT;
    }
    for (i = 0; i < saved.size && i < 16; i++) {
        saved.bytes[i] ^= 0xFFu;
        tried++;
        refused += ext->load(other, saved.bytes, saved.size) == UNMIX_ERR_INVALID_ARGUMENT;
        saved.bytes[i] ^= 0xFFu;
    }
    if (saved.size > 0) {
        saved.bytes[saved.size - 1] ^= 0x01u;
        tried++;
        refused += ext->load(other, saved.bytes, saved.size) == UNMIX_ERR_INVALID_ARGUMENT;
        saved.bytes[saved.size - 1] ^= 0x01u;
    }
    if (refused == tried) pass("damaged states are refused with UNMIX_ERR_INVALID_ARGUMENT");
    else fail("damaged states are refused with UNMIX_ERR_INVALID_ARGUMENT", NULL);
    memset(restored, 0, sizeof restored);
    expect_status("abundances after the refused loads", plugin->abundances(other, cube, restored),
                  UNMIX_OK, plugin, other);
    if (memcmp(restored, first, sizeof restored) == 0) pass("a refused load keeps the model");
    else fail("a refused load keeps the model", NULL);
    free(saved.bytes);
    plugin->destroy(other);
}

int main(int argc, char **argv)
{
    static float truth[R * BANDS], cube_data[PIXELS * BANDS], found[R * BANDS];
    static float abund[PIXELS * R], other_data[PIXELS * (BANDS - 1)];
    static double true_abund[PIXELS * R];
    unmix_host_t host;
    unmix_cube_t cube, other;
    void *lib;
    void *sym;
    unmix_entry_fn entry;
    const unmix_plugin_t *plugin;
    unmix_instance_t *inst;
    double defaults[16], values[16];
    unsigned match[R], p, e;
    uint32_t i, count;
    double angle, max_err = 0.0, max_sum_err = 0.0;
    int negative = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s path/to/libunmix_plugin.so\n", argv[0]);
        return 2;
    }
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "FAIL: dlopen: %s\n", dlerror());
        return 1;
    }
    sym = dlsym(lib, UNMIX_ENTRY_SYMBOL);
    if (sym == NULL) {
        fprintf(stderr, "FAIL: no %s: %s\n", UNMIX_ENTRY_SYMBOL, dlerror());
        return 1;
    }
    memcpy(&entry, &sym, sizeof entry); /* ISO C has no object-to-function pointer cast */
    plugin = entry();
    if (plugin == NULL || plugin->descriptor == NULL) {
        fprintf(stderr, "FAIL: the entry returned no table or no descriptor\n");
        return 1;
    }
    if (plugin->abi_major != UNMIX_ABI_MAJOR) {
        fprintf(stderr, "FAIL: plugin ABI %u, driver ABI %u\n", (unsigned)plugin->abi_major,
                (unsigned)UNMIX_ABI_MAJOR);
        return 1;
    }
    print_descriptor(plugin);
    fflush(stdout);
    count = plugin->descriptor->param_count;
    if (count > 16) {
        fprintf(stderr, "FAIL: this driver handles at most 16 parameters\n");
        return 1;
    }
    for (i = 0; i < count; i++) defaults[i] = plugin->descriptor->params[i].default_value;

    host.abi_major = UNMIX_ABI_MAJOR;
    host.abi_minor = UNMIX_ABI_MINOR;
    host.host_data = NULL;
    host.log = stub_log;
    host.progress = stub_progress;
    host.should_cancel = stub_should_cancel;
    host.get_extension = stub_get_extension;

    make_truth(truth);
    make_cube(truth, cube_data, true_abund);
    cube.rows = ROWS;
    cube.cols = COLS;
    cube.bands = BANDS;
    cube.data = cube_data;

    inst = plugin->create(&host);
    if (inst == NULL) {
        fprintf(stderr, "FAIL: create returned NULL\n");
        return 1;
    }
    if (plugin->last_error(inst) == NULL) fail("last_error is never NULL", NULL);

    /* Error paths before any fit. */
    expect_status("abundances before fit", plugin->abundances(inst, &cube, abund),
                  UNMIX_ERR_BAD_STATE, plugin, inst);
    expect_status("set_params with a wrong count",
                  plugin->set_params(inst, defaults, count + 1, 0), UNMIX_ERR_INVALID_ARGUMENT,
                  plugin, inst);
    for (i = 0; i < count; i++) {
        const unmix_param_info_t *info = &plugin->descriptor->params[i];
        char what[128];
        memcpy(values, defaults, sizeof values);
        if (info->flags & UNMIX_PARAM_HAS_MAX) values[i] = info->max_value * 2.0 + 1.0;
        else if (info->type == UNMIX_PARAM_BOOLEAN) values[i] = 0.5;
        else if (info->type == UNMIX_PARAM_CHOICE) values[i] = info->choice_count;
        else values[i] = NAN;
        snprintf(what, sizeof what, "set_params rejects a bad '%s'", info->id);
        expect_status(what, plugin->set_params(inst, values, count, 0),
                      UNMIX_ERR_INVALID_ARGUMENT, plugin, inst);
        if (strstr(plugin->last_error(inst), info->id) == NULL)
            fail("last_error names the parameter", plugin->last_error(inst));
    }
    expect_status("set_params with the defaults", plugin->set_params(inst, defaults, count, 1),
                  UNMIX_OK, plugin, inst);
    expect_status("fit with r = bands", plugin->fit(inst, &cube, BANDS, found),
                  UNMIX_ERR_INVALID_ARGUMENT, plugin, inst);
    expect_status("fit with r = 0", plugin->fit(inst, &cube, 0, found),
                  UNMIX_ERR_INVALID_ARGUMENT, plugin, inst);
    expect_status("fit with a NULL cube", plugin->fit(inst, NULL, R, found),
                  UNMIX_ERR_INVALID_ARGUMENT, plugin, inst);
    cube_data[123] = NAN;
    expect_status("fit on a cube holding NaN", plugin->fit(inst, &cube, R, found),
                  UNMIX_ERR_INVALID_ARGUMENT, plugin, inst);
    make_cube(truth, cube_data, true_abund);

    /* The real fit. */
    expect_status("fit", plugin->fit(inst, &cube, R, found), UNMIX_OK, plugin, inst);
    angle = best_matching(found, truth, match);
    printf("largest spectral angle after matching: %.3g rad\n", angle);
    if (angle < MAX_ANGLE) pass("endmembers match the truth");
    else fail("endmembers match the truth", "spectral angle too large");

    expect_status("abundances", plugin->abundances(inst, &cube, abund), UNMIX_OK, plugin, inst);
    for (p = 0; p < PIXELS; p++) {
        double sum = 0.0;
        for (e = 0; e < R; e++) {
            double a = abund[p * R + e], err = fabs(a - true_abund[p * R + match[e]]);
            if (!(a >= 0.0)) negative++;
            if (err > max_err) max_err = err;
            sum += a;
        }
        if (fabs(sum - 1.0) > max_sum_err) max_sum_err = fabs(sum - 1.0);
    }
    printf("largest abundance error: %.3g, largest |sum - 1|: %.3g\n", max_err, max_sum_err);
    if (negative == 0) pass("abundances are non-negative");
    else fail("abundances are non-negative", NULL);
    if (max_err < 1e-3) pass("abundances match the truth");
    else fail("abundances match the truth", NULL);
    if (max_sum_err < 1e-4) pass("abundances sum to one");
    else fail("abundances sum to one", NULL);

    /* The other settings, when the plugin has them: l1 ranking, no rescaling. */
    memcpy(values, defaults, sizeof values);
    for (i = 0; i < count; i++) {
        const unmix_param_info_t *info = &plugin->descriptor->params[i];
        if (strcmp(info->id, "sum_to_one") == 0) values[i] = 0.0;
        if (strcmp(info->id, "norm") == 0 && info->choice_count > 1) values[i] = 1.0;
    }
    expect_status("set_params with norm = l1, sum_to_one = false",
                  plugin->set_params(inst, values, count, 2), UNMIX_OK, plugin, inst);
    expect_status("fit (l1)", plugin->fit(inst, &cube, R, found), UNMIX_OK, plugin, inst);
    angle = best_matching(found, truth, match);
    if (angle < MAX_ANGLE) pass("endmembers match the truth (l1)");
    else fail("endmembers match the truth (l1)", "spectral angle too large");
    expect_status("abundances (no rescaling)", plugin->abundances(inst, &cube, abund), UNMIX_OK,
                  plugin, inst);
    negative = 0;
    max_err = 0.0;
    for (p = 0; p < PIXELS * R; p++) {
        double err = fabs(abund[p] - true_abund[(p / R) * R + match[p % R]]);
        if (!(abund[p] >= 0.0f)) negative++;
        if (err > max_err) max_err = err;
    }
    if (negative == 0 && max_err < 1e-3) pass("abundances non-negative and exact (no rescaling)");
    else fail("abundances non-negative and exact (no rescaling)", NULL);
    check_state(plugin, &host, inst, values, count, &cube, abund);

    /* After a fit: a band mismatch, and cancellation. */
    other.rows = ROWS;
    other.cols = COLS;
    other.bands = BANDS - 1;
    other.data = other_data;
    memset(other_data, 0, sizeof other_data);
    expect_status("abundances on a cube with other bands", plugin->abundances(inst, &other, abund),
                  UNMIX_ERR_BAD_STATE, plugin, inst);
    cancel_requested = 1;
    {
        /* Enough pixels that a plugin checking between chunks gets to check. */
        size_t big_n = (size_t)200 * 200;
        float *big = (float *)calloc(big_n * BANDS, sizeof *big);
        float *big_out = (float *)malloc(big_n * R * sizeof *big_out);
        if (big == NULL || big_out == NULL) {
            fail("allocating the cancellation cube", NULL);
        } else {
            unmix_cube_t bc;
            size_t k;
            for (k = 0; k < big_n; k++)
                memcpy(big + k * BANDS, cube_data + (k % PIXELS) * BANDS, BANDS * sizeof *big);
            bc.rows = 200;
            bc.cols = 200;
            bc.bands = BANDS;
            bc.data = big;
            expect_status("abundances honours should_cancel",
                          plugin->abundances(inst, &bc, big_out), UNMIX_ERR_CANCELLED, plugin,
                          inst);
            expect_status("fit honours should_cancel", plugin->fit(inst, &bc, R, found),
                          UNMIX_ERR_CANCELLED, plugin, inst);
            cancel_requested = 0;
            expect_status("abundances after a cancelled fit",
                          plugin->abundances(inst, &cube, abund), UNMIX_ERR_BAD_STATE, plugin,
                          inst);
        }
        free(big);
        free(big_out);
    }
    plugin->destroy(inst);

    if (failures > 0) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    fprintf(stderr, "all checks passed\n");
    return 0;
}
