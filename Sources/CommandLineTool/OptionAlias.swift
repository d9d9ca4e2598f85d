import ArgumentParser

/// Old spellings of a flag, kept hidden (README, "Shared flags") so that existing scripts keep
/// working while `--help` shows one spelling per concept.
public enum OptionAlias {
    /// The value given under the current name or under the old one; both at once is a usage error.
    public static func value<Value>(_ current: Value?, _ currentName: String, old: Value?, _ oldName: String) throws -> Value? {
        if current != nil, old != nil {
            throw ValidationError("\(oldName) is the old spelling of \(currentName); give one of them")
        }
        return current ?? old
    }
}
