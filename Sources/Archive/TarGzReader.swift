import CArchive
import Foundation

/// Reads a tar archive (gzip-compressed or not) member by member, as written by `TarGzWriter` or by
/// `tar czf`. Member names are checked as they are read: an absolute name or a `..` component is
/// refused, as are links and special files, so extraction cannot write outside its destination.
public final class TarGzReader {
    /// One member's header.
    public struct Member: Equatable, Sendable {
        public enum Kind: Equatable, Sendable {
            case file
            case directory
        }

        /// The name, normalised to a relative path without "./" or trailing slashes.
        public var name: String
        public var kind: Kind
        /// Size of the data in bytes (0 for directories).
        public var size: Int

        public init(name: String, kind: Kind, size: Int) {
            self.name = name
            self.kind = kind
            self.size = size
        }
    }

    public let path: String
    private let archive: OpaquePointer
    private var current: Member?

    /// Opens the archive at `path` for reading.
    public init(path: String) throws {
        self.path = path
        // libarchive does not check gzip trailers; corrupt compressed data is refused here first.
        try GzipCheck.verify(path)
        guard let archive = archive_read_new() else {
            throw ArchiveError.library(archive: path, operation: "archive_read_new", message: "out of memory")
        }
        self.archive = archive
        archive_read_support_filter_all(archive)
        archive_read_support_format_tar(archive)
        guard archive_read_open_filename(archive, path, 64 * 1024) == ARCHIVE_OK else {
            throw ArchiveError.library(archive: path, operation: "opening the archive", message: errorMessage(archive))
        }
    }

    deinit {
        archive_read_free(archive)
    }

    /// The next member's header, or nil at the end of the archive. Data of the previous member that
    /// was not read is skipped.
    public func next() throws -> Member? {
        while true {
            var entry: OpaquePointer?
            let code = archive_read_next_header(archive, &entry)
            if code == ARCHIVE_EOF {
                current = nil
                return nil
            }
            guard code == ARCHIVE_OK || code == ARCHIVE_WARN, let entry else {
                throw ArchiveError.library(
                    archive: path, operation: "reading a member header", message: errorMessage(archive))
            }
            let rawName = archive_entry_pathname_utf8(entry).map { String(cString: $0) }
                ?? archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            let kind: Member.Kind
            switch UInt32(archive_entry_filetype(entry)) {
            case fl_archive_regular_file: kind = .file
            case fl_archive_directory: kind = .directory
            case fl_archive_symbolic_link:
                throw ArchiveError.unsafeMember(archive: path, member: rawName, reason: "symbolic links are not extracted")
            default:
                throw ArchiveError.unsafeMember(
                    archive: path, member: rawName, reason: "only regular files and directories are supported")
            }
            if archive_entry_hardlink(entry) != nil {
                throw ArchiveError.unsafeMember(archive: path, member: rawName, reason: "hard links are not extracted")
            }
            let name = try MemberName.normalise(rawName, archive: path, allowRoot: kind == .directory)
            if name.isEmpty {
                continue  // "./": the destination directory itself
            }
            let member = Member(name: name, kind: kind, size: Int(max(0, archive_entry_size(entry))))
            current = member
            return member
        }
    }

    /// The whole data of the member `next()` returned last.
    public func readData() throws -> [UInt8] {
        var data: [UInt8] = []
        data.reserveCapacity(current?.size ?? 0)
        try readData { data.append(contentsOf: $0) }
        return data
    }

    /// The data of the current member, handed over in pieces as it is decompressed.
    public func readData(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
            if count == 0 { return }
            guard count > 0 else {
                throw ArchiveError.library(
                    archive: path, operation: "reading the data of '\(current?.name ?? "?")'",
                    message: errorMessage(archive))
            }
            try buffer.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
    }

    // MARK: Whole-archive operations

    /// Every member's header, reading the whole archive (so corruption anywhere is found).
    public static func list(_ archivePath: String) throws -> [Member] {
        let reader = try TarGzReader(path: archivePath)
        var members: [Member] = []
        while let member = try reader.next() {
            // Reading the data, not just skipping it, checks the compressed stream to its end.
            try reader.readData { _ in }
            members.append(member)
        }
        return members
    }

    /// The contents of the named files, read into memory. Throws `memberNotFound` for a name that is
    /// not a file in the archive.
    public static func read(_ archivePath: String, members names: [String]) throws -> [String: [UInt8]] {
        var wanted: [String: String] = [:]  // normalised name → name as asked
        for name in names {
            wanted[try MemberName.normalise(name, archive: archivePath)] = name
        }
        let reader = try TarGzReader(path: archivePath)
        var found: [String: [UInt8]] = [:]
        while found.count < wanted.count, let member = try reader.next() {
            if member.kind == .file, let asked = wanted[member.name] {
                found[asked] = try reader.readData()
            }
        }
        if let missing = names.first(where: { found[$0] == nil }) {
            throw ArchiveError.memberNotFound(archive: archivePath, member: missing)
        }
        return found
    }

    /// Extracts every member under `directory` (created if missing) and returns the member names.
    ///
    /// The archive is checked completely first (names, member kinds, data integrity), so a hostile or
    /// corrupt archive is refused before any file is written.
    @discardableResult
    public static func extract(_ archivePath: String, to directory: String) throws -> [String] {
        let members = try list(archivePath)
        try createDirectory(directory)
        let reader = try TarGzReader(path: archivePath)
        while let member = try reader.next() {
            let target = directory + "/" + member.name
            switch member.kind {
            case .directory:
                try createDirectory(target)
            case .file:
                try createDirectory((target as NSString).deletingLastPathComponent)
                guard FileManager.default.createFile(atPath: target, contents: nil),
                    let handle = FileHandle(forWritingAtPath: target)
                else {
                    throw ArchiveError.fileSystem(path: target, message: "cannot create file")
                }
                defer { try? handle.close() }
                try reader.readData { bytes in
                    do {
                        try handle.write(contentsOf: Data(bytes))
                    } catch {
                        throw ArchiveError.fileSystem(path: target, message: "write failed: \(error.localizedDescription)")
                    }
                }
            }
        }
        return members.map(\.name)
    }

    private static func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ArchiveError.fileSystem(path: path, message: "cannot create directory: \(error.localizedDescription)")
        }
    }
}
