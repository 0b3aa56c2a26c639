/*
 * atgp_nnls.c — an example third-party unmix plugin in plain C99.
 *
 * Endmembers: ATGP (Automatic Target Generation Process, Ren & Chang 2003). The first target
 * is the pixel of largest norm; each next target is the pixel whose projection onto the
 * orthogonal complement of the targets found so far is largest. The complement is tracked
 * with an orthonormal basis built by modified Gram-Schmidt in double precision.
 *
 * Abundances: non-negative least squares per pixel, solved on the R x R normal equations
 * (G = E E^T, b = E y) by cyclic coordinate descent, optionally rescaled to sum to one.
 *
 * State: the fitted model (R, bands, the endmembers) is saved and restored through
 * "unmix.state/2" (and "unmix.state/1", the same save and load); see the STATE section.
 *
 * Built against unmix.h alone; needs nothing but libm:
 *     cc -std=c99 -O2 -shared -fPIC -I ../../SDK/include -o libunmix_atgp.so atgp_nnls.c -lm
 */
#include "unmix.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pixels handled between two `should_cancel` checks / progress reports. */
#define ATGP_CHUNK 4096u

/* ---------------------------------------------------------------------------------------- */
/* Descriptor                                                                                */
/* ---------------------------------------------------------------------------------------- */

enum { P_MAX_ITER = 0, P_TOL, P_SUM_TO_ONE, P_NORM, P_COUNT };
enum { NORM_L2 = 0, NORM_L1 = 1 };

static const char *const norm_choices[] = { "l2", "l1" };

static const unmix_param_info_t atgp_params[P_COUNT] = {
    { "max_iter",
      "Maximum number of coordinate-descent sweeps of the per-pixel NNLS solver.",
      NULL, UNMIX_PARAM_INTEGER, UNMIX_PARAM_HAS_MIN | UNMIX_PARAM_HAS_MAX,
      500.0, 1.0, 100000.0, 0, NULL },
    { "tol",
      "NNLS stops once no abundance changes by more than this in a sweep.",
      NULL, UNMIX_PARAM_REAL, UNMIX_PARAM_HAS_MIN | UNMIX_PARAM_HAS_MAX | UNMIX_PARAM_LOG_SCALE,
      1e-6, 1e-12, 1e-1, 0, NULL },
    { "sum_to_one",
      "Rescale each pixel's non-negative abundances so that they sum to one.",
      NULL, UNMIX_PARAM_BOOLEAN, 0,
      1.0, 0.0, 0.0, 0, NULL },
    { "norm",
      "Norm ATGP uses to rank pixels for the first target: l2 (Euclidean) or l1 (sum of "
      "absolute values).",
      NULL, UNMIX_PARAM_CHOICE, 0,
      0.0, 0.0, 0.0, 2, norm_choices },
};

static const unmix_descriptor_t atgp_descriptor = {
    "atgp",
    "ATGP + NNLS",
    "1.0.0",
    "Endmembers by ATGP, abundances by non-negative least squares.",
    "The Automatic Target Generation Process (Ren & Chang, 2003) picks endmembers among the "
    "pixels: first the pixel of largest norm, then, repeatedly, the pixel whose projection onto "
    "the orthogonal complement of the targets found so far is largest. Abundances are the "
    "non-negative least-squares fit of each pixel on those endmembers, solved by cyclic "
    "coordinate descent on the normal equations and optionally rescaled to sum to one. ATGP "
    "assumes pure pixels are present in the scene; it is fast and deterministic.",
    "unmix examples",
    "MIT",
    NULL,
    UNMIX_CAP_PROGRESS | UNMIX_CAP_STATE | UNMIX_CAP_ABUNDANCES_NONNEGATIVE,
    P_COUNT,
    atgp_params,
};

/* ---------------------------------------------------------------------------------------- */
/* Instance                                                                                  */
/* ---------------------------------------------------------------------------------------- */

struct unmix_instance {
    const unmix_host_t *host;

    /* Current parameters (used by the next fit). */
    uint32_t max_iter;
    double tol;
    bool sum_to_one;
    int norm;

    /* The fitted model: everything `abundances` needs, snapshotted at fit time so that a
     * later `set_params` never changes it. */
    bool fitted;
    uint32_t r;
    uint32_t bands;
    double *endmembers;    /* r x bands */
    double *gram;          /* r x r, E E^T */
    uint32_t fit_max_iter;
    double fit_tol;
    bool fit_sum_to_one;

