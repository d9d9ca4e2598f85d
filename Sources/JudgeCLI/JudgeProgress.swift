import Foundation

/// `judge`'s progress line on a terminal's stderr (as orpo-train's): records done (judged or passed
/// through), the rate and,
/// when the input is files whose lines were counted first, the share done and the time left.
/// Redrawn at most twice a second; `finish()` ends the line.
final class JudgeProgress {
    private let total: Int?
    private let started = Date()
    private var lastDrawn = Date.distantPast
    private(set) var done = 0
    private var drawn = false

    /// Progress for `inputs` (stdin when empty or "-": no total).
    init(inputs: [String]) {
        total = Self.lineCount(inputs)
    }

    func advance() {
        done += 1
        let now = Date()
        guard now.timeIntervalSince(lastDrawn) >= 0.5 else { return }
        lastDrawn = now
        fputs("\r\u{1B}[K" + line(now: now), stderr)
        drawn = true
    }

    func finish() {
        guard drawn else { return }
        fputs("\r\u{1B}[K" + line(now: Date()) + "\n", stderr)
    }

    func line(now: Date) -> String {
        let seconds = max(now.timeIntervalSince(started), 1e-9)
        let rate = Double(done) / seconds
        var text = "records \(done)"
        if let total, total > 0 {
            text += "/\(total) (\(Int(100 * Double(done) / Double(total)))%)"
        }
        text += String(format: ", %.1f rec/s", rate)
        if let total, total > done, rate > 0 {
            text += ", ETA " + Self.duration(Double(total - done) / rate)
        }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
        if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s)s"
    }

    /// Lines in the input files (non-empty lines are records or malformed lines), or nil for stdin.
    static func lineCount(_ inputs: [String]) -> Int? {
        guard !inputs.isEmpty, !inputs.contains("-") else { return nil }
        var count = 0
        for path in inputs {
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? handle.close() }
            var last: UInt8 = 0x0A
            while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                count += chunk.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                last = chunk.last ?? last
            }
            if last != 0x0A { count += 1 }
        }
        return count
    }
}
