/// One HTTP request as the client sends it. A value type, so a request can be built once and sent again
/// on every retry attempt unchanged.
public struct HTTPRequest: Sendable {
    /// The method, upper case ("GET", "POST", "PUT", "DELETE", "HEAD", ...).
    public var method: String
    /// The absolute http:// or https:// URL.
    public var url: String
    /// Header fields in the order they are sent. Names may repeat; lookups ignore case.
    public var headers: [(String, String)]
    /// The request body, sent with a Content-Length. `nil` sends none.
    public var body: [UInt8]?
    /// The whole transfer's limit in seconds (connect, send, wait, receive). A slow server ends in
    /// `HTTPError.timeout` rather than a hang, which matters for a judge calling a busy backend.
    public var timeout: Double
    /// The limit in seconds for establishing the connection alone, so a dead host fails fast.
    public var connectTimeout: Double
    /// Whether 3xx redirects are followed (at most 10). Off by default: an API endpoint that redirects a
    /// POST is almost always misconfigured, and following it would hide that.
    public var followRedirects: Bool
    /// The largest response body kept in memory (16 MiB by default); a longer one ends the transfer
    /// with an error (curl code 63) instead of being read whole. Streamed bodies are handed on, not kept.
    public var maxResponseBytes = HTTPRequest.defaultMaxResponseBytes

    public static let defaultMaxResponseBytes = 16 << 20

    public init(
        method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: Double = 60, connectTimeout: Double = 10, followRedirects: Bool = false
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.followRedirects = followRedirects
    }

    /// A POST of a JSON document with the matching Content-Type.
    public static func postJSON(
        url: String, body: [UInt8], headers: [(String, String)] = [], timeout: Double = 60
    ) -> HTTPRequest {
        HTTPRequest(
            method: "POST", url: url, headers: [("Content-Type", "application/json")] + headers, body: body,
            timeout: timeout)
    }

    /// The value of the first header named `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        firstHeader(named: name, in: headers)
    }
}

/// Case-insensitive header lookup shared by requests and responses (RFC 9110 §5.1: field names are
/// case-insensitive).
func firstHeader(named name: String, in headers: [(String, String)]) -> String? {
    let wanted = name.lowercased()
    return headers.first { $0.0.lowercased() == wanted }?.1
}
