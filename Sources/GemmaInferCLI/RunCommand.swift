import ArgumentParser
import CommandLineTool
import Gemma
import Inference

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer each input record (the default command).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var generation: GenerationOptions
    @OptionGroup var filter: RecordFilterOptions

    @Option(name: .customLong("question-field"), help: "The field holding the question.")
    var questionField = "question"

    @Option(name: .customLong("score-completion"), help: ArgumentHelp(
        "Instead of generating, score the text of this field as the completion: adds completion_logprob (sum) and completion_logprob_mean.",
        valueName: "field"))
    var scoreCompletion: String?

    @Option(help: "Name recorded in the \"adapter\" field (default: the --adapter's name).")
    var adapterName: String?

    func run() throws {
        let diagnostics = Diagnostics(tool: "gemma-infer")
        let loaded: LoadedModel
        do {
            loaded = try modelOptions.load()
        } catch let e as ValidationError {
            throw e
        } catch {
            diagnostics.error("\(error)")
            throw ExitCode(ExitStatus.fatal)
        }
        var inference = RecordInference(model: loaded, settings: try generation.settings(), adapterName: adapterName ?? modelOptions.adapterName)
        inference.questionField = questionField
        inference.completionField = scoreCompletion
        let runner = RecordFilter(tool: "gemma-infer", options: filter, diagnostics: diagnostics)
        let status = runner.run { record, _, emit in
            try emit(try inference.process(record))
        }
        if status != 0 { throw ExitCode(status) }
    }
}
