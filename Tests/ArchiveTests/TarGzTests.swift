import Archive
import Foundation
import Testing

/// A fresh temporary directory, removed when the test's scope ends.
final class TemporaryDirectory {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "archive-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
    }

    func read(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + relative)))
    }
}

/// Builds an uncompressed ustar archive by hand (POSIX.1-1988 header layout), so tests can contain
/// members that `TarGzWriter` refuses to write: `../` names, absolute names, symbolic links.
func handMadeTar(_ members: [(name: String, type: Character, body: [UInt8], link: String)]) -> [UInt8] {
    var out: [UInt8] = []
    func field(_ text: String, _ width: Int) -> [UInt8] {
        Array(Array(text.utf8).prefix(width)) + [UInt8](repeating: 0, count: max(0, width - text.utf8.count))
    }
    func octal(_ value: Int, _ width: Int) -> [UInt8] {
        let digits = String(value, radix: 8)
        return field(String(repeating: "0", count: width - 1 - digits.count) + digits, width)
    }
    for member in members {
        var header = field(member.name, 100) + octal(0o644, 8) + octal(0, 8) + octal(0, 8)
        header += octal(member.body.count, 12) + octal(0, 12) + [UInt8](repeating: 0x20, count: 8)
        header += Array(String(member.type).utf8) + field(member.link, 100) + field("ustar", 6) + Array("00".utf8)
        header += [UInt8](repeating: 0, count: 512 - header.count)
        let checksum = header.reduce(0) { $0 + Int($1) }
        let sum = String(checksum, radix: 8)
        let sumField = Array((String(repeating: "0", count: 6 - sum.count) + sum).utf8) + [0, 0x20]
        header.replaceSubrange(148..<156, with: sumField)
        out += header + member.body
        out += [UInt8](repeating: 0, count: (512 - member.body.count % 512) % 512)
    }
    return out + [UInt8](repeating: 0, count: 1024)
}

@Suite struct TarGzTests {
    /// An adapter directory like the one ORPO training writes.
    private func makeAdapter(in directory: TemporaryDirectory) throws -> [String: [UInt8]] {
        let files: [String: [UInt8]] = [
            "adapter_config.json": Array(#"{"r": 8, "lora_alpha": 16}"#.utf8),
            "adapter_model.safetensors": (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) },
            "logs/train.jsonl": Array("{\"step\":1}\n".utf8),
            "logs/deep/empty.txt": [],
        ]
        for (name, bytes) in files {
            try directory.write("adapter/" + name, bytes)
        }
        try FileManager.default.createDirectory(atPath: directory.path + "/adapter/unused", withIntermediateDirectories: true)
        return files
    }

