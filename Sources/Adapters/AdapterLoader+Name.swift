import Foundation

extension AdapterLoader {
    /// What records and merged models call an adapter: its directory or archive name without
    /// extension (`runs/banking-lora/` and `banking-lora.tar.gz` are both "banking-lora").
    public static func adapterName(path: String) -> String {
        var name = URL(fileURLWithPath: path).lastPathComponent
        for suffix in [".tar.gz", ".tgz"] where name.lowercased().hasSuffix(suffix) {
            name.removeLast(suffix.count)
            return name
        }
        return URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent
    }
}
