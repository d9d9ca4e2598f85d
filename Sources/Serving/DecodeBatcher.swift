import Foundation
import Gemma

/// Continuous batching of the decode phase: every request generating on one model is stepped by a
/// single batched forward per token (`GemmaModel.forward(batch:caches:)`), which reads the weights
/// once for all of them, instead of each request running its own forward through the shared,
/// one-loop-at-a-time compute pool. A request runs its prompt on its own thread, joins the batch
/// at the next step, and leaves it when it ends (end token, stop string, max_tokens, or its
/// client gone), without holding the others up. Each session samples, stops and streams exactly
/// as alone, and batched rows equal one-at-a-time rows, so answers do not depend on the traffic.
///
/// The stepping thread exists only while some request is decoding, so a batcher left behind by a
/// reload (and its model) is freed when its last request ends.
final class DecodeBatcher: @unchecked Sendable {
    let generator: Generator
    private let lock = NSLock()
    private var joining: [Member] = []
    private var stepping = false
    private var stepped = 0
    private var largest = 0

    /// The name of the stepping thread, as debuggers and `top -H` show it. Linux keeps at most 15
    /// bytes of a thread's name and refuses a longer one, so it stays short.
    static let threadName = "gemma-decode"

    /// Called by the stepping thread with the batcher before each step takes in the sessions that
    /// joined. Tests give one to hold the first step until every request has joined, so that they
    /// step together whatever the machine's load; nil (no call) otherwise.
    private let beforeAdmitting: (@Sendable (DecodeBatcher) -> Void)?

    /// A session in the batch and how to hand its outcome back.
    private struct Member {
        let session: GenerationSession
        let outcome: Outcome
    }

    init(generator: Generator, beforeAdmitting: (@Sendable (DecodeBatcher) -> Void)? = nil) {
        self.generator = generator
        self.beforeAdmitting = beforeAdmitting
    }

    /// The most sessions stepped together so far.
    var largestBatch: Int {
        lock.lock()
        defer { lock.unlock() }
        return largest
    }

    /// Sessions in the batch or waiting for the next step to take them in.
    var memberCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return stepped + joining.count
    }

    /// Generates like `Generator.generate(_:onPiece:)`, with the decode steps batched. Blocking:
    /// the prompt runs on the calling thread, which then waits for the session to leave the batch.
    /// `onPiece` is called on the stepping thread: it must be quick (it holds up every request).
    func generate(_ request: GenerationRequest, onPiece: ((TextPiece) -> Bool)?) throws -> GenerationResult {
        let session = try generator.start(request, onPiece: onPiece)
        guard !session.isFinished else { return session.result() }
        let outcome = Outcome()
        join(Member(session: session, outcome: outcome))
        return try outcome.wait()
    }

    private func join(_ member: Member) {
        lock.lock()
        joining.append(member)
        let start = !stepping
        stepping = true
        lock.unlock()
        if start {
            BlockingWork.start { [self] in
                Thread.current.name = Self.threadName
                step()
            }
        }
    }

    /// The stepping loop: admit the sessions that joined, run one batched forward, let each
    /// session sample, and hand back the finished ones; return when none is left.
    private func step() {
        var batch: [Member] = []
        while true {
            beforeAdmitting?(self)
            lock.lock()
            batch += joining
            joining.removeAll()
            stepped = batch.count
            if batch.isEmpty {
                stepping = false
                lock.unlock()
                return
            }
            largest = max(largest, batch.count)
            lock.unlock()

            let tokens = batch.compactMap(\.session.pendingToken)
            do {
                let rows = try generator.model.forward(batch: tokens, caches: batch.map(\.session.cache))
                for (member, logits) in zip(batch, rows) { member.session.advance(logits: logits) }
            } catch {
                // Not reachable through the sessions' own limits; fail the whole step loudly.
                for member in batch { member.outcome.set(.failure(error)) }
                batch.removeAll()
                continue
            }
            batch.removeAll { member in
                guard member.session.isFinished else { return false }
                member.outcome.set(.success(member.session.result()))
                return true
            }
        }
    }
}

/// The result of a batched generation, handed from the stepping thread to the waiting request.
private final class Outcome: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private var result: Result<GenerationResult, Error> = .failure(CancellationError())

    func set(_ r: Result<GenerationResult, Error>) {
        result = r
        ready.signal()
    }

    func wait() throws -> GenerationResult {
        ready.wait()
        return try result.get()
    }
}
