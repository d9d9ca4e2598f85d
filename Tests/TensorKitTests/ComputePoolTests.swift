import Testing
@testable import TensorKit

@Suite struct ComputePoolTests {
    @Test(arguments: [1, 2, 3])
    func parallelForVisitsEveryIndexOnce(threads: Int) throws {
        let pool = try ComputePool(threads: threads, spinMicroseconds: 50)
        for (count, chunk) in [(1, nil), (7, 2), (1000, nil), (1000, 1), (5, 100)] as [(Int, Int?)] {
            let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
            defer { counts.deallocate() }
            counts.initialize(repeating: 0)
            var seenThreads = Set<Int>()
            let threadLog = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
            defer { threadLog.deallocate() }
            pool.parallelFor(count, chunk: chunk) { range, thread in
                for i in range {
                    counts[i] += 1
                    threadLog[i] = thread
                }
            }
            #expect(counts.allSatisfy { $0 == 1 }, "count \(count) chunk \(String(describing: chunk))")
            for i in 0..<count { seenThreads.insert(threadLog[i]) }
            #expect(seenThreads.allSatisfy { (0..<threads).contains($0) })
        }
    }

    @Test func manyBackToBackLoopsComplete() throws {
        let pool = try ComputePool(threads: 2, spinMicroseconds: 20)
        var total = 0
        let sums = UnsafeMutableBufferPointer<Int>.allocate(capacity: 64)
        defer { sums.deallocate() }
        for _ in 0..<2000 {
            sums.initialize(repeating: 0)
            pool.parallelFor(64, chunk: 8) { range, _ in for i in range { sums[i] = i } }
            total += sums.reduce(0, +)
        }
        #expect(total == 2000 * (63 * 64 / 2))
    }

    /// Workers descheduled between reading a job and claiming a chunk of it (more threads than
    /// cores, jobs of alternating sizes back to back) must never claim items of the next job with
    /// the previous job's ticket: each index runs exactly once per job, and a loop returns only
    /// when all its items are done. A stale claim used to run the next job's body on items the
    /// caller ran too, and counted them, so that the caller could return while a worker still
    /// wrote into memory it had handed back (a crash of the server under load).
    @Test func staleWorkersNeverClaimItemsOfTheNextJob() throws {
        let pool = try ComputePool(threads: 8, spinMicroseconds: 2)
        let capacity = 64
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: capacity)
        defer { counts.deallocate() }
        var wrong = 0
        for job in 0..<20_000 {
            let count = job % 2 == 0 ? 3 : capacity
            counts.initialize(repeating: 0)
            pool.parallelFor(count, chunk: 1) { range, _ in
                for i in range { counts[i] += 1 }
            }
            // Everything done when the loop returns, nothing twice, nothing outside the job.
            if !(0..<capacity).allSatisfy({ counts[$0] == ($0 < count ? 1 : 0) }) { wrong += 1 }
        }
        #expect(wrong == 0, "\(wrong) of 20000 loops ran an item twice, missed one or returned early")
    }
}
