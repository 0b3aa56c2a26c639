/*
 * no_entry.c — a shared library that exports a function, but not `unmix_plugin_entry`.
 * The host must report it as not a plugin (and not crash).
 */
#include "unmix.h"


/* A near miss of the entry's name and type. */
UNMIX_EXPORT int unmix_plugin_entry_missing(void);
UNMIX_EXPORT int unmix_plugin_entry_missing(void) { return UNMIX_ABI_MAJOR; }
