import ArgumentParser
import CommandLineTool

public struct GemmaInfer: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gemma-infer",
        abstract: "Answer JSONL records with a Gemma model on the CPU, logging latency and token counts.",
        discussion: """
        Each input line is a JSON object with a "question" (Gemma's chat format is applied), a raw \
        "prompt" (BOS is added), or OpenAI-style "messages". The record comes out with "answer", \
        "model", "adapter", "prompt_tokens", "completion_tokens", "ttft_ms", "tpot_ms", \
        "latency_ms", "finish_reason", "ts" and "id" added; other fields pass through.
        """,
        version: ToolVersion.current,
        subcommands: [Run.self, Serve.self],
        defaultSubcommand: Run.self)

    public init() {}
}
