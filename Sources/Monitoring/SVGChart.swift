import Foundation
import Records

/// A line chart of one window metric over time, one line per group, with the alert threshold drawn
/// as a dashed line: enough to see at a glance when and how far a metric crossed it, with no plotting
/// library. Time runs along x (UTC), the metric along y; windows without a value leave a gap.
/// Each window with a value is one `<circle class="point">` whose `data-window` is the window's
/// start and `data-group` its line, with a tooltip, so a page embedding the chart (scripts/loop-report's
/// report.html) can find every window's point.
public struct SVGChart {
    public typealias Point = (time: Double, start: String, value: Double?)
    public var title: String
    public var threshold: Double?
    public private(set) var series: [(label: String, points: [Point])] = []

    public init(title: String, threshold: Double?) {
        self.title = title
        self.threshold = threshold
    }

    /// Adds a window's value of `path` (end time on x) to its group's line.
    public mutating func add(window: JSONObject, path: String) {
        guard let end = window["window_end"]?.string, let time = try? Timestamp(rfc3339: end) else { return }
        let group = window["group"]?.object ?? JSONObject()
        let label = group.isEmpty ? "all" : group.map { "\($0.key)=\($0.value.string ?? $0.value.description)" }.joined(separator: ",")
        let value = window.value(atPath: path)?.double
        let point: Point = (time.secondsSinceEpoch, window["window_start"]?.string ?? end, value)
        if let i = series.firstIndex(where: { $0.label == label }) {
            series[i].points.append(point)
        } else {
            series.append((label, [point]))
        }
    }

    public func render(width: Double = 800, height: Double = 400) -> String {
        let left = 70.0, right = 40.0, top = 40.0, bottom = 50.0
        let times = series.flatMap { $0.points.map(\.time) }
        var values = series.flatMap { $0.points.compactMap(\.value) }
        if let threshold { values.append(threshold) }
        var t0 = times.min() ?? 0, t1 = times.max() ?? 1
        if t0 == t1 { t0 -= 60; t1 += 60 }
        var v0 = values.min() ?? 0, v1 = values.max() ?? 1
        if v0 == v1 { v0 -= 1; v1 += 1 }
        let pad = (v1 - v0) * 0.05
        v0 -= pad; v1 += pad
        let plotW = width - left - right, plotH = height - top - bottom
        func x(_ t: Double) -> Double { left + (t - t0) / (t1 - t0) * plotW }
        func y(_ v: Double) -> Double { top + (1 - (v - v0) / (v1 - v0)) * plotH }
        func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(fmt(width / 2))" y="22" text-anchor="middle" font-size="15">\(xmlEscape(title))</text>
        <line x1="\(fmt(left))" y1="\(fmt(top + plotH))" x2="\(fmt(left + plotW))" y2="\(fmt(top + plotH))" stroke="black"/>
        <line x1="\(fmt(left))" y1="\(fmt(top))" x2="\(fmt(left))" y2="\(fmt(top + plotH))" stroke="black"/>

        """
        for i in 0...4 {
            let v = v0 + (v1 - v0) * Double(i) / 4
            svg += "<line x1=\"\(fmt(left - 4))\" y1=\"\(fmt(y(v)))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(y(v)))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(fmt(left - 8))\" y=\"\(fmt(y(v) + 4))\" text-anchor=\"end\">\(String(format: "%.4g", v))</text>\n"
            let t = t0 + (t1 - t0) * Double(i) / 4
            let label = String(Timestamp(secondsSinceEpoch: t).rfc3339.dropFirst(11).prefix(5))
            svg += "<text x=\"\(fmt(x(t)))\" y=\"\(fmt(top + plotH + 18))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        svg += "<text x=\"\(fmt(left + plotW / 2))\" y=\"\(fmt(height - 10))\" text-anchor=\"middle\">window end (UTC, from \(Timestamp(secondsSinceEpoch: t0).rfc3339))</text>\n"
        let colors = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"]
        for (i, line) in series.enumerated() {
            let color = colors[i % colors.count]
            var segment: [String] = []
            func flush() {
                if segment.count > 1 { svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(segment.joined(separator: " "))\"/>\n" }
                segment.removeAll()
            }
            for point in line.points {
                guard let v = point.value else { flush(); continue }
                segment.append("\(fmt(x(point.time))),\(fmt(y(v)))")
                svg += "<circle class=\"point\" data-window=\"\(xmlEscape(point.start))\" data-group=\"\(xmlEscape(line.label))\" "
                    + "cx=\"\(fmt(x(point.time)))\" cy=\"\(fmt(y(v)))\" r=\"3\" fill=\"\(color)\">"
                    + "<title>\(xmlEscape(line.label)) \(xmlEscape(point.start)): \(String(format: "%.4g", v))</title></circle>\n"
            }
            flush()
            svg += "<text x=\"\(fmt(left + 10))\" y=\"\(fmt(top + 14 + Double(i) * 15))\" fill=\"\(color)\">\(xmlEscape(line.label))</text>\n"
        }
        if let threshold {
            svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(threshold)))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(y(threshold)))\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\"/>\n"
            svg += "<text x=\"\(fmt(left + plotW - 4))\" y=\"\(fmt(y(threshold) - 5))\" text-anchor=\"end\" fill=\"#d62728\">threshold \(String(format: "%.4g", threshold))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private func xmlEscape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// Replaces a file's contents atomically (write a temporary file, then rename), so that a reader such
/// as the textfile collector never sees half a file.
public func replaceFileAtomically(_ path: String, with text: String) throws {
    let temporary = path + ".tmp-\(getpid())"
    func fail(_ operation: String) -> FatalError {
        let error = SystemError(operation: operation, code: errno)
        unlink(temporary)
        return FatalError("cannot write \(path): \(error)")
    }
    // Plain system calls, so the message is the system's reason, not Foundation's wrapping of it.
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw FatalError("cannot write \(path): \(SystemError(operation: "creating \(temporary)", code: errno))") }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0, errno == EINTR { continue }
        guard n > 0 else {
            let failure = fail("writing \(temporary)")
            close(fd)
            throw failure
        }
        bytes = bytes.dropFirst(n)
    }
    guard close(fd) == 0 else { throw fail("writing \(temporary)") }
    guard rename(temporary, path) == 0 else { throw fail("renaming \(temporary) to \(path)") }
}
