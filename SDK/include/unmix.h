/*
 * unmix.h — the unmix plugin ABI, version 1.2.
 *
 * This header is the whole contract between the `unmix` host and a plugin. A plugin written in
 * any language that can export a C function works, provided it follows this text. Nothing else
 * from unmix is needed to build one:
 *
 *     cc -shared -fPIC -I path/to/SDK/include -o libunmix_myplugin.so myplugin.c
 *
 * MAIN IDEA
 *   A plugin is one shared library holding one unmixing method. It exports one function,
 *   `unmix_plugin_entry`, which returns a pointer to a static, read-only `unmix_plugin_t`
 *   table: the ABI version the plugin was built against, a descriptor (id, name, parameters,
 *   capabilities) and the functions that create, configure, run and destroy instances.
 *
 * DATA
 *   A cube is rows x cols pixels of `bands` channels each, stored as `float` in pixel-major,
 *   band-contiguous order: the value of band b at pixel (r, c) is
 *       data[((size_t)r * cols + c) * bands + b].
 *   Endmembers are R x bands floats, row e holding endmember e. Abundances are rows x cols x R
 *   floats, pixel-major: abundance of endmember e at pixel (r, c) is
 *       abundances[((size_t)r * cols + c) * R + e].
 *
 * LIFECYCLE (of one instance)
 *   create -> set_params -> fit -> abundances (any number of times, on any cube with the same
 *   number of bands) -> ... -> destroy.
 *   `fit` learns the endmembers from a cube and forgets what an earlier `fit` learned.
 *   `set_params` may be called again between fits; it never changes an already fitted model.
 *
 * OWNERSHIP
 *   - The plugin owns every pointer it returns: the plugin table, the descriptor and all its
 *     strings live as long as the library is loaded; `last_error` strings live until the next
 *     call on the same instance.
 *   - The host owns every buffer it passes: input cubes are read-only and valid only during
 *     the call; output arrays (endmembers, abundances) are allocated by the host with the
 *     documented size and written by the plugin. A plugin never frees host memory and the host
 *     never frees plugin memory; `destroy` releases an instance and everything it holds.
 *   - The host never unloads a plugin library (some language runtimes cannot be unloaded).
 *
 * ERRORS
 *   Fallible calls return an `unmix_status`. On anything but UNMIX_OK, `last_error` gives a
 *   one-line, human-readable reason. Nothing may unwind (C++ exceptions, Swift errors, longjmp)
 *   or abort across this boundary: a plugin converts its failures into a status.
 *
 * THREADS
 *   Tags in brackets say when a function may be called:
 *     [any-thread]  at any time, from any thread;
 *     [instance]    on one instance, from one thread at a time (calls on distinct instances may
 *                   run concurrently);
 *     [after fit]   as [instance], and only after a successful `fit`.
 *   Host callbacks may be called from the thread that called into the plugin, and `log`,
 *   `progress` and `should_cancel` from any of the plugin's worker threads.
 *
 * DISCOVERY (what the `unmix` host does; other hosts may differ)
 *   The host looks, in order, in: each `--plugin-path DIR`; each folder of the colon-separated
 *   UNMIX_PLUGIN_PATH; the folder holding the first-party plugins next to the executable;
 *   ~/.local/lib/unmix/plugins; /usr/local/lib/unmix/plugins. In each folder it loads the files
 *   named `libunmix_*.so` or `unmix_*.so`. The current directory is never searched implicitly.
 *   When two libraries declare the same id, the first one found wins.
 *
 * VERSIONING
 *   A host refuses a plugin whose `abi_major` differs from its own. Minor versions only add
 *   (new extensions, new capability bits, new status codes); published structs never change.
 *   New abilities arrive as extensions looked up by a versioned string id, such as
 *   UNMIX_EXT_STATE ("unmix.state/1") on the plugin's side and UNMIX_HOST_EXT_AXIS
 *   ("unmix.axis/1", since 1.1) on the host's; `get_extension` returns NULL when unsupported.
 */
#ifndef UNMIX_H
#define UNMIX_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UNMIX_ABI_MAJOR 1
#define UNMIX_ABI_MINOR 2

/* The symbol every plugin exports. */
#define UNMIX_ENTRY_SYMBOL "unmix_plugin_entry"

/* Marks the entry function for export from a C plugin built with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define UNMIX_EXPORT __attribute__((visibility("default")))
#else
#define UNMIX_EXPORT
#endif

/* ---------------------------------------------------------------------------------------- */
/* Status codes                                                                              */
/* ---------------------------------------------------------------------------------------- */

