#if canImport(Glibc)
import Glibc
#endif

/// Each thread's buffer for `panelGEMM`'s packed row tiles ([kChunk, 6] floats), made on the
/// thread's first product and freed when the thread exits: products run on the caller and on
/// the pool's workers without passing scratch through every layer, and allocate nothing after
/// the first one.
func threadPackBuffer() -> UnsafeMutablePointer<Float> {
    if let buffer = pthread_getspecific(packBufferKey) {
        return buffer.assumingMemoryBound(to: Float.self)
    }
    var buffer: UnsafeMutableRawPointer?
    guard posix_memalign(&buffer, 64, 6 * kChunk * MemoryLayout<Float>.size) == 0, let buffer else {
        fatalError("cannot allocate \(6 * kChunk * 4) bytes for a GEMM pack buffer")
    }
    pthread_setspecific(packBufferKey, buffer)
    return buffer.assumingMemoryBound(to: Float.self)
}

private let packBufferKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()
