import Foundation

/// Runs up to `width` jobs at once, each on its own thread, and hands their results back in the order
/// the jobs were submitted, as soon as every earlier one is done.
///
/// Threads rather than a dispatch queue: judge jobs block on the network for seconds, and libdispatch
/// sizes its pool to the cores, which would cap `-j 16` near 2 on a small machine.
public final class OrderedWorkQueue<Output>: @unchecked Sendable {
    public let width: Int

    private final class Slot: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var output: Output?
    }

    private var pending: [Slot] = []

    public init(width: Int) {
        self.width = max(1, width)
    }

    /// Starts `job`. If `width` jobs are already running, first waits for the oldest and delivers it
    /// (and any finished after it). Results go to `deliver` on the caller's thread, in order.
    /// With width 1 the job runs on the caller's thread, so a live stream sees each result at once.
    public func submit(_ job: @escaping @Sendable () -> Output, deliver: (Output) throws -> Void) throws {
        if width == 1 {
            try deliver(job())
            return
        }
        while pending.count >= width {
            try deliverHead(waiting: true, deliver)
        }
        let slot = Slot()
        pending.append(slot)
        let thread = Thread {
            slot.output = job()
            slot.done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
        while try deliverHead(waiting: false, deliver) {}
    }

    /// Waits for every job and delivers the rest in order.
    public func finish(deliver: (Output) throws -> Void) throws {
        while !pending.isEmpty {
            try deliverHead(waiting: true, deliver)
        }
    }

    /// Delivers the oldest job if it is done (or after waiting for it); false when it is not done yet
    /// or nothing is pending.
    @discardableResult
    private func deliverHead(waiting: Bool, _ deliver: (Output) throws -> Void) throws -> Bool {
        guard let head = pending.first else { return false }
        if waiting {
            head.done.wait()
        } else if head.done.wait(timeout: .now()) != .success {
            return false
        }
        pending.removeFirst()
        if let output = head.output { try deliver(output) }
        return true
    }
}
