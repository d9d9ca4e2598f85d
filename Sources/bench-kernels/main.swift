// Benchmark of the quantized matrix-vector kernels on the shapes of Gemma 3 270M (scripts/bench-kernels).
// Prints one JSON record per measurement on stdout; a summary table on stderr.
import CKernels
import Dispatch
import Foundation
import TensorKit

struct Shape {
    let name: String
    let type: GGMLType
    let rows: Int
    let cols: Int
    /// how many such matrices one decoded token multiplies with
    let perToken: Int
}

/// The matrices of gemma-3-270m-q4_k_m.gguf (18 layers), with their types in that file.
let modelShapes: [Shape] = [
    Shape(name: "ffn_gate/up 2048x640", type: .q5_0, rows: 2048, cols: 640, perToken: 36),
    Shape(name: "attn_q 1024x640", type: .q5_0, rows: 1024, cols: 640, perToken: 18),
    Shape(name: "attn_k 256x640", type: .q5_0, rows: 256, cols: 640, perToken: 27),
    Shape(name: "attn_v 256x640", type: .q8_0, rows: 256, cols: 640, perToken: 9),
    Shape(name: "attn_output 640x1024", type: .q4_K, rows: 640, cols: 1024, perToken: 18),
    Shape(name: "ffn_down 640x2048", type: .q4_K, rows: 640, cols: 2048, perToken: 9),
    Shape(name: "ffn_down 640x2048", type: .q6_K, rows: 640, cols: 2048, perToken: 9),
    Shape(name: "output 262144x640", type: .q8_0, rows: 262144, cols: 640, perToken: 1),
]

/// Every type on the two large layer shapes, for the per-type table.
let typeShapes: [Shape] = GGMLType.allCases.filter(\.isSupported).flatMap { type -> [Shape] in
    var shapes: [Shape] = []
    if type.blockSize == 32 || type.blockSize == 1 { shapes.append(Shape(name: "2048x640", type: type, rows: 2048, cols: 640, perToken: 0)) }
    shapes.append(Shape(name: "640x2048", type: type, rows: 640, cols: 2048, perToken: 0))
    return shapes
}

func randomBytes(_ count: Int, type: GGMLType) -> UnsafeMutableRawPointer {
    let p = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
    var s: UInt64 = 0x1234_5678_9abc_def1
    for i in 0..<count {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        p.storeBytes(of: UInt8(truncatingIfNeeded: s), toByteOffset: i, as: UInt8.self)
    }
    // keep every value finite: floats from a small range, and small fp16 scales in quantized blocks
    switch type {
    case .f32:
        for i in 0..<count / 4 { p.storeBytes(of: Float(i % 17) * 0.01, toByteOffset: 4 * i, as: Float.self) }
    case .f16, .bf16:
        for i in 0..<count / 2 { p.storeBytes(of: type == .f16 ? UInt16(0x2000) : 0x3c00, toByteOffset: 2 * i, as: UInt16.self) }
    default:
        let offsets: [Int] = type == .q6_K ? [208] : [0, 2]
        for b in 0..<count / type.typeSize {
            for o in offsets { p.storeBytes(of: UInt16(0x2000), toByteOffset: b * type.typeSize + o, as: UInt16.self) }
        }
    }
    return p
}

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Median time of one call, over repetitions filling about `budget` seconds; with `fastest`, the
/// fastest repetition (the least disturbed one, on a machine shared with other work).
func measure(budget: Double = 0.25, fastest: Bool = false, _ body: () -> Void) -> Double {
    body()
    let once = max(seconds(body), 1e-7)
    let reps = max(3, min(2000, Int(budget / once)))
    var times = (0..<reps).map { _ in seconds(body) }
    times.sort()
    return fastest ? times[0] : times[reps / 2]
}

func emit(_ fields: [String: Any]) {
    if let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), let line = String(data: data, encoding: .utf8) {
        print(line)
    }
}

func log(_ s: String) { FileHandle.standardError.write((s + "\n").data(using: .utf8)!) }

let args = CommandLine.arguments.dropFirst()
let quick = args.contains("--quick")
/// Only the batched-decoding section (vectors per product 1, 2, 4, 8 through the dot kernels).
let batchedOnly = args.contains("--batched")
let threadCounts = [1, 2]
let pools = try threadCounts.map { try ComputePool(threads: $0) }

// MARK: memory read bandwidth (--bandwidth: only this), the ceiling of decoding, which reads every
// weight once per token