typedef int32_t unmix_status;
enum {
    UNMIX_OK = 0,
    UNMIX_ERR_INVALID_ARGUMENT = 1, /* a parameter value, shape or R the plugin cannot use */
    UNMIX_ERR_BAD_STATE = 2,        /* e.g. `abundances` before `fit`, or a band-count mismatch */
    UNMIX_ERR_NUMERICAL = 3,        /* the method diverged or met a singular problem */
    UNMIX_ERR_CANCELLED = 4,        /* the host's `should_cancel` returned true */
    UNMIX_ERR_OUT_OF_MEMORY = 5,
    UNMIX_ERR_UNSUPPORTED = 6,      /* the operation is not offered by this plugin */
    UNMIX_ERR_INTERNAL = 7          /* anything else; `last_error` says what */
};

/* Log levels for `unmix_host_t.log`. */
typedef int32_t unmix_log_level;
enum { UNMIX_LOG_DEBUG = 0, UNMIX_LOG_INFO = 1, UNMIX_LOG_WARNING = 2, UNMIX_LOG_ERROR = 3 };

/* ---------------------------------------------------------------------------------------- */
/* Parameters                                                                                */
/* ---------------------------------------------------------------------------------------- */

/*
 * Every parameter value crosses the boundary as a `double`:
 *   UNMIX_PARAM_INTEGER  an integral value (|v| < 2^53);
 *   UNMIX_PARAM_REAL     any finite value;
 *   UNMIX_PARAM_BOOLEAN  0 (false) or 1 (true);
 *   UNMIX_PARAM_CHOICE   the index of the chosen entry in `choices`.
 */
typedef int32_t unmix_param_type;
enum {
    UNMIX_PARAM_INTEGER = 0,
    UNMIX_PARAM_REAL = 1,
    UNMIX_PARAM_BOOLEAN = 2,
    UNMIX_PARAM_CHOICE = 3
};

/* Flags for `unmix_param_info_t.flags`. */
enum {
    UNMIX_PARAM_HAS_MIN = 1 << 0,   /* `min_value` is a bound (inclusive) */
    UNMIX_PARAM_HAS_MAX = 1 << 1,   /* `max_value` is a bound (inclusive) */
    UNMIX_PARAM_LOG_SCALE = 1 << 2  /* a real best explored on a log scale (a hint for UIs) */
};
/* Bounds are read for integers and reals only; booleans are always 0..1 and choices always
 * 0..choice_count-1, whatever their flags say. */

typedef struct unmix_param_info {
    const char *id;            /* stable, lower_snake_case, unique within the plugin */
    const char *help;          /* one or two sentences; never NULL (may be "") */
    const char *unit;          /* e.g. "eV"; NULL when unitless */
    unmix_param_type type;
    uint32_t flags;            /* UNMIX_PARAM_* flags */
    double default_value;      /* lies inside the bounds / is a valid choice index */
    double min_value;          /* meaningful with UNMIX_PARAM_HAS_MIN */
    double max_value;          /* meaningful with UNMIX_PARAM_HAS_MAX */
    uint32_t choice_count;     /* UNMIX_PARAM_CHOICE: number of entries in `choices`, else 0 */
    const char *const *choices;/* UNMIX_PARAM_CHOICE: stable ids of the choices, else NULL */
} unmix_param_info_t;

/* ---------------------------------------------------------------------------------------- */
/* Descriptor                                                                                */
/* ---------------------------------------------------------------------------------------- */

/* Capability bits for `unmix_descriptor_t.capabilities`. */
enum {
    UNMIX_CAP_SPATIAL = 1 << 0,     /* uses the rows x cols layout, not just the pixel list */
    UNMIX_CAP_STOCHASTIC = 1 << 1,  /* results depend on the seed given to `set_params` */
    UNMIX_CAP_STATE = 1 << 2,       /* offers UNMIX_EXT_STATE_2 (or, before 1.2, UNMIX_EXT_STATE) */
    UNMIX_CAP_PROGRESS = 1 << 3,    /* reports progress and honours `should_cancel` */
    /* Promises about every abundance the plugin writes (since 1.2); the host checks them and
     * refuses a result that breaks one (tolerance 1e-3 on the sum). */
    UNMIX_CAP_ABUNDANCES_NONNEGATIVE = 1 << 4, /* every abundance >= 0 */
    UNMIX_CAP_ABUNDANCES_SUM_TO_ONE = 1 << 5   /* each pixel's R abundances sum to 1 */
};

