#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A model or adapter file's bytes, read once into anonymous memory (docs/gguf.md, "Loading").
///
/// The file is copied, not mapped: a mapping shares the file's pages, so a file overwritten or
/// truncated in place (`cp new.gguf deployed.gguf`) under a running server would change its weights
/// mid-request or end it with SIGBUS on the next page touched. The copy costs one sequential read at
/// load (the weights are paged in on first use anyway) and the file's size in resident memory
/// instead of page cache. The pages are anonymous, private and page-aligned, so quantized blocks
/// are read directly by the kernels as before.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    public let base: UnsafeRawPointer
    private let mapping: UnsafeMutableRawPointer

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ModelFormatError.io(path: path, message: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw ModelFormatError.io(path: path, message: String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw ModelFormatError.io(path: path, message: "is a directory, expected a file")
        }
        let size = Int(st.st_size)
        let memory = try Self.allocate(size, path: path)
        // Read until the size fstat gave or the end of the file, whichever comes first: a file that
        // shrinks while being read is parsed as the shorter (truncated) file it now is.
        var done = 0
        while done < size {
            let n = pread(fd, memory + done, size - done, off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                let message = String(cString: strerror(errno))
                munmap(memory, max(size, 1))
                throw ModelFormatError.io(path: path, message: "read failed: \(message)")
            }
            if n == 0 { break }
            done += n
        }
        count = done
        base = UnsafeRawPointer(memory)
        mapping = memory
        allocated = max(size, 1)
    }

    /// Bytes already in memory (an archive member), standing for the file `path` names.
    public init(path: String, contents: [UInt8]) throws {
        self.path = path
        let memory = try Self.allocate(contents.count, path: path)
        contents.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        count = contents.count
        base = UnsafeRawPointer(memory)
        mapping = memory
        allocated = max(contents.count, 1)
    }

    private let allocated: Int

    /// Anonymous, page-aligned memory of at least one byte (mmap refuses zero; an empty file is a
    /// truncated model, said by the parser).
    private static func allocate(_ size: Int, path: String) throws -> UnsafeMutableRawPointer {
        let p = mmap(nil, max(size, 1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else {
            throw ModelFormatError.io(
                path: path, message: "cannot allocate \(size) bytes to load it: \(String(cString: strerror(errno)))")
        }
        return p
    }

    deinit {
        munmap(mapping, allocated)
    }

    /// The bytes `[offset, offset + length)`, or nil when that range is not inside the file.
    public func bytes(at offset: Int, length: Int) -> UnsafeRawBufferPointer? {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else { return nil }
        return UnsafeRawBufferPointer(start: base + offset, count: length)
    }
}
