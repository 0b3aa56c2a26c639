import Foundation

/// How the process that runs plugins manages freed memory.
///
/// Training an autoencoder allocates and frees the same large buffers (tens to hundreds of MB)
/// every step. glibc serves blocks above 32 MiB by mmap and returns them on free, so each step
/// pays a page fault and the kernel's zeroing for every page again — half the time of a CNNAEU
/// epoch on a 903-band cube was measured there. Keeping freed memory in the heap for reuse (no
/// mmap for large blocks, no trimming below 2 GiB of free space at the top) removes that cost;
/// the peak memory is the same, since the peak is reached either way.
enum MemoryPolicy {
    /// Applied once, before the first plugin instance is made. glibc only; elsewhere nothing.
    static let keepFreedMemory: Void = {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil /* RTLD_DEFAULT */, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1, mmapMax: Int32 = -4    // M_TRIM_THRESHOLD, M_MMAP_MAX (malloc.h)
        _ = mallopt(mmapMax, 0)
        _ = mallopt(trimThreshold, Int32.max)
    }()
}
