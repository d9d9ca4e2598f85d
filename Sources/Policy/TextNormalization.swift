// Follows `normalise` in scripts/make-banking-data (Python: `re.sub(r"[\W_]+", " ", s.lower()).strip()`),
// so that a prompt normalised here equals the one the data script hashed and compared.

/// The one normalisation of text shared by every tool that compares it: deduplication, the
/// leakage check against an evaluation set, reference-answer lookup, and the refusal detector
/// (`RefusalDetector`), which matches a policy's wordings in an answer's normalised text.
///
/// Two prompts that differ only in case, punctuation, spacing or symbols ("How do I open an account?"
/// and "how do i open an account") are the same question to a model being trained, so duplicates and
/// leaks are judged on the normalised text.
public enum TextNormalization {
    /// Lowercases `text`, replaces every maximal run of characters that are not Unicode letters or
    /// digits with one space, and trims spaces at both ends.
    ///
    /// Works on Unicode scalars, as Python's `re` does on code points: a combining accent is not a
    /// letter, so a decomposed "é" splits its word exactly as it does in the data script. "Letter"
    /// is general category L (Lu, Ll, Lt, Lm, Lo) and "digit" any scalar with a numeric type (Python's
    /// `str.isalnum`); the underscore counts as a separator. Lowercasing is the full Unicode mapping
    /// with Python's final-sigma rule ("ΟΔΟΣ" becomes "οδος").
    public static func normalize(_ text: String) -> String {
        var output = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in lowercase(text) {
            if isLetterOrDigit(scalar) {
                if pendingSpace && !output.isEmpty { output.append(" ") }
                pendingSpace = false
                output.append(scalar)
            } else {
                pendingSpace = true
            }
        }
        return String(output)
    }

    static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return scalar.properties.numericType != nil
        }
    }

    /// Full lowercase mapping scalar by scalar, plus the one context-dependent rule Python applies:
    /// capital sigma becomes final sigma (ς) after a cased letter and not before one, case-ignorable
    /// characters skipped on both sides (Unicode's Final_Sigma condition).
    static func lowercase(_ text: String) -> [Unicode.Scalar] {
        let scalars = Array(text.unicodeScalars)
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(scalars.count)
        for (i, scalar) in scalars.enumerated() {
            if scalar == "\u{03A3}" {
                result.append(isFinalSigma(at: i, in: scalars) ? "\u{03C2}" : "\u{03C3}")
            } else {
                result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return result
    }

    private static func isFinalSigma(at index: Int, in scalars: [Unicode.Scalar]) -> Bool {
        func casedNeighbour(_ indices: some Sequence<Int>) -> Bool {
            for j in indices {
                let properties = scalars[j].properties
                if properties.isCaseIgnorable { continue }
                return properties.isCased
            }
            return false
        }
        return casedNeighbour(stride(from: index - 1, through: 0, by: -1))
            && !casedNeighbour(index + 1 ..< scalars.count)
    }
}
