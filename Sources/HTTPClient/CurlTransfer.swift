import CCurl
import Foundation

/// One libcurl easy handle and everything that must live as long as it: the error buffer, the header
/// list and the state the callbacks fill in. Freed in `deinit`, so no error path can leak a handle.
///
/// A transfer is used by one thread for one request; concurrency comes from using one per request.
final class CurlTransfer {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let request: HTTPRequest
    let state: TransferState

    /// libcurl's process-wide initialisation, run exactly once (Swift initialises statics atomically).
    private static let globalInit: CURLcode = fl_curl_global_init_all()

    init(request: HTTPRequest, onData: (([UInt8]) -> Bool)?) throws {
        self.request = request
        let globalCode = CurlTransfer.globalInit
        guard globalCode == CURLE_OK else {
            throw HTTPError.transport(
                code: Int(globalCode.rawValue), message: "curl_global_init: " + CurlTransfer.describe(globalCode),
                url: request.url)
        }
        guard let handle = curl_easy_init() else {
            throw HTTPError.transport(
                code: Int(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init returned no handle", url: request.url)
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(fl_curl_error_size))
        errorBuffer.initialize(repeating: 0, count: Int(fl_curl_error_size))
        state = TransferState(onData: onData, maxBodyBytes: request.maxResponseBytes)
        try configure()
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Runs the transfer to its end. Errors are thrown with libcurl's message; a transfer the receiver
    /// stopped on purpose (its `onData` returned false) is not an error.
    func perform() throws {
        let code = withExtendedLifetime(state) { curl_easy_perform(handle) }
        if code == CURLE_OK || (code == CURLE_WRITE_ERROR && state.stoppedByReceiver) {
            return
        }
        if code == CURLE_WRITE_ERROR && state.bodyTooLarge {
            throw HTTPError.transport(
                code: Int(CURLE_FILESIZE_EXCEEDED.rawValue),
                message: "the response body is larger than the limit of \(request.maxResponseBytes) bytes; not read further",
                url: request.url)
        }
        if code == CURLE_OPERATION_TIMEDOUT {
            throw HTTPError.timeout(url: request.url, seconds: request.timeout)
        }
        throw HTTPError.transport(code: Int(code.rawValue), message: message(for: code), url: request.url)
    }

    private func configure() throws {
        let request = self.request
        guard request.timeout > 0, request.connectTimeout > 0 else {
            throw HTTPError.invalidRequest(
                message: "timeouts must be positive (timeout \(request.timeout), connect \(request.connectTimeout))",
                url: request.url)
        }
        for (name, value) in request.headers {
            let bad = name.isEmpty || name.contains(":") || (name + value).contains(where: { $0.isNewline })
            if bad {
                throw HTTPError.invalidRequest(
                    message: "header '\(name)' has an empty name, a colon in the name, or a line break", url: request.url)
            }
        }
        let context = Unmanaged.passUnretained(state).toOpaque()
        try check(fl_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "CURLOPT_ERRORBUFFER")
        try check(fl_curl_setopt_string(handle, CURLOPT_URL, request.url), "CURLOPT_URL")
        try check(fl_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"), "CURLOPT_PROTOCOLS_STR")
        // No signals: libcurl would otherwise use SIGALRM for DNS timeouts, which is unsafe with threads.
        try check(fl_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "CURLOPT_NOSIGNAL")
        try check(fl_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds(request.timeout)), "CURLOPT_TIMEOUT_MS")
        try check(
            fl_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connectTimeout)),
            "CURLOPT_CONNECTTIMEOUT_MS")
        if request.followRedirects {
            try check(fl_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1), "CURLOPT_FOLLOWLOCATION")
            try check(fl_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 10), "CURLOPT_MAXREDIRS")
        }
        try check(fl_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteCallback), "CURLOPT_WRITEFUNCTION")
        try check(fl_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context), "CURLOPT_WRITEDATA")
        try check(fl_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback), "CURLOPT_HEADERFUNCTION")
        try check(fl_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context), "CURLOPT_HEADERDATA")
        try configureMethodAndBody()
        try configureHeaders()
    }

    private func configureMethodAndBody() throws {
        let method = request.method.uppercased()
        if let body = request.body {
            // COPYPOSTFIELDS copies exactly POSTFIELDSIZE bytes, so binary bodies with NULs are safe.
            try check(
                fl_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)),
                "CURLOPT_POSTFIELDSIZE_LARGE")
            var bytes = body.isEmpty ? [0] : body
            try bytes.withUnsafeMutableBytes {
                try check(fl_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress), "CURLOPT_COPYPOSTFIELDS")
            }
            if method != "POST" {
                try check(fl_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method), "CURLOPT_CUSTOMREQUEST")
            }
        } else if method == "HEAD" {
            try check(fl_curl_setopt_long(handle, CURLOPT_NOBODY, 1), "CURLOPT_NOBODY")
        } else if method != "GET" {
            try check(fl_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method), "CURLOPT_CUSTOMREQUEST")
        }
    }

    private func configureHeaders() throws {
        var lines = request.headers.map { "\($0.0): \($0.1)" }
        // libcurl waits up to a second for "100 Continue" before sending a large body; servers of JSON
        // APIs answer without it, so the wait is pure latency. An empty "Expect:" turns it off.
        if request.header("Expect") == nil {
            lines.append("Expect:")
        }
        if request.header("User-Agent") == nil {
            lines.append("User-Agent: feedbackloop")
        }
        for line in lines {
            guard let appended = curl_slist_append(headerList, line) else {
                throw HTTPError.transport(
                    code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_slist_append failed", url: request.url)
            }
            headerList = appended
        }
        try check(fl_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), "CURLOPT_HTTPHEADER")
    }

    private func check(_ code: CURLcode, _ option: String) throws {
        guard code == CURLE_OK else {
            throw HTTPError.transport(
                code: Int(code.rawValue), message: "setting \(option): \(message(for: code))", url: request.url)
        }
    }

    /// libcurl's generic text for the code plus the specific detail in the error buffer, when it adds
    /// something (e.g. "Couldn't connect to server (Failed to connect to 127.0.0.1 port 9 after 0 ms)").
    private func message(for code: CURLcode) -> String {
        let generic = CurlTransfer.describe(code)
        let detail = String(cString: errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
        if detail.isEmpty || detail == generic {
            return generic
        }
        return "\(generic) (\(detail))"
    }

    private static func describe(_ code: CURLcode) -> String {
        guard let text = curl_easy_strerror(code) else { return "curl error \(code.rawValue)" }
        return String(cString: text)
    }

    private func milliseconds(_ seconds: Double) -> Int {
        Int(min(seconds * 1000, Double(Int32.max)).rounded(.up))
    }
}