typedef struct unmix_descriptor {
    const char *id;            /* stable, lower-case, e.g. "vca"; what users type */
    const char *name;          /* display name, e.g. "VCA" */
    const char *version;       /* the plugin's own version, e.g. "1.2.0" */
    const char *summary;       /* one line */
    const char *description;   /* a paragraph or more; may hold newlines */
    const char *authors;       /* may be NULL */
    const char *license;       /* may be NULL (an SPDX id is best) */
    const char *url;           /* may be NULL */
    uint64_t capabilities;     /* UNMIX_CAP_* bits */
    uint32_t param_count;
    const unmix_param_info_t *params; /* `param_count` entries (NULL when 0) */
} unmix_descriptor_t;

/* ---------------------------------------------------------------------------------------- */
/* Data                                                                                      */
/* ---------------------------------------------------------------------------------------- */

typedef struct unmix_cube {
    uint32_t rows;
    uint32_t cols;
    uint32_t bands;
    const float *data;         /* rows * cols * bands values, layout as in DATA above */
} unmix_cube_t;
/* The unmix host only passes cubes with rows, cols, bands >= 1 and finite data; a plugin may
 * still check and answer UNMIX_ERR_INVALID_ARGUMENT. */

/* ---------------------------------------------------------------------------------------- */
/* Host callbacks                                                                            */
/* ---------------------------------------------------------------------------------------- */

typedef struct unmix_host unmix_host_t;
/* The host pointer given to `create` is never NULL; a plugin treats a NULL callback as a no-op. */
struct unmix_host {
    uint32_t abi_major;
    uint32_t abi_minor;
    void *host_data;           /* reserved for the host */

    /* A message for the user. `message` is copied before return. [any-thread] */
    void (*log)(const unmix_host_t *host, unmix_log_level level, const char *message);

    /* Progress of the running call (`fit` or `abundances`, each running from 0 to 1):
     * `fraction` in [0, 1], `message` may be NULL and is copied before return. [any-thread] */
    void (*progress)(const unmix_host_t *host, double fraction, const char *message);

    /* True when the user asked to stop: the plugin should return UNMIX_ERR_CANCELLED soon.
     * [any-thread] */
    bool (*should_cancel)(const unmix_host_t *host);

    /* Host extensions, by versioned id (e.g. UNMIX_HOST_EXT_AXIS); NULL when unsupported.
     * The pointer lives as long as the host pointer. [any-thread] */
    const void *(*get_extension)(const unmix_host_t *host, const char *id);
};

/* ---------------------------------------------------------------------------------------- */
/* The plugin table                                                                          */
/* ---------------------------------------------------------------------------------------- */

typedef struct unmix_instance unmix_instance_t; /* opaque to the host */

typedef struct unmix_plugin unmix_plugin_t;
struct unmix_plugin {
    uint32_t abi_major;        /* UNMIX_ABI_MAJOR the plugin was built against */
    uint32_t abi_minor;        /* UNMIX_ABI_MINOR the plugin was built against */
    const unmix_descriptor_t *descriptor;

    /* A new instance with every parameter at its default. `host` and its callbacks stay valid
     * until `destroy`. Returns NULL only when out of memory. [any-thread] */
    unmix_instance_t *(*create)(const unmix_host_t *host);

    /* Releases the instance and all it holds. [instance] */
    void (*destroy)(unmix_instance_t *instance);

    /* Sets every parameter at once: `values` holds `count` (== descriptor->param_count) values
     * in the order of `descriptor->params`, each as described under Parameters; `seed` seeds
     * every random choice of the following fits. The plugin checks values against its table
     * and returns UNMIX_ERR_INVALID_ARGUMENT with a reason naming the parameter when one is out
     * of range. [instance] */
    unmix_status (*set_params)(unmix_instance_t *instance, const double *values, uint32_t count,
                               uint64_t seed);

    /* Learns `r` endmembers from `cube` (1 <= r < cube->bands and r <= rows * cols) and writes
     * them to `endmembers` (r * cube->bands floats, host-allocated). Forgets any earlier fit,
     * even when it fails or is cancelled: afterwards the instance is fitted only on success.
     * Everything `abundances` will use, parameters included, is fixed at this call. [instance] */
    unmix_status (*fit)(unmix_instance_t *instance, const unmix_cube_t *cube, uint32_t r,
                        float *endmembers);

    /* Writes the abundances of `cube` under the fitted model to `abundances`
     * (cube->rows * cube->cols * r floats, host-allocated). `cube` may be the fitted cube or
     * another one with the same number of bands (UNMIX_ERR_BAD_STATE otherwise). [after fit] */
    unmix_status (*abundances)(unmix_instance_t *instance, const unmix_cube_t *cube,
                               float *abundances);

    /* The reason for the last failed call on this instance, one line, never NULL ("" when
     * none; a successful call may clear it). Valid until the next call on the instance.
     * [instance] */
    const char *(*last_error)(const unmix_instance_t *instance);