/// GB/s of reading a 1 GiB buffer on `pool`'s threads, each summing its share 64 bytes at a time:
/// the best of five passes (its pages are faulted in when it is filled).
func readBandwidth(pool: ComputePool) -> Double {
    let count = (1 << 30) / 4
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { buffer.deallocate() }
    buffer.initialize(repeating: 1, count: count)
    let sinks = UnsafeMutablePointer<Float>.allocate(capacity: 64 * 16)
    defer { sinks.deallocate() }
    sinks.initialize(repeating: 0, count: 64 * 16)
    let blocks = count / 16, chunk = 4096
    var best = Double.infinity
    for _ in 0..<5 {
        let start = DispatchTime.now().uptimeNanoseconds
        pool.parallelFor((blocks + chunk - 1) / chunk, chunk: 1) { range, worker in
            var a = SIMD16<Float>(), b = SIMD16<Float>()
            for c in range {
                var k = c * chunk
                let end = min(blocks, k + chunk)
                while k + 1 < end {
                    a += UnsafeRawPointer(buffer + k * 16).loadUnaligned(as: SIMD16<Float>.self)
                    b += UnsafeRawPointer(buffer + (k + 1) * 16).loadUnaligned(as: SIMD16<Float>.self)
                    k += 2
                }
            }
            sinks[worker * 16] += (a + b).sum()
        }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return Double(count * 4) / best / 1e9
}

if args.contains("--bandwidth") {
    for (threads, pool) in zip(threadCounts, pools) {
        let gbps = readBandwidth(pool: pool)
        emit(["bench": "read-bandwidth", "threads": threads, "GBps": gbps])
        log(String(format: "memory read bandwidth, %d thread(s): %.1f GB/s", threads, gbps))
    }
    exit(0)
}

// MARK: pool overhead: an almost empty parallel loop, ours vs DispatchQueue.concurrentPerform

if !batchedOnly {
    let sink = UnsafeMutablePointer<Int>.allocate(capacity: 64)
    sink.initialize(repeating: 0, count: 64)
    let ours = measure { pools[1].parallelFor(2, chunk: 1) { range, _ in sink[range.lowerBound * 8] &+= 1 } }
    let gcd = measure { DispatchQueue.concurrentPerform(iterations: 2) { i in sink[i * 8] &+= 1 } }
    emit(["bench": "pool-overhead", "threads": 2, "computePoolMicroseconds": ours * 1e6, "concurrentPerformMicroseconds": gcd * 1e6])
    log(String(format: "empty parallel loop, 2 threads: ComputePool %.2f µs, concurrentPerform %.2f µs", ours * 1e6, gcd * 1e6))
}

// MARK: matvec per shape and type

func benchMatvec(_ shape: Shape, precision: MatmulPrecision, pool: ComputePool, n: Int = 1, method: MatmulMethod = .automatic, fastest: Bool = false) -> Double {
    guard let bytes = shape.type.byteCount(elements: shape.cols).map({ $0 * shape.rows }),
          let plain = try? QuantizedMatrix(type: shape.type, rows: shape.rows, cols: shape.cols, data: randomBytes(bytes, type: shape.type))
    else { return .nan }
    defer { UnsafeMutableRawPointer(mutating: plain.data).deallocate() }
    let m = method == .packedInt8 ? plain.packed(pool: pool) : plain
    if method == .packedInt8 && m.packed == nil { return .nan }
    let x = UnsafeMutablePointer<Float>.allocate(capacity: n * shape.cols)
    let y = UnsafeMutablePointer<Float>.allocate(capacity: n * shape.rows)
    defer { x.deallocate(); y.deallocate() }
    for i in 0..<n * shape.cols { x[i] = Float(i % 13) * 0.1 - 0.6 }
    return measure(budget: quick ? 0.05 : 0.25, fastest: fastest) { m.multiply(x, count: n, into: y, precision: precision, pool: pool, method: method) }
}

if !batchedOnly {
    log("\nmatvec (n = 1): GB/s of weights read, rows/s")
    for shape in typeShapes {
        for (threads, pool) in zip(threadCounts, pools) {
            for precision in [MatmulPrecision.exact, .fast] {
                let t = benchMatvec(shape, precision: precision, pool: pool)
                let bytes = Double(shape.type.byteCount(elements: shape.cols)! * shape.rows)
                emit(["bench": "matvec", "type": shape.type.description, "shape": shape.name, "threads": threads,
                      "precision": "\(precision)", "microseconds": t * 1e6, "GBps": bytes / t / 1e9, "rowsPerSecond": Double(shape.rows) / t])
                log(String(format: "%-5@ %-9@ %d thr %-5@ %8.1f µs %6.2f GB/s %10.3g rows/s", shape.type.description, shape.name, threads, "\(precision)", t * 1e6, bytes / t / 1e9, Double(shape.rows) / t))
            }
        }
    }

    // MARK: one decoded token's matvecs on the model's shapes

    log("\nper-token matvecs of gemma-3-270m Q4_K_M")
    for (threads, pool) in zip(threadCounts, pools) {
        for precision in [MatmulPrecision.exact, .fast] {
            var total = 0.0, layers = 0.0
            for shape in modelShapes {
                let t = benchMatvec(shape, precision: precision, pool: pool)
                let bytes = Double(shape.type.byteCount(elements: shape.cols)! * shape.rows)
                emit(["bench": "model-matvec", "type": shape.type.description, "shape": shape.name, "threads": threads,
                      "precision": "\(precision)", "microseconds": t * 1e6, "GBps": bytes / t / 1e9, "perToken": shape.perToken])
                log(String(format: "%-5@ %-22@ %d thr %-5@ %9.1f µs x %2d  %6.2f GB/s", shape.type.description, shape.name, threads, "\(precision)", t * 1e6, shape.perToken, bytes / t / 1e9))
                total += t * Double(shape.perToken)
                if shape.rows != 262144 { layers += t * Double(shape.perToken) }
            }
            emit(["bench": "token-matvecs", "threads": threads, "precision": "\(precision)", "milliseconds": total * 1e3, "layersMilliseconds": layers * 1e3])
            log(String(format: "  total %d thr %@: %.2f ms per token (layers %.2f ms, output head %.2f ms)", threads, "\(precision)", total * 1e3, layers * 1e3, (total - layers) * 1e3))
        }
    }

    // MARK: several vectors: dot kernels vs dequantize + sgemm (the cross-over sets sgemmThreshold)
    // and the packed VNNI kernel (the cross-over with the dot kernels sets packedThreshold)

    log("\nprefill: n vectors through multiply, µs per vector: dot kernels (fast) vs dequantize + sgemm vs packed int8 (VNNI; nan without it)")
    for (threads, pool) in zip(threadCounts, pools) {
        for shape in modelShapes where shape.rows != 262144 {
            for n in [2, 4, 8, 12, 16, 64, 256] where !quick || n == 64 {
                // the dot kernels are far behind from 64 vectors on: don't spend the time
                let dot = n > 64 ? .nan : benchMatvec(shape, precision: .fast, pool: pool, n: n, method: .dotKernels)
                let sgemm = benchMatvec(shape, precision: .fast, pool: pool, n: n, method: .dequantizeSgemm)
                let packed = benchMatvec(shape, precision: .fast, pool: pool, n: n, method: .packedInt8)
                emit(["bench": "multiply", "type": shape.type.description, "shape": shape.name, "threads": threads, "n": n,
                      "dotMicrosecondsPerVector": dot * 1e6 / Double(n), "sgemmMicrosecondsPerVector": sgemm * 1e6 / Double(n),
                      "packedMicrosecondsPerVector": packed * 1e6 / Double(n)])
                log(String(format: "%-5@ %-22@ %d thr n=%3d  dot %8.2f  sgemm %8.2f  packed %8.2f µs/vector", shape.type.description, shape.name, threads, n, dot * 1e6 / Double(n), sgemm * 1e6 / Double(n), packed * 1e6 / Double(n)))
            }
        }
    }
}

// MARK: batched decoding: time per vector as a product meets 1, 2, 4, 8 vectors

/// The dot kernels unpack each weight sub-block once for all vectors of a product (bit-identical to one
/// vector at a time), so the time per vector falls as the serving batch grows.
log("\nbatched decoding: n vectors through the dot kernels, µs per vector (fastest repetition)")
let batchedShapes = [
    Shape(name: "640x2048", type: .q4_K, rows: 640, cols: 2048, perToken: 0),
    Shape(name: "640x2048", type: .q6_K, rows: 640, cols: 2048, perToken: 0),
    Shape(name: "2048x640", type: .q5_0, rows: 2048, cols: 640, perToken: 0),
    Shape(name: "2048x640", type: .q8_0, rows: 2048, cols: 640, perToken: 0),
]
for (threads, pool) in zip(threadCounts, pools) {
    for shape in batchedShapes {
        for precision in [MatmulPrecision.fast, .exact] {
            var perVector: [Double] = []
            for n in [1, 2, 4, 8] {
                let t = benchMatvec(shape, precision: precision, pool: pool, n: n, method: .dotKernels, fastest: true) / Double(n)
                perVector.append(t)
                emit(["bench": "batched", "type": shape.type.description, "shape": shape.name, "threads": threads,
                      "precision": "\(precision)", "n": n, "microsecondsPerVector": t * 1e6, "speedup": perVector[0] / t])
            }
            log(String(format: "%-5@ %-9@ %d thr %-5@ µs/vector  n=1 %7.1f  n=2 %7.1f  n=4 %7.1f  n=8 %7.1f  (x%.2f at 8)",
                       shape.type.description, shape.name, threads, "\(precision)",
                       perVector[0] * 1e6, perVector[1] * 1e6, perVector[2] * 1e6, perVector[3] * 1e6, perVector[0] / perVector[3]))
        }
    }
}
