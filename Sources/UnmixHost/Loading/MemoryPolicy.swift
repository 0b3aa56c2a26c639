import Foundation

/// How a process that runs plugins manages freed memory; the `unmix` and `unmix-bench`
/// executables opt in at start-up (a library embedding UnmixHost keeps its own policy).
///
/// Training an autoencoder allocates and frees the same large buffers (tens to hundreds of MB)
/// every step. glibc serves blocks above 32 MiB by mmap and unmaps them on free, so each step
/// pays a page fault and the kernel's zeroing for every page again: about half the time of a
/// CNNAEU epoch on a 903-band cube was measured there. Keeping freed memory in the heap for
/// reuse (no mmap for large blocks, no trimming below 2 GiB free at the top) removes that cost.
/// glibc still maps blocks over 64 MiB asked for by threads other than the main one, which is
/// where plugins run.
public enum MemoryPolicy {
    /// Applies the policy (once; glibc only, nothing elsewhere).
    public static func keepFreedMemory() { _ = applied }

    private static let applied: Void = {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil /* RTLD_DEFAULT */, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1, mmapMax: Int32 = -4    // M_TRIM_THRESHOLD, M_MMAP_MAX (malloc.h)
        _ = mallopt(mmapMax, 0)
        _ = mallopt(trimThreshold, Int32.max)
    }()
}