    /* A plugin extension by versioned id (e.g. UNMIX_EXT_STATE), or NULL. The pointer is
     * static and lives as long as the library. [any-thread] */
    const void *(*get_extension)(const unmix_plugin_t *plugin, const char *id);
};

/* The one exported function. Returns a pointer to a static table, never NULL. [any-thread]
 * A C plugin defines it as:  UNMIX_EXPORT const unmix_plugin_t *unmix_plugin_entry(void) { ... } */
typedef const unmix_plugin_t *(*unmix_entry_fn)(void);
#ifndef UNMIX_NO_ENTRY_PROTOTYPE
UNMIX_EXPORT const unmix_plugin_t *unmix_plugin_entry(void);
#endif

/* ---------------------------------------------------------------------------------------- */
/* Extension: saving and restoring a fitted model                                             */
/* ---------------------------------------------------------------------------------------- */

#define UNMIX_EXT_STATE "unmix.state/1"

/* Receives `size` bytes of state; returns false to stop the save (which then fails). */
typedef bool (*unmix_write_fn)(void *context, const void *bytes, size_t size);

typedef struct unmix_state_ext {
    /* Writes the fitted model (everything `abundances` needs) through `write`, in as many
     * pieces as the plugin likes. The format is the plugin's own. [after fit] */
    unmix_status (*save)(unmix_instance_t *instance, unmix_write_fn write, void *context);

    /* Restores a model written by `save` of the same plugin id and version; afterwards the
     * instance behaves as after that `fit`. Bytes it cannot read (truncated, altered, another
     * plugin's) fail with UNMIX_ERR_INVALID_ARGUMENT and leave the instance as it was.
     * `bytes` is only read during the call. [instance] */
    unmix_status (*load)(unmix_instance_t *instance, const void *bytes, size_t size);
} unmix_state_ext_t;

/* Version 2 of the state extension (since 1.2): the same save and load, and the shape of the
 * model the instance holds, so that a host can check a restored model against what it expects
 * before it sizes a buffer. A plugin declaring UNMIX_CAP_STATE should offer this one; the unmix
 * host still accepts "unmix.state/1" from older plugins, with fewer checks. */
#define UNMIX_EXT_STATE_2 "unmix.state/2"

typedef struct unmix_state2_ext {
    /* As in unmix_state_ext_t. [after fit] */
    unmix_status (*save)(unmix_instance_t *instance, unmix_write_fn write, void *context);

    /* As in unmix_state_ext_t; bytes that are not exactly what `save` wrote (truncated, altered
     * or from another plugin) fail with UNMIX_ERR_INVALID_ARGUMENT. [instance] */
    unmix_status (*load)(unmix_instance_t *instance, const void *bytes, size_t size);

    /* The number of endmembers and of bands of the fitted or restored model: what `abundances`
     * will write per pixel and the bands it expects. UNMIX_ERR_BAD_STATE before any fit or
     * load. [after fit] */
    unmix_status (*model_shape)(const unmix_instance_t *instance, uint32_t *r, uint32_t *bands);
} unmix_state2_ext_t;

/* ---------------------------------------------------------------------------------------- */
/* Host extension: the signal axis (since 1.1)                                                */
/* ---------------------------------------------------------------------------------------- */

/*
 * What the cube's channels are: energies in eV for EELS, wavelengths in nm for remote sensing.
 * Channel b has the value `offset + b * scale`, or `values[b]` when the axis is not uniform.
 * A plugin that wants it asks `host->get_extension(host, UNMIX_HOST_EXT_AXIS)` (NULL from a
 * host that does not offer it, such as any 1.0 host) and calls `signal_axis` during `fit` or
 * `abundances`. A plugin must work without it.
 */
#define UNMIX_HOST_EXT_AXIS "unmix.axis/1"

typedef struct unmix_axis {
    uint32_t size;          /* the number of channels, == cube->bands of the running call */
    double offset;          /* the value of channel 0 */
    double scale;           /* the step between channels (may be negative) */
    const char *units;      /* e.g. "eV", "nm"; "" when unknown; never NULL */
    const char *name;       /* e.g. "Energy loss"; "" when unknown; never NULL */
    const double *values;   /* `size` values when the axis is not uniform, else NULL */
} unmix_axis_t;

typedef struct unmix_host_axis_ext {
    /* The signal axis of the cube passed to the running `fit` or `abundances`, or NULL when the
     * host does not know it (the channels are then only numbered). The pointer and its strings
     * are valid until that call returns. [during fit or abundances] */
    const unmix_axis_t *(*signal_axis)(const unmix_host_t *host);
} unmix_host_axis_ext_t;

#ifdef __cplusplus
}
#endif

#endif /* UNMIX_H */
