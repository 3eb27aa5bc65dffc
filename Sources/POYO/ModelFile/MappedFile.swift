#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory, so that weights are read in place
/// rather than copied. The mapping lives as long as this object.
///
/// A mapping reads the file's pages as they are *now*: if the file is truncated or rewritten in
/// place while mapped (`cp new.safetensors model.safetensors` does that), reading a page past the
/// new end kills the process with SIGBUS. A long-running reader (the daemon) therefore asks for
/// `isolated`: the file is read once into private anonymous memory, and later changes to the file
/// cannot touch it.
///
/// The corresponding C functions are `open`, `fstat`, `mmap` and `pread`.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    public init(path: String, isolated: Bool = false) throws(ModelFileError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ModelFileError(.unreadable, path: path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ModelFileError(.unreadable, path: path, "cannot stat: \(String(cString: strerror(errno)))")
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            self.bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        if isolated {
            guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else {
                throw ModelFileError(.unreadable, path: path, "cannot allocate \(size) bytes: \(String(cString: strerror(errno)))")
            }
            var offset = 0
            while offset < size {
                let n = pread(fd, base + offset, size - offset, off_t(offset))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    munmap(base, size)
                    throw ModelFileError(.truncated, path: path, "file shrank while being read (\(offset) of \(size) bytes): being rewritten?")
                }
                offset += n
            }
            mprotect(base, size, PROT_READ)
            self.bytes = UnsafeRawBufferPointer(start: base, count: size)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw ModelFileError(.unreadable, path: path, "cannot map: \(String(cString: strerror(errno)))")
        }
        self.bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }
}
