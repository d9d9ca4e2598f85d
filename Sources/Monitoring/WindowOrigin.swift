import Records

/// Where the grid of window starts is anchored (`--origin`): window k covers
/// [origin + k·slide, origin + k·slide + period).
///
/// - `epoch`: the Unix epoch, so windows fall on the wall clock's marks (a 10-minute window starts at
///   hh:00, hh:10, ...). Windows of two runs, tools or machines then line up, which dashboards want.
/// - `start`: the event time of the first record read. Where the windows fall then depends only on
///   the records' times relative to each other, not on where the clock stood: a batch that spans
///   less than one period is one window however it straddles a mark (pandas' `origin="start"`).
/// - a fixed instant (RFC 3339): windows on a grid through that instant, for reproducing the windows
///   of an earlier run or aligning to a deployment time.
public enum WindowOrigin: Equatable, Sendable, CustomStringConvertible {
    case epoch
    case start
    case instant(Double)

    /// Parses `epoch`, `start` or an RFC 3339 date-time.
    public init(text: String) throws {
        switch text {
        case "epoch": self = .epoch
        case "start": self = .start
        default:
            do {
                self = .instant(try Timestamp(rfc3339: text).secondsSinceEpoch)
            } catch {
                throw FatalError("origin must be 'epoch', 'start' or an RFC 3339 date-time, got '\(text)'")
            }
        }
    }

    public var description: String {
        switch self {
        case .epoch: "epoch"
        case .start: "start"
        case let .instant(seconds): Timestamp(secondsSinceEpoch: seconds).rfc3339
        }
    }
}

extension WindowOrigin: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(text: text)
        } catch let error as FatalError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