    char error[256];
};

static void set_error(unmix_instance_t *inst, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(inst->error, sizeof inst->error, format, args);
    va_end(args);
}

static void host_log(const unmix_instance_t *inst, unmix_log_level level, const char *format, ...)
{
    char message[256];
    va_list args;
    if (inst->host == NULL || inst->host->log == NULL) return;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    inst->host->log(inst->host, level, message);
}

static void host_progress(const unmix_instance_t *inst, double fraction, const char *message)
{
    if (inst->host == NULL || inst->host->progress == NULL) return;
    if (fraction < 0.0) fraction = 0.0;
    if (fraction > 1.0) fraction = 1.0;
    inst->host->progress(inst->host, fraction, message);
}

static bool host_cancelled(const unmix_instance_t *inst)
{
    return inst->host != NULL && inst->host->should_cancel != NULL
        && inst->host->should_cancel(inst->host);
}

static void forget_model(unmix_instance_t *inst)
{
    free(inst->endmembers);
    free(inst->gram);
    inst->endmembers = NULL;
    inst->gram = NULL;
    inst->fitted = false;
    inst->r = 0;
    inst->bands = 0;
}

static void apply_params(unmix_instance_t *inst, const double *values)
{
    inst->max_iter = (uint32_t)values[P_MAX_ITER];
    inst->tol = values[P_TOL];
    inst->sum_to_one = values[P_SUM_TO_ONE] != 0.0;
    inst->norm = (int)values[P_NORM];
}

static unmix_instance_t *atgp_create(const unmix_host_t *host)
{
    double defaults[P_COUNT];
    uint32_t i;
    unmix_instance_t *inst = (unmix_instance_t *)calloc(1, sizeof *inst);
    if (inst == NULL) return NULL;
    inst->host = host;
    for (i = 0; i < P_COUNT; i++) defaults[i] = atgp_params[i].default_value;
    apply_params(inst, defaults);
    inst->error[0] = '\0';
    return inst;
}

static void atgp_destroy(unmix_instance_t *inst)
{
    if (inst == NULL) return;
    forget_model(inst);
    free(inst);
}

static const char *atgp_last_error(const unmix_instance_t *inst)
{
    return inst == NULL ? "" : inst->error;
}

static const void *atgp_get_extension(const unmix_plugin_t *plugin, const char *id);

/* Checks one value against its entry of the parameter table; on failure writes the reason. */
static bool check_param(unmix_instance_t *inst, const unmix_param_info_t *p, double v)
{
    if (!isfinite(v)) {
        set_error(inst, "parameter '%s': value is not finite", p->id);
        return false;
    }
    switch (p->type) {
    case UNMIX_PARAM_INTEGER:
        if (v != floor(v)) {
            set_error(inst, "parameter '%s': %g is not an integer", p->id, v);
            return false;
        }
        break;
    case UNMIX_PARAM_REAL:
        break;
    case UNMIX_PARAM_BOOLEAN:
        if (v != 0.0 && v != 1.0) {
            set_error(inst, "parameter '%s': %g is not a boolean (0 or 1)", p->id, v);
            return false;
        }
        return true;
    case UNMIX_PARAM_CHOICE:
        if (v != floor(v) || v < 0.0 || v >= (double)p->choice_count) {
            set_error(inst, "parameter '%s': %g is not a choice index in [0, %u]", p->id, v,
                      (unsigned)(p->choice_count - 1));
            return false;
        }
        return true;
    default:
        set_error(inst, "parameter '%s': unknown type %d", p->id, (int)p->type);
        return false;
    }
    if ((p->flags & UNMIX_PARAM_HAS_MIN) && v < p->min_value) {
        set_error(inst, "parameter '%s': %g is below the minimum %g", p->id, v, p->min_value);
        return false;
    }
    if ((p->flags & UNMIX_PARAM_HAS_MAX) && v > p->max_value) {
        set_error(inst, "parameter '%s': %g is above the maximum %g", p->id, v, p->max_value);
        return false;
    }
    return true;
}

