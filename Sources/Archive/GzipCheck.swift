import CArchive
import Foundation

/// Checks a gzip file the way `gzip -t` does: every member inflates without error and its trailer's
/// CRC-32 and length match the data. libarchive's gzip reader consumes the 8-byte trailer without
/// checking it, so a file with bytes flipped inside a deflate block can decompress "successfully"
/// into garbage; zlib's inflate in gzip mode checks both fields and reports the mismatch.
enum GzipCheck {
    static let magic: [UInt8] = [0x1f, 0x8b]

    /// Throws `ArchiveError.library` naming the archive when the gzip data is corrupt or cut short.
    /// A file not starting with the gzip magic bytes (a plain tar) is left to libarchive.
    static func verify(_ path: String) throws {
        // A file that cannot be opened is left to libarchive, which names the reason.
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        func fail(_ message: String) -> ArchiveError {
            .library(archive: path, operation: "checking the gzip data", message: message)
        }
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: 256 * 1024)
        var first = true
        var inMember = true  // inside a gzip member (its trailer not yet checked)
        var trailing: UInt64 = 0  // bytes after the last complete member
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 256 * 1024) ?? Data() } catch {
                throw ArchiveError.fileSystem(path: path, message: "read failed: \(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            var input = [UInt8](chunk)
            if first {
                first = false
                guard input.starts(with: magic) else { return }
            }
            var offset = 0
            while offset < input.count {
                if !inMember {
                    // After a member: another member (gzip allows concatenation) or zero padding,
                    // which gzip -t also accepts; anything else is garbage.
                    if input[offset] == 0 {
                        offset += 1
                        trailing += 1
                        continue
                    }
                    guard trailing == 0, input[offset] == magic[0] else {
                        throw fail("unexpected data after the end of the compressed stream")
                    }
                    guard inflateReset(&stream) == Z_OK else { throw fail("zlib could not restart") }
                    inMember = true
                }
                let consumed: Int = try input.withUnsafeMutableBufferPointer { inBuf in
                    try output.withUnsafeMutableBufferPointer { outBuf in
                        stream.next_in = inBuf.baseAddress! + offset
                        stream.avail_in = UInt32(inBuf.count - offset)
                        repeat {
                            stream.next_out = outBuf.baseAddress
                            stream.avail_out = UInt32(outBuf.count)
                            let code = inflate(&stream, Z_NO_FLUSH)
                            if code == Z_STREAM_END {
                                inMember = false
                                break
                            }
                            if code == Z_BUF_ERROR { break }  // no progress possible: needs more input
                            guard code == Z_OK else {
                                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(code)"
                                throw fail(message)
                            }
                        } while stream.avail_in > 0 || stream.avail_out == 0  // input left, or output pending
                        return inBuf.count - offset - Int(stream.avail_in)
                    }
                }
                guard consumed > 0 || !inMember else { throw fail("zlib made no progress") }
                offset += consumed
            }
        }
        if first { return }  // empty file: libarchive says what is wrong with it
        if inMember { throw fail("the compressed data ends early (truncated archive)") }
    }
}
