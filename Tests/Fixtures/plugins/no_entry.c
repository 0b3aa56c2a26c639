/*
 * no_entry.c — a shared library that exports a function, but not `unmix_plugin_entry`.
 * The host must report it as not a plugin (and not crash).
 */
#include "unmix.h"

#if defined(__GNUC__) || defined(__clang__)
#define FX_EXPORT __attribute__((visibility("default")))
#else
#define FX_EXPORT
#endif

/* A near miss of the entry's name and type. */
FX_EXPORT int unmix_plugin_entry_missing(void);
FX_EXPORT int unmix_plugin_entry_missing(void) { return UNMIX_ABI_MAJOR; }
