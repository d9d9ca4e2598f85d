import Testing
@testable import Policy

@Suite("TextNormalization")
struct TextNormalizationTests {
    /// Expected values printed by Python 3 with `re.sub(r"[\W_]+", " ", s.lower()).strip()`, the rule of
    /// scripts/make-banking-data.
    @Test(arguments: [
        ("  How do I open an ACCOUNT?? ", "how do i open an account"),
        ("snake_case__name", "snake case name"),
        ("Café — crème brûlée!", "café crème brûlée"),
        ("Cafe\u{301} ok", "cafe ok"),
        ("ΟΔΟΣ ΣΑΣ", "οδος σας"),
        ("\u{130}stanbul", "i stanbul"),
        ("½ price, 2² deals", "½ price 2² deals"),
        ("", ""),
        ("...!!!", ""),
        ("tab\tand\nnewline", "tab and newline"),
        ("日本の銀行", "日本の銀行"),
        ("émoji 🙂 here", "émoji here"),
        ("x1_y2-z3", "x1 y2 z3"),
        ("\u{1C5}emal", "\u{1C6}emal"),
        ("ß straße", "ß straße"),
    ])
    func matchesThePythonRule(input: String, expected: String) {
        #expect(TextNormalization.normalize(input) == expected)
    }

    @Test func isIdempotent() {
        for text in ["What's the FX rate?", "ΟΔΟΣ", "  a  b  "] {
            let once = TextNormalization.normalize(text)
            #expect(TextNormalization.normalize(once) == once)
        }
    }
}
