import Foundation

/// Runs blocking work (a child process, a model run, a wait on a semaphore) on a thread of its own
/// and awaits it. Swift Testing runs tests on the cooperative pool, which has one thread per core:
/// a test that blocks one for minutes (the quick loop) leaves the in-process servers of other
/// suites, whose handlers need the pool, with one thread or none, and their requests then stall
/// for as long as it blocks. Keep `#expect` outside `body`: it belongs to the test's task.
public func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 16 << 20
        thread.start()
    }
}