static unmix_status atgp_set_params(unmix_instance_t *inst, const double *values, uint32_t count,
                                    uint64_t seed)
{
    uint32_t i;
    (void)seed; /* deterministic method */
    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    if (count != P_COUNT) {
        set_error(inst, "expected %u parameter values, got %u", (unsigned)P_COUNT,
                  (unsigned)count);
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    if (values == NULL) {
        set_error(inst, "parameter values are NULL");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    /* Check all before applying any, so a failed call changes nothing. */
    for (i = 0; i < P_COUNT; i++) {
        if (!check_param(inst, &atgp_params[i], values[i])) return UNMIX_ERR_INVALID_ARGUMENT;
    }
    apply_params(inst, values);
    return UNMIX_OK;
}

/* Checks a cube's pointers, shape and values. On success stores the pixel count. */
static unmix_status check_cube(unmix_instance_t *inst, const unmix_cube_t *cube, size_t *pixels)
{
    size_t n, total, i;
    if (cube == NULL) {
        set_error(inst, "cube is NULL");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    n = (size_t)cube->rows * (size_t)cube->cols;
    if (n == 0 || cube->bands == 0) {
        set_error(inst, "cube is empty (%u x %u pixels, %u bands)", (unsigned)cube->rows,
                  (unsigned)cube->cols, (unsigned)cube->bands);
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    if (n > SIZE_MAX / cube->bands / sizeof(float)) {
        set_error(inst, "cube is too large for this machine");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    if (cube->data == NULL) {
        set_error(inst, "cube data is NULL");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    total = n * cube->bands;
    for (i = 0; i < total; i++) {
        if (!isfinite(cube->data[i])) {
            size_t p = i / cube->bands;
            set_error(inst, "cube holds a non-finite value at row %lu, column %lu, band %lu",
                      (unsigned long)(p / cube->cols), (unsigned long)(p % cube->cols),
                      (unsigned long)(i % cube->bands));
            return UNMIX_ERR_INVALID_ARGUMENT;
        }
    }
    *pixels = n;
    return UNMIX_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* ATGP                                                                                      */
/* ---------------------------------------------------------------------------------------- */

static double dot_fd(const float *y, const double *q, uint32_t bands)
{
    double s = 0.0;
    uint32_t b;
    for (b = 0; b < bands; b++) s += (double)y[b] * q[b];
    return s;
}

static bool already_chosen(const size_t *chosen, uint32_t count, size_t p)
{
    uint32_t k;
    for (k = 0; k < count; k++)
        if (chosen[k] == p) return true;
    return false;
}

/*
 * Orthogonalizes `v` against the `k` orthonormal rows of `basis` by modified Gram-Schmidt,
 * twice (one pass can leave a component of the size of the rounding error times the
 * cancellation). Returns the norm of what remains.
 */
static double orthogonalize(double *v, const double *basis, uint32_t k, uint32_t bands)
{
    int pass;
    uint32_t j, b;
    double norm = 0.0;
    for (pass = 0; pass < 2; pass++) {
        for (j = 0; j < k; j++) {
            const double *q = basis + (size_t)j * bands;
            double c = 0.0;
            for (b = 0; b < bands; b++) c += q[b] * v[b];
            for (b = 0; b < bands; b++) v[b] -= c * q[b];
        }
    }
    for (b = 0; b < bands; b++) norm += v[b] * v[b];
    return sqrt(norm);
}

static unmix_status atgp_fit(unmix_instance_t *inst, const unmix_cube_t *cube, uint32_t r,
                             float *endmembers)
{
    unmix_status status;
    size_t n = 0, p, best;
    uint32_t bands, k, basis_count = 0, i, j, b;
    double *residual = NULL, *basis = NULL, *v = NULL, *em = NULL, *gram = NULL;
    size_t *chosen = NULL;
    double best_value, first_norm;

    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    forget_model(inst); /* a fit forgets any earlier fit, even when it fails */
    if (endmembers == NULL) {
        set_error(inst, "endmembers output buffer is NULL");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    status = check_cube(inst, cube, &n);
    if (status != UNMIX_OK) return status;
    bands = cube->bands;
    if (r < 1 || r >= bands) {
        set_error(inst, "r = %u endmembers: need 1 <= r < bands (%u)", (unsigned)r,
                  (unsigned)bands);
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    if ((size_t)r > n) {
        set_error(inst, "r = %u endmembers: the cube has only %lu pixels", (unsigned)r,
                  (unsigned long)n);
        return UNMIX_ERR_INVALID_ARGUMENT;
    }

    residual = (double *)malloc(n * sizeof *residual);
    basis = (double *)malloc((size_t)r * bands * sizeof *basis);
    v = (double *)malloc((size_t)bands * sizeof *v);
    em = (double *)malloc((size_t)r * bands * sizeof *em);
    gram = (double *)malloc((size_t)r * r * sizeof *gram);
    chosen = (size_t *)malloc((size_t)r * sizeof *chosen);
    if (!residual || !basis || !v || !em || !gram || !chosen) {
        set_error(inst, "out of memory");
        status = UNMIX_ERR_OUT_OF_MEMORY;
        goto done;
    }

    /* Pass 0: rank by the chosen norm for the first target; the squared Euclidean norm is the
     * squared norm of the projection onto the complement of the empty set. */
    best = 0;
    best_value = -1.0;
    host_progress(inst, 0.0, "ATGP: target 1");
    for (p = 0; p < n; p++) {
        const float *y = cube->data + p * bands;
        double l2 = 0.0, l1 = 0.0, rank;
        if (p % ATGP_CHUNK == 0 && p > 0 && host_cancelled(inst)) {
            set_error(inst, "cancelled");
            status = UNMIX_ERR_CANCELLED;
            goto done;
        }
        for (b = 0; b < bands; b++) {
            l2 += (double)y[b] * y[b];
            l1 += fabs((double)y[b]);
        }
        residual[p] = l2;
        rank = inst->norm == NORM_L1 ? l1 : l2;
        if (rank > best_value) {
            best_value = rank;
            best = p;
        }
    }
    if (best_value <= 0.0) {
        set_error(inst, "every pixel of the cube is zero: no target to find");
        status = UNMIX_ERR_NUMERICAL;
        goto done;
    }
    first_norm = sqrt(residual[best]);

    for (k = 0; k < r; k++) {
        const float *y;
        double norm;
        if (k > 0) {
            /* Pass k: pick the unchosen pixel with the largest residual. The residual was
             * updated for the newest basis vector at the end of the previous step. */
            best_value = -1.0;
            for (p = 0; p < n; p++) {
                if (p % ATGP_CHUNK == 0 && p > 0 && host_cancelled(inst)) {
                    set_error(inst, "cancelled");
                    status = UNMIX_ERR_CANCELLED;
                    goto done;
                }
                if (residual[p] > best_value && !already_chosen(chosen, k, p)) {
                    best_value = residual[p];
                    best = p;
                }
            }
        }
        chosen[k] = best;
        y = cube->data + best * bands;
        for (b = 0; b < bands; b++) {
            em[(size_t)k * bands + b] = y[b];
            v[b] = y[b];
        }
        norm = orthogonalize(v, basis, basis_count, bands);
        if (norm <= 1e-10 * first_norm) {
            /* The pixel lies in the span of the earlier targets: the cube has fewer than r
             * independent directions. Keep the pixel as an endmember, leave the basis as is. */
            host_log(inst, UNMIX_LOG_WARNING,
                     "ATGP: target %u (pixel %lu) adds no new direction; the cube spans fewer "
                     "than %u independent spectra",
                     (unsigned)(k + 1), (unsigned long)best, (unsigned)r);
        } else if (k + 1 < r) {
            double *q = basis + (size_t)basis_count * bands;
            for (b = 0; b < bands; b++) q[b] = v[b] / norm;
            basis_count++;
            /* Remove the new direction from every residual: ||P y||^2 -= (q . y)^2. */
            for (p = 0; p < n; p++) {
                double c;
                if (p % ATGP_CHUNK == 0 && p > 0 && host_cancelled(inst)) {
                    set_error(inst, "cancelled");
                    status = UNMIX_ERR_CANCELLED;
                    goto done;
                }
                c = dot_fd(cube->data + p * bands, q, bands);
                residual[p] -= c * c;
                if (residual[p] < 0.0) residual[p] = 0.0;
            }
        }
        host_log(inst, UNMIX_LOG_DEBUG, "ATGP: target %u is pixel (%lu, %lu)",
                 (unsigned)(k + 1), (unsigned long)(best / cube->cols),
                 (unsigned long)(best % cube->cols));
        host_progress(inst, (double)(k + 1) / r, "ATGP");
    }

    /* The Gram matrix of the endmembers, for the NNLS of `abundances`. */
    for (i = 0; i < r; i++) {
        for (j = 0; j <= i; j++) {
            double s = 0.0;
            for (b = 0; b < bands; b++)
                s += em[(size_t)i * bands + b] * em[(size_t)j * bands + b];
            gram[(size_t)i * r + j] = s;
            gram[(size_t)j * r + i] = s;
        }
    }

    for (p = 0; p < (size_t)r * bands; p++) endmembers[p] = (float)em[p];
    inst->endmembers = em;
    inst->gram = gram;
    em = NULL;
    gram = NULL;
    inst->r = r;
    inst->bands = bands;
    inst->fit_max_iter = inst->max_iter;
    inst->fit_tol = inst->tol;
    inst->fit_sum_to_one = inst->sum_to_one;
    inst->fitted = true;
    status = UNMIX_OK;

done:
    free(residual);
    free(basis);
    free(v);
    free(em);
    free(gram);
    free(chosen);
    return status;
}

/* ---------------------------------------------------------------------------------------- */
/* NNLS abundances                                                                           */
/* ---------------------------------------------------------------------------------------- */

/*
 * Minimizes 1/2 a^T G a - b^T a subject to a >= 0 by cyclic coordinate descent, keeping the
 * gradient g = G a - b up to date. Returns true when it converged within `max_iter` sweeps.
 */
static bool nnls_cd(const double *gram, const double *rhs, uint32_t r, uint32_t max_iter,
                    double tol, double *a, double *g)
{
    uint32_t it, i, j;
    for (i = 0; i < r; i++) {
        a[i] = 0.0;
        g[i] = -rhs[i];
    }
    for (it = 0; it < max_iter; it++) {
        double max_change = 0.0;
        for (i = 0; i < r; i++) {
            double gii = gram[(size_t)i * r + i], next, delta;
            if (gii <= 0.0) continue; /* a zero endmember explains nothing: keep 0 */
            next = a[i] - g[i] / gii;
            if (next < 0.0) next = 0.0;
            delta = next - a[i];
            if (delta != 0.0) {
                const double *col = gram + (size_t)i * r; /* G is symmetric */
                for (j = 0; j < r; j++) g[j] += delta * col[j];
                a[i] = next;
                if (fabs(delta) > max_change) max_change = fabs(delta);
            }
        }
        if (max_change < tol) return true;
    }
    return false;
}

static unmix_status atgp_abundances(unmix_instance_t *inst, const unmix_cube_t *cube,
                                    float *abundances)
{
    unmix_status status;
    size_t n = 0, p, unconverged = 0;
    uint32_t r, bands, e, b;
    double *rhs, *a, *g;

    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    if (!inst->fitted) {
        set_error(inst, "abundances called before a successful fit");
        return UNMIX_ERR_BAD_STATE;
    }
    if (abundances == NULL) {
        set_error(inst, "abundances output buffer is NULL");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    if (cube != NULL && cube->bands != inst->bands) {
        set_error(inst, "cube has %u bands but the model was fitted on %u",
                  (unsigned)cube->bands, (unsigned)inst->bands);
        return UNMIX_ERR_BAD_STATE;
    }
    status = check_cube(inst, cube, &n);
    if (status != UNMIX_OK) return status;
    r = inst->r;
    bands = inst->bands;

    rhs = (double *)malloc((size_t)r * sizeof *rhs);
    a = (double *)malloc((size_t)r * sizeof *a);
    g = (double *)malloc((size_t)r * sizeof *g);
    if (!rhs || !a || !g) {
        free(rhs);
        free(a);
        free(g);
        set_error(inst, "out of memory");
        return UNMIX_ERR_OUT_OF_MEMORY;
    }

    host_progress(inst, 0.0, "NNLS");
    for (p = 0; p < n; p++) {
        const float *y = cube->data + p * bands;
        float *out = abundances + p * r;
        if (p % ATGP_CHUNK == 0 && p > 0) {
            if (host_cancelled(inst)) {
                set_error(inst, "cancelled");
                status = UNMIX_ERR_CANCELLED;
                goto done;
            }
            host_progress(inst, (double)p / (double)n, "NNLS");
        }
        for (e = 0; e < r; e++) {
            const double *m = inst->endmembers + (size_t)e * bands;
            double s = 0.0;
            for (b = 0; b < bands; b++) s += m[b] * y[b];
            rhs[e] = s;
        }
        if (!nnls_cd(inst->gram, rhs, r, inst->fit_max_iter, inst->fit_tol, a, g))
            unconverged++;
        if (inst->fit_sum_to_one) {
            double sum = 0.0;
            for (e = 0; e < r; e++) sum += a[e];
            if (sum > 0.0) {
                for (e = 0; e < r; e++) a[e] /= sum;
            } else {
                /* Nothing explains this pixel (it is zero, or orthogonal to every
                 * endmember): the uninformative point of the simplex. */
                for (e = 0; e < r; e++) a[e] = 1.0 / r;
            }
        }
        for (e = 0; e < r; e++) out[e] = (float)a[e];
    }
    if (unconverged > 0) {
        host_log(inst, UNMIX_LOG_INFO,
                 "NNLS: %lu of %lu pixels did not converge within max_iter = %u sweeps",
                 (unsigned long)unconverged, (unsigned long)n, (unsigned)inst->fit_max_iter);
    }
    host_progress(inst, 1.0, "NNLS");
    status = UNMIX_OK;

done:
    free(rhs);
    free(a);
    free(g);
    return status;
}

/* ---------------------------------------------------------------------------------------- */
/* State                                                                                     */
/* ---------------------------------------------------------------------------------------- */

/*
 * The saved model, all numbers little-endian whatever the machine:
 *
 *     offset 0   4 bytes   "ATGP"
 *            4   u32       format version (1)
 *            8   u32       R, >= 1
 *           12   u32       bands, > R
 *           16   f64 x R*bands  the endmembers, row e holding endmember e
 *            …   u64       FNV-1a (64-bit) of every byte before it
 *
 * The NNLS settings are not part of the model: a restored model uses the parameters set on
 * the instance before `load` (the host sets the values the model was trained with). `load`
 * accepts exactly what `save` wrote: any other length, header, non-finite value or checksum
 * (one changed byte anywhere changes FNV-1a) is refused, and the instance keeps its model.
 */
#define STATE_MAGIC "ATGP"
#define STATE_VERSION 1u
#define STATE_HEADER 16u

static uint64_t fnv1a(const unsigned char *bytes, size_t size)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;
    for (i = 0; i < size; i++) h = (h ^ bytes[i]) * 0x100000001b3ull;
    return h;
}

static void put_le(unsigned char *out, uint64_t v, unsigned width)
{
    unsigned i;
    for (i = 0; i < width; i++) out[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *in, unsigned width)
{
    uint64_t v = 0;
    unsigned i;
    for (i = 0; i < width; i++) v |= (uint64_t)in[i] << (8 * i);
    return v;
}

/* The size of the state of an R x bands model, or 0 when it does not fit in a size_t. */
static size_t state_size(uint64_t r, uint64_t bands)
{
    uint64_t values = r * bands; /* both below 2^32: no overflow */
    if (values > (SIZE_MAX - STATE_HEADER - 8) / 8) return 0;
    return (size_t)(STATE_HEADER + 8 * values + 8);
}

static unmix_status atgp_save(unmix_instance_t *inst, unmix_write_fn write, void *context)
{
    unsigned char *bytes;
    size_t size, i, values;
    bool ok;
    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    if (write == NULL) {
        set_error(inst, "save: no write function");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    if (!inst->fitted) {
        set_error(inst, "save called before a successful fit or load");
        return UNMIX_ERR_BAD_STATE;
    }
    size = state_size(inst->r, inst->bands);
    bytes = size == 0 ? NULL : (unsigned char *)malloc(size);
    if (bytes == NULL) {
        set_error(inst, "out of memory");
        return UNMIX_ERR_OUT_OF_MEMORY;
    }
    memcpy(bytes, STATE_MAGIC, 4);
    put_le(bytes + 4, STATE_VERSION, 4);
    put_le(bytes + 8, inst->r, 4);
    put_le(bytes + 12, inst->bands, 4);
    values = (size_t)inst->r * inst->bands;
    for (i = 0; i < values; i++) {
        uint64_t bits;
        memcpy(&bits, &inst->endmembers[i], sizeof bits);
        put_le(bytes + STATE_HEADER + 8 * i, bits, 8);
    }
    put_le(bytes + size - 8, fnv1a(bytes, size - 8), 8);
    ok = write(context, bytes, size);
    free(bytes);
    if (!ok) {
        set_error(inst, "save: the host's write function failed");
        return UNMIX_ERR_INTERNAL;
    }
    inst->error[0] = '\0';
    return UNMIX_OK;
}

static unmix_status refuse_state(unmix_instance_t *inst, const char *why)
{
    set_error(inst, "ATGP state: %s; not a state this plugin saved", why);
    return UNMIX_ERR_INVALID_ARGUMENT;
}

static unmix_status atgp_load(unmix_instance_t *inst, const void *data, size_t size)
{
    const unsigned char *bytes = (const unsigned char *)data;
    uint64_t version, r, bands;
    size_t expected, values, i, j, b;
    double *em, *gram;
    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    if (bytes == NULL) return refuse_state(inst, "no bytes");
    if (size < STATE_HEADER + 8) return refuse_state(inst, "too short");
    if (memcmp(bytes, STATE_MAGIC, 4) != 0) return refuse_state(inst, "no ATGP header");
    version = get_le(bytes + 4, 4);
    r = get_le(bytes + 8, 4);
    bands = get_le(bytes + 12, 4);
    if (version != STATE_VERSION) return refuse_state(inst, "another format version");
    if (r < 1 || bands <= r) return refuse_state(inst, "R and bands out of range");
    expected = state_size(r, bands);
    if (expected == 0 || size != expected) return refuse_state(inst, "wrong length");
    if (get_le(bytes + size - 8, 8) != fnv1a(bytes, size - 8))
        return refuse_state(inst, "checksum mismatch");

    values = (size_t)r * bands;
    em = (double *)malloc(values * sizeof *em);
    gram = (double *)malloc((size_t)r * r * sizeof *gram);
    if (em == NULL || gram == NULL) {
        free(em);
        free(gram);
        set_error(inst, "out of memory");
        return UNMIX_ERR_OUT_OF_MEMORY;
    }
    for (i = 0; i < values; i++) {
        uint64_t bits = get_le(bytes + STATE_HEADER + 8 * i, 8);
        memcpy(&em[i], &bits, sizeof bits);
        if (!isfinite(em[i])) {
            free(em);
            free(gram);
            return refuse_state(inst, "a non-finite endmember value");
        }
    }
    for (i = 0; i < r; i++) {
        for (j = 0; j <= i; j++) {
            double s = 0.0;
            for (b = 0; b < bands; b++) s += em[i * bands + b] * em[j * bands + b];
            gram[i * r + j] = s;
            gram[j * r + i] = s;
        }
    }
    /* Only now, with everything checked, replace the model. */
    forget_model(inst);
    inst->endmembers = em;
    inst->gram = gram;
    inst->r = (uint32_t)r;
    inst->bands = (uint32_t)bands;
    inst->fit_max_iter = inst->max_iter;
    inst->fit_tol = inst->tol;
    inst->fit_sum_to_one = inst->sum_to_one;
    inst->fitted = true;
    inst->error[0] = '\0';
    return UNMIX_OK;
}

static unmix_status atgp_model_shape(const unmix_instance_t *inst, uint32_t *r, uint32_t *bands)
{
    if (inst == NULL || r == NULL || bands == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    if (!inst->fitted) {
        /* last_error is a const call here: the instance cannot be written; the status says it. */
        return UNMIX_ERR_BAD_STATE;
    }
    *r = inst->r;
    *bands = inst->bands;
    return UNMIX_OK;
}

static const unmix_state2_ext_t atgp_state2 = { atgp_save, atgp_load, atgp_model_shape };
static const unmix_state_ext_t atgp_state1 = { atgp_save, atgp_load };

static const void *atgp_get_extension(const unmix_plugin_t *plugin, const char *id)
{
    (void)plugin;
    if (id == NULL) return NULL;
    if (strcmp(id, UNMIX_EXT_STATE_2) == 0) return &atgp_state2;
    if (strcmp(id, UNMIX_EXT_STATE) == 0) return &atgp_state1;
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Entry                                                                                     */
/* ---------------------------------------------------------------------------------------- */

static const unmix_plugin_t atgp_plugin = {
    UNMIX_ABI_MAJOR,
    UNMIX_ABI_MINOR,
    &atgp_descriptor,
    atgp_create,
    atgp_destroy,
    atgp_set_params,
    atgp_fit,
    atgp_abundances,
    atgp_last_error,
    atgp_get_extension,
};


UNMIX_EXPORT const unmix_plugin_t *unmix_plugin_entry(void)
{
    return &atgp_plugin;
}
