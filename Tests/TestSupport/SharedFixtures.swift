import Foundation

/// Fixtures several test targets read: the tiny Gemma 1, 2 and 3 checkpoints with transformers'
/// outputs (`tiny-gemma`, `tiny-gemma2`, `tiny-gemma3`, made by scripts/golden-tiny-gemma.py) and the
/// default model's reference outputs (`gemma-3-270m-reference.jsonl`), kept once in `Tests/Fixtures`.
///
/// SwiftPM copies resources per target, so a file two targets need would be copied twice in the
/// tree; these are found from this source file's path instead (tests always build from the tree).
public enum SharedFixtures {
    /// `Tests/Fixtures`.
    public static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// The path of `name` inside `Tests/Fixtures`.
    public static func path(_ name: String) -> String { directory + "/" + name }
}
