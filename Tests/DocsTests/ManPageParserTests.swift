import Testing

// The man page reader itself: roff escapes, example blocks, test directives, and pages it must refuse.

@Suite struct ManPageParserTests {
    @Test func unescapesWhatAUserTypes() {
        #expect(ManPage.unescape(#"judge \-\-config x.json \e"#) == #"judge --config x.json \"#)
        #expect(ManPage.unescape(#"echo 'it'\e''s' \(dqq\(dq \fBbold\fR \fIit\fP"#) == #"echo 'it'\''s' "q" bold it"#)
        #expect(ManPage.unescape(#"a\&.b \\ c"#) == #"a.b \ c"#)
    }

    @Test func readsSectionsExamplesAndDirectives() throws {
        let page = try ManPage(text: """
            .SH NAME
            t \\- a tool
            .SH "EXIT STATUS"
            .SH EXAMPLES
            First:
            .PP
            .\\" test: status 1
            .\\" test: stdout none
            .\\" test: writes out.jsonl
            .EX
            t \\-\\-flag \\e
              in.jsonl > out.jsonl
            .EE
            .\\" test: not run: it needs a terminal to draw on
            .EX
            t \\-\\-interactive
            .EE
            """, name: "t.1")
        #expect(page.sections == ["NAME", "EXIT STATUS", "EXAMPLES"])
        #expect(page.examples.count == 2)
        let first = try #require(page.examples.first)
        #expect(first.script == "t --flag \\\n  in.jsonl > out.jsonl")
        #expect(first.status == 1 && first.output == .none && first.writes == ["out.jsonl"])
        #expect(first.location == "t.1:10")
        #expect(page.examples.last?.notRunReason == "it needs a terminal to draw on")
        #expect(page.examples.last?.status == 0 && page.examples.last?.output == .jsonl)
    }

    @Test(arguments: [
        (".SH EXAMPLES\n.EX\nt\n", "t.1:2: .EX without .EE"),
        (".SH OPTIONS\n.EX\nt\n.EE\n", "t.1:2: .EX outside EXAMPLES"),
        (".SH EXAMPLES\n.EX\n.EX\n.EE\n", "t.1:3: .EX inside an example"),
        (".SH EXAMPLES\n.\\\" test: status x\n.EX\nt\n.EE\n", "t.1:3: unknown or incomplete test directive 'status x'"),
        (".SH EXAMPLES\n.\\\" test: stdout xml\n.EX\nt\n.EE\n", "t.1:3: unknown or incomplete test directive 'stdout xml'"),
        (".SH EXAMPLES\n.\\\" test: not run:\n.EX\nt\n.EE\n", "t.1:3: unknown or incomplete test directive 'not run:'"),
        (".SH EXAMPLES\n.\\\" test: runs fast\n.EX\nt\n.EE\n", "t.1:3: unknown or incomplete test directive 'runs fast'"),
    ])
    func refusesMalformedPages(_ text: String, _ message: String) {
        let error = #expect(throws: ManPage.FormatError.self) {
            _ = try ManPage(text: text, name: "t.1")
        }
        #expect(error?.description == message)
    }

    @Test func helpOptionsAndWholeWordMentions() {
        let help = """
            OPTIONS:
              --eval <file>           Evaluation pairs.
              --eval-every <n>        Evaluate every N steps.
              -h, --help              Show help information.
            Examples:
              orpo-train --resume
            """
        #expect(ManPageTests.longOptions(inHelp: help) == ["--eval", "--eval-every", "--help"])
        #expect(!ManPageTests.mentions("use --eval-every 5", "--eval"))
        #expect(ManPageTests.mentions("use --eval-every 5 or --eval f", "--eval"))
        #expect(ManPageTests.mentions("--eval", "--eval"))
    }
}