/// What the callbacks learn during a transfer: status, header fields and body (or, for a stream,
/// whether the receiver asked to stop).
final class TransferState {
    private(set) var status = 0
    private(set) var headers: [(String, String)] = []
    private(set) var body: [UInt8] = []
    private(set) var stoppedByReceiver = false
    /// The body passed `maxBodyBytes` and the transfer was stopped.
    private(set) var bodyTooLarge = false
    private let onData: (([UInt8]) -> Bool)?
    private let maxBodyBytes: Int

    /// A streamed response that is not 2xx is an error report, not data: keep this much of it.
    private static let errorBodyLimit = 64 * 1024

    init(onData: (([UInt8]) -> Bool)?, maxBodyBytes: Int = HTTPRequest.defaultMaxResponseBytes) {
        self.onData = onData
        self.maxBodyBytes = maxBodyBytes
    }

    /// One header line, CRLF included. A status line starts a new header block (after "100 Continue"
    /// or a redirect), so only the final response's fields remain.
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var line = String(decoding: bytes, as: UTF8.self)
        while let last = line.last, last == "\r" || last == "\n" || last == "\r\n" {
            line.removeLast()
        }
        if line.hasPrefix("HTTP/") {
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers.removeAll()
        } else if let first = line.first, first == " " || first == "\t", !headers.isEmpty {
            // Obsolete line folding (RFC 9112 §5.2): a continuation of the previous value.
            headers[headers.count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            headers.append((name, value))
        }
    }

    /// A piece of the body. Returns false to make libcurl abort the transfer.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let onData, (200..<300).contains(status) else {
            if onData == nil {
                guard body.count + bytes.count <= maxBodyBytes else {
                    bodyTooLarge = true
                    return false
                }
                body.append(contentsOf: bytes)
            } else if body.count < TransferState.errorBodyLimit {
                body.append(contentsOf: bytes)
            }
            return true
        }
        if onData(Array(bytes)) {
            return true
        }
        stoppedByReceiver = true
        return false
    }
}

private let curlWriteCallback: curl_write_callback = { buffer, size, count, context in
    let length = size * count
    guard let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    return state.receiveBody(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
}

private let curlHeaderCallback: curl_write_callback = { buffer, size, count, context in
    let length = size * count
    guard let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    state.receiveHeaderLine(UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}
