import Records

/// Combines partial window records (`score-window --partial`, from any number of partitions, in any
/// order) into finished window records, as one `ScoreWindow` over all the records would write them
/// (docs/windows.md): the parts of each window and group are merged (`WindowState.merge`), then
/// windows are written in time order, groups in the order they first appear in the input, with the
/// empty windows a single run writes between a group's first window and the last window of all
/// (a silence of more than `ScoreWindow.maxEmptyRun` windows skipped), and drift measured against
/// the reference on the merged values.
///
/// Every partial must come from the same grid (period, slide, origin) and group fields; a partial
/// that does not, or that cannot be read, throws a `RecordError` naming the field.
public final class WindowMerger {
    public let drift: DriftSettings
    /// Makes the drift reference once the group fields are known (from the partials' groups).
    private let makeReference: ([String]) throws -> DriftReference?
    private var grid: (period: Double, slide: Double, origin: Double)?
    private var groupFields: [String]?
    private var states: [Int64: [JSONObject: WindowState]] = [:]
    private var groups: [JSONObject] = []
    private var groupFirstWindow: [JSONObject: Int64] = [:]

    public init(drift: DriftSettings = DriftSettings(), reference: @escaping ([String]) throws -> DriftReference? = { _ in nil }) {
        self.drift = drift
        makeReference = reference
    }

    /// Reads one partial record and merges it into its window and group.
    public func add(_ record: JSONObject) throws {
        guard let version = record["partial_version"] else {
            throw RecordError("not a partial window record: no field 'partial_version' (score-window --merge reads the output of score-window --partial)")
        }
        guard case let .number(n) = version, n.int64 == Int64(WindowState.partialVersion) else {
            throw RecordError("partial record: field 'partial_version' is \(version), but this score-window reads version \(WindowState.partialVersion) only (write the partials with the same version of score-window)")
        }
        let reader = PartialReader()
        let period = try reader.number(record, "period", "")
        let slide = try reader.number(record, "slide", "")
        let origin = try reader.number(record, "origin", "")
        guard period > 0 else { throw reader.error("period", "must be positive, found \(period)") }
        guard slide > 0 && slide <= period else { throw reader.error("slide", "must be positive and at most the period, found \(slide)") }
        guard let windowValue = record["window"], case let .number(w) = windowValue, let index = w.int64 else {
            throw reader.error("window", "must be an integer (the window's index on the grid), found \(record["window"].map { "\($0)" } ?? "nothing")")
        }
        let group = try reader.object(record, "group", "")
        if let grid {
            guard grid.period == period && grid.slide == slide && grid.origin == origin else {
                throw RecordError("partial record: its grid (period \(period)s, slide \(slide)s, origin \(origin)) differs from the first partial's (period \(grid.period)s, slide \(grid.slide)s, origin \(grid.origin)): merge partials written with the same --period, --every and --origin")
            }
        }
        if let groupFields, groupFields != group.keys {
            throw RecordError("partial record: field 'group' has the fields \(group.keys), the first partial's has \(groupFields): merge partials written with the same --by")
        }
        let state = try WindowState(partial: record)
        grid = (period, slide, origin)
        groupFields = group.keys
        if states[index]?[group] == nil {
            states[index, default: [:]][group] = state
        } else {
            states[index]![group]!.merge(state)
        }
        if let first = groupFirstWindow[group] {
            groupFirstWindow[group] = min(first, index)
        } else {
            groups.append(group)
            groupFirstWindow[group] = index
        }
    }

    /// The merged parts as partial records again, one per window and group with data, oldest first
    /// (`--merge --partial`: a level of a merge tree; merging them gives what merging the inputs gives).
    public func mergedPartials() -> [JSONObject] {
        guard let grid else { return [] }
        var out: [JSONObject] = []
        for index in states.keys.sorted() {
            guard let parts = states[index] else { continue }
            for group in groups {
                guard let state = parts[group] else { continue }
                out.append(ScoreWindow.partialRecord(period: grid.period, slide: grid.slide, origin: grid.origin,
                                                     index: index, group: group, state: state))
            }
        }
        return out
    }

    /// The finished window records, oldest first. Throws when the drift reference cannot be made.
    public func finish() throws -> [JSONObject] {
        guard let grid, let groupFields else { return [] }
        let reference = try makeReference(groupFields)
        let indices = states.keys.sorted()
        guard var index = indices.first, let last = indices.last else { return [] }
        var nextData = 0  // position in `indices` of the first window with data at or after `index`
        var out: [JSONObject] = []
        while index <= last {
            while indices[nextData] < index { nextData += 1 }
            if indices[nextData] - index > ScoreWindow.maxEmptyRun {
                index = indices[nextData]
                continue
            }
            let parts = states[index] ?? [:]
            for group in groups where (groupFirstWindow[group] ?? .max) <= index {
                let state = parts[group] ?? WindowState()
                var record = ScoreWindow.windowRecord(
                    start: grid.origin + Double(index) * grid.slide, period: grid.period, group: group, count: state.count, rejected: state.rejected,
                    metrics: state.metricsObject(), latency: state.latencyObject(), tokens: state.tokensObject(),
                    answerChars: state.answerCharsObject())
                if let reference {
                    record["drift"] = .object(ScoreWindow.driftObject(key: group.values, current: state.driftSamples,
                                                                      hasData: state.hasData, reference: reference, settings: drift))
                }
                out.append(record)
            }
            index += 1
        }
        return out
    }
}
