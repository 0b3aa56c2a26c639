import Foundation

/// Runs `body` on 0..<count cut into fixed chunks of `grain` indices, on all cores when there is
/// more than one chunk. Element-wise work on large tensors (a 15 × 40 × 40 × 903 batch, a weight
/// of millions of values) otherwise runs on one core while the other waits for the next GEMM.
///
/// The chunks depend only on `count` and `grain`, never on scheduling, so a chunked reduction
/// gives the same bits on every run.
@inline(__always)
func inChunks(_ count: Int, grain: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
    let grain = max(grain, 1)
    if count <= grain {
        body(0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: (count + grain - 1) / grain) { k in
        body((k * grain)..<min(count, (k + 1) * grain))
    }
}

/// A grain in rows for row-wise work on rows of `width` values: about 64 Ki values per chunk.
@inline(__always)
func rowGrain(_ width: Int) -> Int { max(1, (1 << 16) / max(width, 1)) }
