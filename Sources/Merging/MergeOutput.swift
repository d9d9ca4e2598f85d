import Foundation
import ModelFormats

/// What `lora-merge --output` may replace: nothing but an earlier output of lora-merge, unless
/// `--force`. A merged GGUF carries `MergedGGUFWriter.adapterKey` in its metadata; a merged Hugging
/// Face directory holds `markerFile`. Any other file or non-empty directory at the path is refused
/// before the base is loaded, so a mistyped `--output` never deletes someone's data.
public enum MergeOutput {
    /// The file lora-merge writes into every checkpoint directory it produces.
    public static let markerFile = ".lora-merge"
    static let markerText = "Written by lora-merge: a later lora-merge --output may replace this directory.\n"

    public static func checkReplaceable(_ path: String, gguf: Bool, force: Bool) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard !force, fm.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        func refuse(_ what: String) -> MergeError {
            .io(path: path, message: "exists and is \(what), not an earlier output of lora-merge; refusing to replace it (choose another --output, or add --force)")
        }
        if gguf {
            guard !isDirectory.boolValue else { throw refuse("a directory") }
            let file: GGUFFile
            do { file = try GGUFFile(path: path) } catch { throw refuse("not a GGUF file lora-merge can read") }
            guard file.metadata[MergedGGUFWriter.adapterKey] != nil else {
                throw refuse("a GGUF file without the '\(MergedGGUFWriter.adapterKey)' key")
            }
            return
        }
        guard isDirectory.boolValue else { throw refuse("a file") }
        let entries = (try? fm.contentsOfDirectory(atPath: path)) ?? []
        guard entries.isEmpty || entries.contains(markerFile) else {
            throw refuse("a directory without lora-merge's \(markerFile) marker")
        }
    }
}
