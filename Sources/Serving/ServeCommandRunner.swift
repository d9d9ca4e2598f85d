import Adapters
import Dispatch
import Foundation
import Gemma
import Logging
import NIOCore
import Telemetry
import TensorKit

/// The body of `gemma-infer serve` behind the thin command: load the model, open the log, serve
/// until SIGTERM, and map the outcome to an exit status (0 after a graceful stop, 2 when the
/// server cannot start).
public enum ServeCommandRunner {
    public static func run(_ config: ServeConfiguration, logger: Logger) -> Int32 {
        let server: InferenceServer
        do {
            let pool = try ComputePool(threads: config.threads)
            let host = try ModelHost(settings: config.settings, adapterName: config.adapterName) {
                let loaded = try ModelLoader.load(path: config.modelPath, pool: pool, precision: config.precision)
                if let adapter = config.adapterPath { try AdapterLoader.apply(adapter, to: loaded.model) }
                return loaded
            }
            let telemetry = try Telemetry.fromEnvironment(serviceName: "gemma-infer")
            server = try InferenceServer(configuration: config, host: host, log: try TrafficLog(path: config.logPath),
                                         logger: logger, telemetry: telemetry)
        } catch {
            logger.error("\(error)")
            return 2
        }
        let status = StatusBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await server.run { port in
                    status.listening = true
                    logger.notice("listening on http://\(config.host):\(port) (model \(config.modelPath))")
                }
            } catch let error as IOError where !status.listening {
                // NIO's own text names the system call ("bind(descriptor:ptr:bytes:): ...").
                logger.error("cannot listen on \(config.host):\(config.port): \(String(cString: strerror(error.errnoCode)))")
                status.value = 2
            } catch {
                logger.error("\(error)")
                status.value = 2
            }
            done.signal()
        }
        done.wait()
        return status.value
    }
}

private final class StatusBox: @unchecked Sendable {
    var value: Int32 = 0
    var listening = false
}
