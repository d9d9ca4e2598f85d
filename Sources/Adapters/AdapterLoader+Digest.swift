import Foundation
import Hashing

extension AdapterLoader {
    /// SHA-256 (hex) of an adapter's content: the archive's bytes, or for a directory its
    /// adapter_config.json followed by adapter_model.safetensors. Caches key judgements on it, so a
    /// retrained adapter at the same path is not mistaken for the old one.
    public static func digest(path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        let files = isDirectory.boolValue
            ? ["adapter_config.json", "adapter_model.safetensors"].map { (path as NSString).appendingPathComponent($0) }
            : [path]
        var bytes: [UInt8] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: file])
            }
            bytes += data
        }
        return SHA256.hash(bytes).hex
    }
}
