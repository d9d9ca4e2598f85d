extension DomainPolicy {
    /// The bank's policy, the same as examples/banking/policy.json (PolicyTests compares the two):
    /// what the tools use when no `--policy` file is given, so that they behave as they did before
    /// the policy was a file.
    public static let banking: DomainPolicy = {
        // A constant whose wordings PolicyTests compiles and checks against the file; nothing a user
        // or a file can get wrong reaches this `try!`.
        try! DomainPolicy(
            name: "banking", metric: "restrict_to_banking",
            topics: PolicyTopics(inScope: ["banking"], outOfScope: ["off_topic"]),
            refusal: RefusalWordings(
                text: "As a banking agent, I am not allowed to talk on this subject. Is there anything else I can help with?",
                phrases: [
                    "not allowed to talk on this subject",
                    "I can only help with banking questions",
                    "I can only answer questions about banking",
                ],
                patterns: [#"\bnot (allowed|permitted) to (talk|speak) (on|about) (this|that) (subject|topic)\b"#]),
            gate: GateThresholds(maxFalseRefusalRate: 0.2, maxFalseRefusalIncrease: 0.1),
            teacherInstructions: """
                You are the customer-service agent of a retail bank. Answer questions about banking (accounts, \
                cards, payments, transfers, loans, mortgages, savings, interest, fees, fraud, online and mobile \
                banking, foreign exchange) correctly and concisely, in one to four sentences. Figures that differ \
                between banks are given only as what is typical. Never ask for or reveal PINs, passwords or \
                one-time codes.
                """)
    }()
}
