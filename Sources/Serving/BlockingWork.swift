import Foundation

/// Runs blocking work (a generation, a model load) on a thread of its own, so that it never holds
/// a thread of Swift's cooperative pool or NIO's event loops: those must stay free to accept
/// connections and stream answers while the model computes.
enum BlockingWork {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            start { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Starts `body` on a new thread and returns at once.
    static func start(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.stackSize = 16 << 20
        thread.start()
    }
}

/// Why a generation was stopped early, set by one thread and polled by the generating one at each
/// piece of text: the client went away ("cancelled") or the graceful stop ran out of time
/// ("shutdown"). The first reason set stays; the record is logged with it as `finish_reason`.
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?

    var isSet: Bool { reason != nil }

    var reason: String? {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    func set(_ reason: String = CancelFlag.clientGone) {
        lock.lock()
        if value == nil { value = reason }
        lock.unlock()
    }

    static let clientGone = "cancelled"
    static let shutdown = "shutdown"
}

/// The requests admitted and not yet finished, so that a graceful stop that runs out of time can
/// cut them (and every later one) short.
final class RunningRequests: @unchecked Sendable {
    private let lock = NSLock()
    private var flags: [ObjectIdentifier: CancelFlag] = [:]
    private var stopping = false

    /// Registers a request's flag; after `cutAll` it is set at once.
    func add(_ flag: CancelFlag) {
        lock.lock()
        flags[ObjectIdentifier(flag)] = flag
        let cut = stopping
        lock.unlock()
        if cut { flag.set(CancelFlag.shutdown) }
    }

    func remove(_ flag: CancelFlag) {
        lock.lock()
        flags[ObjectIdentifier(flag)] = nil
        lock.unlock()
    }

    /// Sets every flag (and every later one) to "shutdown"; returns how many requests were running.
    @discardableResult
    func cutAll() -> Int {
        lock.lock()
        stopping = true
        let all = Array(flags.values)
        lock.unlock()
        for flag in all { flag.set(CancelFlag.shutdown) }
        return all.count
    }
}
