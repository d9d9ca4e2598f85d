/// The package's version, which every tool prints for `--version` (one string for all of them).
public enum ToolVersion {
    public static let current = "0.1.0"
}