    @Test func directoryRoundTrip() throws {
        let work = try TemporaryDirectory()
        let files = try makeAdapter(in: work)
        let archive = work.path + "/adapter.tar.gz"
        try TarGzWriter.write(directory: work.path + "/adapter", to: archive)

        let members = try TarGzReader.list(archive)
        #expect(Set(members.filter { $0.kind == .file }.map(\.name)) == Set(files.keys))
        #expect(members.contains(TarGzReader.Member(name: "unused", kind: .directory, size: 0)))
        #expect(members.first { $0.name == "adapter_model.safetensors" }?.size == 300_000)

        let extracted = try TarGzReader.extract(archive, to: work.path + "/out")
        #expect(extracted == members.map(\.name))
        for (name, bytes) in files {
            #expect(try work.read("out/" + name) == bytes, "\(name)")
        }
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: work.path + "/out/unused", isDirectory: &isDirectory))
        #expect(isDirectory.boolValue)
    }

    @Test func readNamedMembersIntoMemory() throws {
        let work = try TemporaryDirectory()
        let files = try makeAdapter(in: work)
        let archive = work.path + "/adapter.tar.gz"
        try TarGzWriter.write(directory: work.path + "/adapter", to: archive)
        let read = try TarGzReader.read(archive, members: ["adapter_config.json", "./logs/train.jsonl"])
        #expect(read["adapter_config.json"] == files["adapter_config.json"])
        #expect(read["./logs/train.jsonl"] == files["logs/train.jsonl"])
        #expect(throws: ArchiveError.memberNotFound(archive: archive, member: "missing.bin")) {
            try TarGzReader.read(archive, members: ["adapter_config.json", "missing.bin"])
        }
    }

    @Test func fileListAndInMemoryMembers() throws {
        let work = try TemporaryDirectory()
        try work.write("weights.bin", [1, 2, 3])
        let archive = work.path + "/a.tar.gz"
        try TarGzWriter.write(files: [(name: "model/weights.bin", sourcePath: work.path + "/weights.bin")], to: archive)
        let writer = try TarGzWriter(path: work.path + "/b.tar.gz")
        try writer.addFile(named: "notes.txt", contents: Array("hi".utf8))
        try writer.close()
        #expect(try TarGzReader.read(archive, members: ["model/weights.bin"])["model/weights.bin"] == [1, 2, 3])
        #expect(try TarGzReader.read(work.path + "/b.tar.gz", members: ["notes.txt"])["notes.txt"] == Array("hi".utf8))
    }

    /// The same files give the same bytes, so an archive's hash identifies its content.
    @Test func archivesAreReproducible() throws {
        let work = try TemporaryDirectory()
        _ = try makeAdapter(in: work)
        try TarGzWriter.write(directory: work.path + "/adapter", to: work.path + "/one.tar.gz")
        try TarGzWriter.write(directory: work.path + "/adapter", to: work.path + "/two.tar.gz")
        #expect(try work.read("one.tar.gz") == work.read("two.tar.gz"))
    }

    @Test func corruptArchiveNamesTheFile() throws {
        let work = try TemporaryDirectory()
        try work.write("garbage.tar.gz", Array("this is not an archive at all, just text".utf8) + [UInt8](repeating: 7, count: 600))
        let path = work.path + "/garbage.tar.gz"
        #expect {
            try TarGzReader.list(path)
        } throws: { error in
            guard let error = error as? ArchiveError, case let .library(archive, _, message) = error else { return false }
            return archive == path && !message.isEmpty && error.description.hasPrefix(path)
        }
    }

    /// Issue 20, item 1: libarchive does not check the gzip trailer, so flipped bytes inside a
    /// stored (incompressible) deflate block, or a wrong CRC-32 or length in the trailer, used to
    /// read back as garbage without an error. Every reading entry point now refuses them.
    @Test(arguments: ["flipped", "crc", "length"])
    func gzipCRCAndLengthAreChecked(_ damage: String) throws {
        let work = try TemporaryDirectory()
        var random = SystemRandomNumberGenerator()
        try work.write("adapter/adapter_config.json", Array(#"{"r": 8}"#.utf8))
        try work.write("adapter/adapter_model.safetensors", (0..<400_000).map { _ in UInt8.random(in: 0...255, using: &random) })
        let archive = work.path + "/adapter.tar.gz"
        try TarGzWriter.write(directory: work.path + "/adapter", to: archive)
        var bytes = try work.read("adapter.tar.gz")
        switch damage {
        case "flipped":
            let middle = bytes.count / 2
            for i in middle..<(middle + 64) { bytes[i] ^= 0xff }
        case "crc": bytes[bytes.count - 8] ^= 0x01
        default: bytes[bytes.count - 4] ^= 0x01
        }
        try work.write("bad.tar.gz", bytes)
        let bad = work.path + "/bad.tar.gz"
        func isGzipError(_ error: any Error) -> Bool {
            guard let error = error as? ArchiveError, case let .library(path, operation, message) = error else { return false }
            return path == bad && operation == "checking the gzip data" && !message.isEmpty
        }
        #expect { try TarGzReader.list(bad) } throws: { isGzipError($0) }
        #expect { try TarGzReader.read(bad, members: ["adapter_config.json"]) } throws: { isGzipError($0) }
        #expect { try TarGzReader.extract(bad, to: work.path + "/out") } throws: { isGzipError($0) }
        #expect(!FileManager.default.fileExists(atPath: work.path + "/out"))
        // The undamaged archive still reads.
        #expect(try TarGzReader.list(archive).count == 2)
    }

    @Test func truncatedArchiveIsAnError() throws {
        let work = try TemporaryDirectory()
        _ = try makeAdapter(in: work)
        let archive = work.path + "/adapter.tar.gz"
        try TarGzWriter.write(directory: work.path + "/adapter", to: archive)
        let whole = try work.read("adapter.tar.gz")
        try work.write("cut.tar.gz", Array(whole.prefix(whole.count / 2)))
        #expect(throws: ArchiveError.self) { try TarGzReader.list(work.path + "/cut.tar.gz") }
        #expect(throws: ArchiveError.self) { try TarGzReader.extract(work.path + "/cut.tar.gz", to: work.path + "/out") }
        // Checked before extraction began: nothing was written.
        #expect(!FileManager.default.fileExists(atPath: work.path + "/out"))
    }

    @Test func missingArchiveIsAnError() {
        #expect {
            try TarGzReader.list("/nonexistent/adapter.tar.gz")
        } throws: { error in
            guard let error = error as? ArchiveError, case let .library(archive, operation, _) = error else { return false }
            return archive == "/nonexistent/adapter.tar.gz" && operation == "opening the archive"
        }
    }

    @Test(arguments: ["../escape.txt", "/etc/evil", "a/../../escape.txt", ".", "a/./../..", "//double"])
    func traversalIsRefused(name: String) throws {
        let work = try TemporaryDirectory()
        try work.write("evil.tar", handMadeTar([
            (name: "fine.txt", type: "0", body: Array("ok".utf8), link: ""),
            (name: name, type: "0", body: Array("pwned".utf8), link: ""),
        ]))
        let archive = work.path + "/evil.tar"
        #expect {
            try TarGzReader.extract(archive, to: work.path + "/out/inner")
        } throws: { error in
            guard let error = error as? ArchiveError, case let .unsafeMember(path, member, _) = error else { return false }
            return path == archive && member == name
        }
        #expect(!FileManager.default.fileExists(atPath: work.path + "/out"))
        #expect(!FileManager.default.fileExists(atPath: work.path + "/escape.txt"))
    }

    @Test func linksAreRefused() throws {
        let work = try TemporaryDirectory()
        try work.write("link.tar", handMadeTar([(name: "passwd", type: "2", body: [], link: "/etc/passwd")]))
        #expect {
            try TarGzReader.extract(work.path + "/link.tar", to: work.path + "/out")
        } throws: { error in
            guard let error = error as? ArchiveError, case .unsafeMember(_, "passwd", _) = error else { return false }
            return true
        }
    }

    @Test func handMadeTarIsReadable() throws {
        // Guards the helper above: a well-formed hand-made archive reads back.
        let work = try TemporaryDirectory()
        try work.write("plain.tar", handMadeTar([(name: "./dir/a.txt", type: "0", body: Array("abc".utf8), link: "")]))
        #expect(try TarGzReader.read(work.path + "/plain.tar", members: ["dir/a.txt"])["dir/a.txt"] == Array("abc".utf8))
    }

    @Test func writerRefusesUnsafeNames() throws {
        let work = try TemporaryDirectory()
        let writer = try TarGzWriter(path: work.path + "/w.tar.gz")
        #expect(throws: ArchiveError.self) { try writer.addFile(named: "../x", contents: []) }
        #expect(throws: ArchiveError.self) { try writer.addFile(named: "/x", contents: []) }
        #expect(throws: ArchiveError.self) { try writer.addFile(named: "", contents: []) }
        try writer.close()
        #expect(try TarGzReader.list(work.path + "/w.tar.gz").isEmpty)
    }

    @Test func missingSourceDirectoryIsAnError() throws {
        let work = try TemporaryDirectory()
        #expect {
            try TarGzWriter.write(directory: work.path + "/absent", to: work.path + "/x.tar.gz")
        } throws: { error in
            guard let error = error as? ArchiveError, case let .fileSystem(path, _) = error else { return false }
            return path == work.path + "/absent"
        }
    }

    /// Archives are ordinary .tar.gz files: the system's tar reads ours and we read its.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tar")))
    func interoperatesWithSystemTar() throws {
        let work = try TemporaryDirectory()
        let files = try makeAdapter(in: work)
        try TarGzWriter.write(directory: work.path + "/adapter", to: work.path + "/ours.tar.gz")
        try FileManager.default.createDirectory(atPath: work.path + "/by-tar", withIntermediateDirectories: true)
        try runTar(["-xzf", work.path + "/ours.tar.gz", "-C", work.path + "/by-tar"])
        #expect(try work.read("by-tar/adapter_model.safetensors") == files["adapter_model.safetensors"])

        try runTar(["-czf", work.path + "/theirs.tar.gz", "-C", work.path + "/adapter", "."])
        let read = try TarGzReader.read(work.path + "/theirs.tar.gz", members: ["logs/train.jsonl"])
        #expect(read["logs/train.jsonl"] == files["logs/train.jsonl"])
    }

    private func runTar(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "tar \(arguments.joined(separator: " "))")
    }
}
