import Foundation
import TestSupport
import Gemma
import HTTPClient
import ModelFormats
import Records
import Testing

/// `gemma-infer serve --adapter DIR`, run as a user runs it, answers with the adapter applied:
/// as `gemma-infer run --adapter DIR` does, and unlike the base model.
@Suite struct AdapterServingTests {
    /// A PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) with random A and B
    /// for the tiny serving model's q, v and down projections.
    static func writeAdapter(to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let r = 4
        let shapes: [(module: String, block: String, in: Int, out: Int)] = [
            ("q_proj", "self_attn", 128, 128), ("v_proj", "self_attn", 128, 64), ("down_proj", "mlp", 512, 128),
        ]
        var rng = SeededGenerator(seed: 11)
        var writer = SafetensorsWriter()
        writer.setMetadata("format", "pt")
        for layer in 0..<4 {
            for s in shapes {
                let base = "base_model.model.model.layers.\(layer).\(s.block).\(s.module)"
                for (factor, shape) in [("A", [r, s.in]), ("B", [s.out, r])] {
                    let values = (0..<(shape[0] * shape[1])).map { _ in (rng.nextUnitFloat() - 0.5) * 0.6 }
                    try writer.addTensor(name: "\(base).lora_\(factor).weight", shape: shape, floats: values)
                }
            }
        }
        try writer.write(to: dir + "/adapter_model.safetensors")
        let config = #"{"peft_type":"LORA","task_type":"CAUSAL_LM","r":4,"lora_alpha":8,"target_modules":["q_proj","v_proj","down_proj"]}"#
        try config.write(toFile: dir + "/adapter_config.json", atomically: true, encoding: .utf8)
    }

    /// The built gemma-infer beside the test bundle.
    static func binary() throws -> String {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: url.appendingPathComponent("gemma-infer").path) {
            url = url.deletingLastPathComponent()
        }
        let path = url.appendingPathComponent("gemma-infer").path
        guard FileManager.default.isExecutableFile(atPath: path) else { throw TestFailure("gemma-infer is not built") }
        return path
    }

    /// `gemma-infer run` (the filter) on one record; returns its output record.
    static func filter(_ arguments: [String], record: String) throws -> JSONObject {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary())
        process.arguments = ["run"] + arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data((record + "\n").utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let out = try JSONParser.parse(text).object else {
            throw TestFailure("gemma-infer run exited \(process.terminationStatus): \(text)")
        }
        return out
    }

    @Test func serveWithAnAdapterAnswersAsTheFilterWithIt() async throws {
        let model = try TinyServingModel.path()
        let adapterFolder = NSTemporaryDirectory() + "serving-adapter-\(UUID().uuidString)"
        let adapter = adapterFolder + "/my-adapter"
        try Self.writeAdapter(to: adapter)
        let logPath = NSTemporaryDirectory() + "serving-adapter-log-\(UUID().uuidString).jsonl"
        defer {
            try? FileManager.default.removeItem(atPath: adapterFolder)
            try? FileManager.default.removeItem(atPath: logPath)
        }
        let record = #"{"prompt":"the cat is","max_tokens":8,"temperature":0.8,"seed":3,"top_logprobs":1}"#
        let withAdapter = try Self.filter(["--model", model, "--adapter", adapter, "--threads", "2"], record: record)
        let base = try Self.filter(["--model", model, "--threads", "2"], record: record)

        let server = Process()
        server.executableURL = URL(fileURLWithPath: try Self.binary())
        server.arguments = ["serve", "--model", model, "--adapter", adapter, "--threads", "2", "--port", "0", "--log", logPath]
        let stderr = Pipe()
        server.standardError = stderr
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        defer {
            if server.isRunning { server.terminate() }
            server.waitUntilExit()
        }
        // "gemma-infer: note: listening on http://127.0.0.1:PORT (model ...)"
        var said = ""
        while !said.contains(" (model "), server.isRunning {
            let data = stderr.fileHandleForReading.availableData
            if data.isEmpty { break }
            said += String(decoding: data, as: UTF8.self)
        }
        let portText = said.components(separatedBy: "http://127.0.0.1:").dropFirst().first?.prefix { $0.isNumber }
        let port = try #require(portText.flatMap { Int($0) }, "no port in: \(said)")

        let body = #"{"prompt":"the cat is","max_tokens":8,"temperature":0.8,"seed":3,"logprobs":1}"#
        let request = HTTPRequest.postJSON(url: "http://127.0.0.1:\(port)/v1/completions", body: Array(body.utf8), timeout: 120)
        let response = try await offCooperativePool { try HTTPClient().perform(request) }
        server.terminate()
        server.waitUntilExit()
        #expect(response.status == 200, "\(response.text)")
        let choice = try JSONParser.parse(response.text).object?.value(atPath: "choices")?[0]
        let served = choice?["text"]?.string
        let servedLogprobs = choice?["logprobs"]?["token_logprobs"]?.array?.compactMap(\.double)
        let filterLogprobs = withAdapter["logprobs"]?.array?.compactMap { $0["logprob"]?.double }
        let baseLogprobs = base["logprobs"]?.array?.compactMap { $0["logprob"]?.double }

        #expect(served == withAdapter["answer"]?.string)
        #expect(servedLogprobs == filterLogprobs)
        #expect(served != base["answer"]?.string, "the adapter changes the answer")
        #expect(servedLogprobs?.first != baseLogprobs?.first, "the adapter changes the logits")
        let logged = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONParser.parse(String($0)).object }
        #expect(logged.count == 1)
        #expect(logged.first?["adapter"] == "my-adapter")
        #expect(server.terminationStatus == 0, "SIGTERM is a graceful stop")
    }
}
