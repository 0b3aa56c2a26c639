// Linux calls that Swift's Glibc module does not reach: GNU extensions (memfd_create needs
// _GNU_SOURCE) and variadic functions (prctl). Each is one small inline wrapper.
#ifndef UNMIX_CSYSTEM_SHIM_H
#define UNMIX_CSYSTEM_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/mman.h>
#include <sys/prctl.h>
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>

/// An anonymous file in memory (close-on-exec); -1 and errno on failure.
/// The corresponding C function is `memfd_create`.
static inline int unmix_memfd_create(const char *name) {
    return memfd_create(name, MFD_CLOEXEC);
}

/// Asks the kernel to send `signal` to this process when its parent dies; 0 or -1.
/// The corresponding C function is `prctl(PR_SET_PDEATHSIG, …)`.
static inline int unmix_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}

/// A pipe whose two ends are close-on-exec; 0 or -1. The corresponding C function is `pipe2`.
static inline int unmix_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}
#endif
