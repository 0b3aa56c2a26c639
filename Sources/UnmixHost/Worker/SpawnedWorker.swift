import Foundation

/// A started worker process as the host sees it: the answers it has sent so far, whether it has
/// ended, and how (`Worker.spawn` starts it). One-shot workers are read until they exit; a
/// session's worker (`WorkerSession`) is read until each answer is whole.
final class SpawnedWorker {
    let pid: pid_t
    /// The read end of the worker's answers (fd 3 in the worker).
    let answers: Int32
    /// The write end of a session's chunk requests (fd 6 in the worker); nil for one-shot jobs.
    let chunks: Int32?
    /// The answers of the current call, from its first byte.
    private(set) var stream = [UInt8]()
    private var open = true
    private(set) var exited = false
    private var status: Int32 = 0
    private var usage = rusage()
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    // Progress events are handed on as they arrive: frames are scanned from `scanned` on, up
    // to the final event (whose payload is never decoded).
    private var scanned = 0, scanEnded = false

    init(pid: pid_t, answers: Int32, chunks: Int32?) {
        self.pid = pid
        self.answers = answers
        self.chunks = chunks
    }

    func closeAll() {
        close(answers)
        if let chunks { close(chunks) }
    }

    /// Forgets the answer read (a session's next call starts a new stream). Bytes of a frame
    /// not yet whole are kept: they begin what the worker sends next.
    func startCall() {
        var whole = 0
        while stream.count - whole >= 8 {
            let length = stream[whole..<(whole + 8)].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            guard length <= UInt64(stream.count - whole - 8) else { break }
            whole += 8 + Int(length)
        }
        stream.removeFirst(whole)
        scanned = 0
        scanEnded = false
    }

    /// Peak resident memory in MiB: from the kernel's accounting once the worker has ended, else
    /// its high-water mark so far.
    var peakMemoryMiB: Double {
        if exited { return Double(usage.ru_maxrss) / 1024 }
        return residentHighWaterMiB(process: String(pid)) ?? 0
    }

    /// Kills the worker's process group, waits for it, and returns `failure` with its peak memory.
    func kill(_ failure: (Double) -> Error) -> Error {
        Glibc.kill(-pid, SIGKILL)
        Glibc.kill(pid, SIGKILL)
        if !exited {
            while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
            exited = true
        }
        return failure(peakMemoryMiB)
    }

    /// Reads answers until the worker exits, or (`untilAnswer`) until a final answer is whole,
    /// handing progress on as it comes. A received SIGINT or SIGTERM, the time limit counted from
    /// `started`, or more than `maxAnswerBytes` of answer kill the worker and throw.
    func collect(limits: WorkerLimits, maxAnswerBytes: Int, started: Double, untilAnswer: Bool) throws {
        while !exited {
            if let signal = Interrupts.received {
                throw kill { _ in Interrupts.error(signal, "") }
            }
            if let timeout = limits.timeout, now() - started > timeout {
                let during = Worker.parse(stream).stage
                throw kill { WorkerFailure(kind: .timedOut, reason: "timed out after \(formatSeconds(timeout)) during \(during)", peakMemoryMiB: $0) }
            }
            if open {
                open = try readAvailable(wait: 100, maxAnswerBytes: maxAnswerBytes)
                forwardProgress(limits.onProgress)
                if untilAnswer && isAnswered { return }
            } else {
                usleep(20_000)
            }
            // The worker may be gone while something it started still holds the pipe open.
            let w = wait4(pid, &status, WNOHANG, &usage)
            if w == pid || (w < 0 && errno != EINTR) { exited = true }
        }
        // What the worker wrote before it ended is still in the pipe.
        while open, stream.count <= maxAnswerBytes {
            let before = stream.count
            open = try readAvailable(wait: 0, maxAnswerBytes: maxAnswerBytes)
            if stream.count == before { break }
        }
    }

    /// Whether the stream holds a final event, with the payload that follows `.finished`.
    private var isAnswered: Bool {
        let answer = Worker.parse(stream)
        switch answer.event {
        case .finished?: return answer.payload != nil
        case .failed?, .scanned?: return true
        default: return false
        }
    }

    /// The answer read, or the failure it amounts to: the plugin's refusal, a crash, an exit
    /// without a result.
    func answer() throws -> WorkerAnswer {
        let peak = peakMemoryMiB
        let answer = Worker.parse(stream)
        if let event = answer.event {
            if case .failed(let reason) = event {
                throw WorkerFailure(kind: .failed, reason: oneLine(reason), peakMemoryMiB: peak)
            }
            if case .finished(let result) = event {
                guard let payload = answer.payload else {
                    throw WorkerFailure(kind: .noResult, reason: "ended before sending its result", peakMemoryMiB: peak)
                }
                return WorkerAnswer(event: event, payload: payload, peakMemoryMiB: result.residentPeakMiB ?? peak)
            }
            return WorkerAnswer(event: event, payload: [], peakMemoryMiB: peak)
        }
        let during = answer.stage
        let termSignal = status & 0x7f
        if termSignal != 0 {
            if termSignal == SIGKILL {
                throw WorkerFailure(kind: .crashed, reason: "was killed (SIGKILL) during \(during), most likely for want of memory", peakMemoryMiB: peak)
            }
            throw WorkerFailure(kind: .crashed, reason: "crashed (\(signalName(termSignal))) during \(during)", peakMemoryMiB: peak)
        }
        throw WorkerFailure(kind: .noResult, reason: "exited (status \((status >> 8) & 0xff)) during \(during) without a result", peakMemoryMiB: peak)
    }

    /// Reads what is there (waiting up to `wait` ms); false at end of file.
    private func readAvailable(wait: Int32, maxAnswerBytes: Int) throws -> Bool {
        var p = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, wait) > 0 else { return true }
        let n = buffer.withUnsafeMutableBytes { read(answers, $0.baseAddress, $0.count) }
        if n > 0 {
            stream += buffer[0..<n]
            if stream.count > maxAnswerBytes {
                throw kill { WorkerFailure(kind: .failed, reason: "sent more than \(maxAnswerBytes) bytes of answer", peakMemoryMiB: $0) }
            }
            return true
        }
        return n < 0 && (errno == EINTR || errno == EAGAIN)
    }

    private func forwardProgress(_ onProgress: (@Sendable (Double, String) -> Void)?) {
        guard let onProgress else { return }
        while !scanEnded, stream.count - scanned >= 8 {
            let length = stream[scanned..<(scanned + 8)].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            guard length <= 1 << 16, Int(length) <= stream.count - scanned - 8 else { return }
            let frame = stream[(scanned + 8)..<(scanned + 8 + Int(length))]
            guard let event = try? JSONDecoder().decode(WorkerEvent.self, from: Data(frame)) else {
                scanEnded = true
                return
            }
            switch event {
            case .progress(let fraction, let message): onProgress(fraction, message)
            case .stage: break
            case .scanned, .finished, .failed: scanEnded = true
            }
            scanned += 8 + Int(length)
        }
    }
}
