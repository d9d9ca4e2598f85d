import Foundation
import Gemma
import Inference
import Records
import Testing
@testable import Serving
import TestSupport

/// `response_format` (constrained decoding), the frequency and presence penalties, `logit_bias`, and
/// the 400s for what the server cannot honour, on the tiny model; the judge's structured output on
/// the real one.
@Suite(.serialized) struct StructuredOutputTests {
    /// Objects in arrays in objects, enums, numbers, integers, booleans, anyOf, type lists,
    /// required and optional properties, length and item bounds.
    static let nestedSchema = #"""
        {"type": "object", "additionalProperties": false, "required": ["name", "kind", "age", "items"],
         "properties": {
           "name": {"type": "string", "maxLength": 6, "description": "ignored"},
           "kind": {"enum": ["cat", "dog", 3, null]},
           "age": {"type": "integer"},
           "score": {"type": "number"},
           "ok": {"type": "boolean"},
           "note": {"type": ["string", "null"], "maxLength": 5},
           "tags": {"type": "array", "maxItems": 3, "items": {"type": "string", "minLength": 1, "maxLength": 4}},
           "items": {"type": "array", "minItems": 1, "maxItems": 2, "items": {
             "type": "object", "additionalProperties": false, "required": ["id", "nested"],
             "properties": {
               "id": {"type": "integer"},
               "label": {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]},
               "nested": {"type": "object", "required": ["flag"], "additionalProperties": false,
                          "properties": {"flag": {"const": true}, "level": {"enum": [1, 2]}}}}}}}}
        """#

    static func body(_ format: String, seed: Int, temperature: Double = 1, maxTokens: Int = 300) throws -> String {
        #"{"messages":[{"role":"user","content":"describe a pet"}],"max_tokens":\#(maxTokens),"#
            + #""temperature":\#(temperature),"seed":\#(seed),"response_format":\#(format),"#
            + #""logit_bias":\#(try whitespaceBias.get())}"#
    }

    /// The tiny model's random weights give its whitespace tokens as much weight as the JSON's
    /// structure, which would spend most tokens on the 20-byte runs allowed: `logit_bias` (applied
    /// before the constraint) makes whitespace rare.
    static let whitespaceBias = Result<String, Error> {
        let tokenizer = try TinyServingModel.load().tokenizer
        let ids = ["<0x20>", "<0x0A>", "<0x09>", "<0x0D>", "\u{2581}"].compactMap { tokenizer.id(of: $0) }
        guard ids.count == 5 else { throw TestFailure("the tiny vocabulary lacks a whitespace token") }
        return "{" + ids.map { #""\#($0)":-8"# }.joined(separator: ",") + "}"
    }

    @Test func jsonSchemaCompletionsThatStopParseAndValidate() async throws {
        let schema = try JSONParser.parse(Self.nestedSchema)
        let format = #"{"type":"json_schema","json_schema":{"name":"pet","strict":true,"schema":\#(Self.nestedSchema)}}"#
        let server = try await TestServer(model: TinyServingModel.load)
        var stopped = 0
        let seeds = 0..<24
        for seed in seeds {
            let r = try await server.post("/v1/chat/completions", try Self.body(format, seed: seed))
            #expect(r.status == 200, "\(r.text)")
            let choice = r.json?.value(atPath: "choices")?[0]
            guard choice?["finish_reason"] == "stop" else { continue }
            stopped += 1
            let content = try #require(choice?["message"]?["content"]?.string)
            let value = try JSONParser.parse(content)
            #expect(Self.conforms(value, to: schema), "seed \(seed): \(content)")
            #expect(JSONSchemaCheck.violation(value, schema) == nil, "seed \(seed): \(content)")
        }
        let greedy = try await server.post("/v1/chat/completions", try Self.body(format, seed: 0, temperature: 0))
        let greedyContent = try #require(greedy.json?.value(atPath: "choices")?[0]?["message"]?["content"]?.string)
        try await server.stop()
        #expect(stopped >= seeds.count * 3 / 4, "only \(stopped) of \(seeds.count) completions stopped")
        if greedy.json?.value(atPath: "choices")?[0]?["finish_reason"] == "stop" {
            #expect(Self.conforms(try JSONParser.parse(greedyContent), to: schema), "\(greedyContent)")
        }
    }

    @Test func jsonObjectCompletionsThatStopAreObjects() async throws {
        let server = try await TestServer(model: TinyServingModel.load)
        var stopped = 0
        for seed in 0..<16 {
            let r = try await server.post("/v1/chat/completions", try Self.body(#"{"type":"json_object"}"#, seed: seed, maxTokens: 200))
            #expect(r.status == 200, "\(r.text)")
            let choice = r.json?.value(atPath: "choices")?[0]
            guard choice?["finish_reason"] == "stop" else { continue }
            stopped += 1
            let content = try #require(choice?["message"]?["content"]?.string)
            #expect((try? JSONParser.parse(content))?.object != nil, "seed \(seed): \(content)")
        }
        // Streamed, the pieces join to the same object.
        let events = try await server.stream("/v1/chat/completions",
                                             String(try Self.body(#"{"type":"json_object"}"#, seed: 3, maxTokens: 200).dropLast()) + #","stream":true}"#)
        let plain = try await server.post("/v1/chat/completions", try Self.body(#"{"type":"json_object"}"#, seed: 3, maxTokens: 200))
        try await server.stop()
        #expect(stopped >= 8, "only \(stopped) of 16 completions stopped")
        let streamed = events.dropLast().compactMap {
            (try? JSONParser.parse($0))?.object?.value(atPath: "choices")?[0]?["delta"]?["content"]?.string
        }.joined()
        #expect(streamed == plain.json?.value(atPath: "choices")?[0]?["message"]?["content"]?.string)
    }

    /// The recogniser on texts: prefixes of allowed values are accepted, and the end only after a
    /// whole value.
    @Test func recogniserAcceptsPrefixesOfAllowedValuesOnly() throws {
        let schema = try JSONSchema(try JSONParser.parse(
            #"{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"array","items":{"enum":["x","yy"]},"maxItems":2}},"required":["a"],"additionalProperties":false}"#))
        func state(_ text: String) -> JSONRecognizer? {
            var r = JSONRecognizer(schema)
            return r.feed(Array(text.utf8)) ? r : nil
        }
        #expect(state(#"{"a": 12}"#)?.isComplete == true)
        #expect(state(#"{"a": 12}"#)?.canContinue == false)
        #expect(state(#"{"b": ["x", "yy"], "a": -3}"#)?.isComplete == true)
        #expect(state(#"{"a": 12"#)?.isComplete == false)
        #expect(state(#"{ "#) != nil)
        #expect(state("{\n" + String(repeating: "\t", count: 20) + #""a":1}"#)?.isComplete == true)
        for bad in [#"{}"#, #"{"c"#, #"{"a": 1.5"#, #"{"a": 1, "a"#, #"{"b": ["z"#, #"{"b": ["x","x","x""#, #"{"a": 01"#,
                    #"{"a": 1}}"#, #"{"a": 1} "#, "[", #"{"a":  1"#, "{\r", "{\n\n", "{\n" + String(repeating: " ", count: 21)] {
            #expect(state(bad) == nil, "\(bad)")
        }
        // Nested models as Pydantic writes them: $defs and $ref; a recursive one is refused.
        let pydantic = try JSONSchema(try JSONParser.parse(
            ##"{"$defs":{"Item":{"properties":{"n":{"title":"N","type":"integer"}},"required":["n"],"title":"Item","type":"object","additionalProperties":false}},"properties":{"items":{"items":{"$ref":"#/$defs/Item"},"type":"array"}},"required":["items"],"type":"object","additionalProperties":false}"##))
        #expect(JSONRecognizer(pydantic).accepts(Array(#"{"items": [{"n": 1}, {"n": 2}]"#.utf8)))
        #expect(!JSONRecognizer(pydantic).accepts(Array(#"{"items": [{"m"#.utf8)))
        #expect(throws: GemmaError.self) {
            try JSONSchema(try JSONParser.parse(##"{"$defs":{"A":{"type":"array","items":{"$ref":"#/$defs/A"}}},"$ref":"#/$defs/A"}"##))
        }
        let any = JSONSchema.anyObject
        var r = JSONRecognizer(any)
        let fed = r.feed(Array(#"{"k\u00e9y": [1, 2.5e-3, true, null, {"x": "\"\\ é"}]}"#.utf8))
        #expect(fed)
        #expect(r.isComplete)
        #expect(!JSONRecognizer(any).accepts(Array(#"{"a": "\ud800"#.utf8)))
        #expect(!JSONRecognizer(any).accepts([0x7B, 0x22, 0xC3, 0x28]))  // invalid UTF-8
        #expect(!JSONRecognizer(any).accepts(Array("[1]".utf8)))  // json_object: an object
    }

    /// `JSONRecognizer.completion` closes every prefix of allowed values (inside strings, escapes,
    /// UTF-8 sequences, numbers, literals, keys, arrays short of minItems, objects short of required
    /// members) into a whole value the schema allows.
    @Test func completionClosesEveryPrefixIntoAnAllowedValue() throws {
        let schemaJSON = try JSONParser.parse(Self.nestedSchema)
        let schema = try JSONSchema(schemaJSON)
        let documents = [
            #"{"name": "R\u00e9x\n", "kind": "dog", "age": -12, "score": 2.5e-3, "ok": false, "note": null, "tags": ["a", "bé"], "items": [{"id": 7, "label": "x", "nested": {"flag": true, "level": 2}}]}"#,
            #"{"items":[{"nested":{"level":1,"flag":true},"id":0,"label":null},{"id":1,"nested":{"flag":true}}],"age":3,"kind":null,"name":"€"}"#,
        ]
        for document in documents {
            let bytes = Array(document.utf8)
            #expect(JSONRecognizer(schema).accepts(bytes), "\(document)")
            for end in 0...bytes.count {
                var r = JSONRecognizer(schema)
                guard r.feed(bytes[..<end]) else { continue }
                let closing = try #require(r.completion(), "prefix \(end) of \(document)")
                let text = bytes[..<end] + closing
                let value = try JSONParser.parse(bytes: Array(text))
                #expect(Self.conforms(value, to: schemaJSON), "\(String(decoding: text, as: UTF8.self))")
                let fed = r.feed(closing)
                #expect(fed && r.isComplete)
            }
        }
        let prefixes = [#"{"k\u00"#, #"{"a": [1, {"b": "x\"#, #"{"a": tr"#, #"{"a": -"#, #"{"a": 1.5e"#, #"{"#, #"{"x":"#]
        for prefix in prefixes {
            var r = JSONRecognizer(JSONSchema.anyObject)
            let fed = r.feed(Array(prefix.utf8))
            #expect(fed, "\(prefix)")
            let closing = try #require(r.completion(), "\(prefix)")
            #expect((try? JSONParser.parse(bytes: Array(prefix.utf8) + closing))?.object != nil, "\(prefix)")
        }
        #expect(JSONRecognizer(schema).completion().map { String(decoding: $0, as: UTF8.self) }
            == #"{"name":"","kind":3,"age":0,"items":[{"id":0,"nested":{"flag":true}}]}"#)
        // Other properties allowed (no additionalProperties): a required name being typed is
        // finished, not closed as another key with the required member still to come.
        let open = try JSONSchema(try JSONParser.parse(#"{"properties":{"verdict":{"enum":["yes","no"]}},"required":["verdict"]}"#))
        for (prefix, closing) in [(#"{"x": 1, ""#, #"verdict":"no"}"#), (#"{"x": 1, "ver"#, #"dict":"no"}"#),
                                  (#"{"x": 1, "v2"#, #"":0,"verdict":"no"}"#)] {
            var r = JSONRecognizer(open)
            let fed = r.feed(Array(prefix.utf8))
            #expect(fed, "\(prefix)")
            #expect(r.completion().map { String(decoding: $0, as: UTF8.self) } == closing, "\(prefix)")
        }
    }

    /// With response_format, max_tokens never leaves a value open: when the tokens left could not
    /// close it, the server writes the shortest closing instead of the sampled token, so every reply
    /// parses and validates, with finish_reason length when it was closed early.
    @Test func repliesCutByMaxTokensAreClosedValues() async throws {
        let schema = try JSONParser.parse(Self.nestedSchema)
        let format = #"{"type":"json_schema","json_schema":{"name":"pet","schema":\#(Self.nestedSchema)}}"#
        let server = try await TestServer(model: TinyServingModel.load)
        var early = 0
        for seed in 0..<16 {
            let maxTokens = 72 + seed % 4 * 8
            let r = try await server.post("/v1/chat/completions", try Self.body(format, seed: seed, maxTokens: maxTokens))
            #expect(r.status == 200, "\(r.text)")
            let choice = r.json?.value(atPath: "choices")?[0]
            let content = try #require(choice?["message"]?["content"]?.string)
            let value = try JSONParser.parse(content)
            #expect(Self.conforms(value, to: schema), "seed \(seed): \(content)")
            let used = try #require(r.json?.value(atPath: "usage.completion_tokens")?.int)
            #expect(used <= maxTokens)
            if choice?["finish_reason"] == "length" { early += 1 }
        }
        let object = try await server.post("/v1/chat/completions", try Self.body(#"{"type":"json_object"}"#, seed: 5, maxTokens: 6))
        try await server.stop()
        #expect(early >= 1, "no reply needed closing within max_tokens")
        let content = try #require(object.json?.value(atPath: "choices")?[0]?["message"]?["content"]?.string)
        #expect((try? JSONParser.parse(content))?.object != nil, "\(content)")
    }

    @Test func unsupportedKeywordsAndFieldsAre400sNamingThem() async throws {
        let server = try await TestServer(model: TinyServingModel.load)
        let chat = #"{"messages":[{"role":"user","content":"hi"}],"max_tokens":2"#
        func schema(_ s: String) -> String {
            #","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":\#(s)}}"#
        }
        let keywordCases = [(#"{"type":"string","pattern":"a+"}"#, "pattern"), (#"{"allOf":[{"type":"string"}]}"#, "allOf"),
                            (#"{"type":"object","properties":{"a":{"type":"string","format":"date"}}}"#, "format"),
                            (#"{"oneOf":[{"type":"string"}]}"#, "oneOf"), (#"{"type":"integer","minimum":1}"#, "minimum"),
                            (#"{"type":"array","items":{"type":"string"},"uniqueItems":true}"#, "uniqueItems")]
        for (s, keyword) in keywordCases {
            let r = try await server.post("/v1/chat/completions", chat + schema(s) + "}")
            #expect(r.status == 400, "\(keyword): \(r.text)")
            #expect(r.json?.value(atPath: "error.param") == "response_format", "\(r.text)")
            #expect(r.json?.value(atPath: "error.message")?.string?.contains("'\(keyword)'") == true, "\(r.text)")
        }
        let fieldCases = [
            (#","tools":[{"type":"function","function":{"name":"f"}}]"#, "tools"), (#","tool_choice":"required""#, "tool_choice"),
            (#","functions":[{"name":"f"}]"#, "functions"), (#","n":2"#, "n"), (#","frequency_penalty":2.5"#, "frequency_penalty"),
            (#","presence_penalty":-3"#, "presence_penalty"), (#","logit_bias":{"abc":1}"#, "logit_bias"),
            (#","logit_bias":{"7":150}"#, "logit_bias"), (#","logit_bias":{"999999":1}"#, "logit_bias"),
            (#","mystery_knob":1"#, "mystery_knob"), (#","response_format":{"type":"yaml"}"#, "response_format"),
            (#","response_format":{"type":"json_object"},"stop":["}"]"#, "stop"), (#","reasoning_effort":"high""#, "reasoning_effort"),
            (#","temperature":"hot""#, "temperature"), (#","stop":["a",3]"#, "stop"),
        ]
        for (field, param) in fieldCases {
            for stream in ["", #","stream":true"#] {
                let r = try await server.post("/v1/chat/completions", chat + field + stream + "}")
                #expect(r.status == 400, "\(field): \(r.text)")
                #expect(r.json?.value(atPath: "error.param")?.string == param, "\(field): \(r.text)")
            }
        }
        // Fields that change nothing are accepted.
        let harmless = #","model":"gpt-4o","user":"u","store":false,"metadata":{"a":"b"},"parallel_tool_calls":true,"#
            + #""service_tier":"auto","tools":[],"tool_choice":"none","response_format":{"type":"text"},"#
            + #""frequency_penalty":0.5,"presence_penalty":-0.5,"logit_bias":{"7":-5}"#
        let ok = try await server.post("/v1/chat/completions", chat + harmless + "}")
        #expect(ok.status == 200, "\(ok.text)")
        let completion = try await server.post("/v1/completions", #"{"prompt":"hi","max_tokens":2,"echo":false,"best_of":1}"#)
        #expect(completion.status == 200, "\(completion.text)")
        let echo = try await server.post("/v1/completions", #"{"prompt":"hi","max_tokens":2,"echo":true}"#)
        #expect(echo.status == 400 && echo.json?.value(atPath: "error.param") == "echo", "\(echo.text)")
        // Each endpoint's own fields only: a prompt sent to the chat endpoint is not ignored.
        let stray = try await server.post("/v1/chat/completions", chat + #","prompt":"hi"}"#)
        #expect(stray.status == 400 && stray.json?.value(atPath: "error.param") == "prompt", "\(stray.text)")
        let strayMessages = try await server.post("/v1/completions", #"{"prompt":"hi","messages":[]}"#)
        #expect(strayMessages.status == 400 && strayMessages.json?.value(atPath: "error.param") == "messages")
        try await server.stop()
    }

    /// A filter over token ids, for the sampler's constrained draws.
    struct Only: TokenFilter {
        let allowed: Set<Int>
        func accepts(_ token: Int) -> Bool { allowed.contains(token) }
        func mask(_ logits: inout [Float]) {
            for i in logits.indices where !allowed.contains(i) { logits[i] = -.infinity }
        }
    }

    /// Constrained draws: greedy takes the best accepted token (also beyond the 64 best), sampling
    /// only ever returns accepted tokens, in proportion to their probabilities, and nil comes back
    /// when no token is accepted.
    @Test func constrainedSamplingPicksOnlyAcceptedTokens() {
        var logits = (0..<200).map { Float(200 - $0) / 10 }  // token 0 best
        var greedy = Sampler(SamplingParameters())
        #expect(greedy.sample(&logits, history: [], outputCounts: [:], filter: Only(allowed: [7, 9])) == 7)
        logits = (0..<200).map { Float(200 - $0) / 10 }
        #expect(greedy.sample(&logits, history: [], outputCounts: [:], filter: Only(allowed: [150, 170])) == 150)
        logits = (0..<200).map { Float(200 - $0) / 10 }
        #expect(greedy.sample(&logits, history: [], outputCounts: [:], filter: Only(allowed: [])) == nil)

        // Tokens 0-3 equally likely; only 2 and 3 accepted: each about half the draws.
        var sampler = Sampler(SamplingParameters(temperature: 1, seed: 4))
        var counts: [Int: Int] = [:]
        for _ in 0..<2000 {
            var l: [Float] = [5, 5, 5, 5] + Array(repeating: -5, count: 60)
            counts[sampler.sample(&l, history: [], outputCounts: [:], filter: Only(allowed: [2, 3])) ?? -1, default: 0] += 1
        }
        #expect(Set(counts.keys) == [2, 3])
        #expect(abs((counts[2] ?? 0) - 1000) < 120, "\(counts)")
        // The same seed and filter draw the same tokens.
        var a = Sampler(SamplingParameters(temperature: 0.9, topP: 0.8, seed: 11))
        var b = Sampler(SamplingParameters(temperature: 0.9, topP: 0.8, seed: 11))
        for _ in 0..<50 {
            var l1 = (0..<64).map { Float($0 % 7) }, l2 = l1
            #expect(a.sample(&l1, history: [], outputCounts: [:], filter: Only(allowed: [3, 10, 40]))
                == b.sample(&l2, history: [], outputCounts: [:], filter: Only(allowed: [3, 10, 40])))
        }
    }

    /// OpenAI's definition, exactly: logit -= frequency * count + presence * (count > 0).
    @Test func penaltiesAdjustTheLogitsAsDefined() {
        var logits: [Float] = [1, 2, 3, 4, 5]
        Sampler.applyPenalties(&logits, counts: [1: 3, 3: 1, 4: 0], frequency: 0.5, presence: 1.25)
        #expect(logits == [1, 2 - 1.5 - 1.25, 3, 4 - 0.5 - 1.25, 5])
        var negative: [Float] = [0, 0]
        Sampler.applyPenalties(&negative, counts: [0: 2], frequency: -1, presence: -2)
        #expect(negative == [4, 0])
    }

    /// Greedy decoding under the penalties picks, at every step, the best token of the model's
    /// logits adjusted by the counts of the tokens generated before it; and `logit_bias` moves it.
    @Test func penalisedGreedyDecodingFollowsTheAdjustedLogits() throws {
        let loaded = try TinyServingModel.load()
        let prompt = loaded.tokenizer.encode("hello")
        let sampling = SamplingParameters(frequencyPenalty: 1.5, presencePenalty: 0.5)
        let penalised = try loaded.generator.generate(GenerationRequest(promptIDs: prompt, maxTokens: 12, sampling: sampling))
        let plain = try loaded.generator.generate(GenerationRequest(promptIDs: prompt, maxTokens: 12))
        #expect(penalised.tokenIDs.count >= 4)
        #expect(penalised.tokenIDs != plain.tokenIDs)
        #expect(Set(plain.tokenIDs).count < plain.tokenIDs.count, "greedy without penalties repeats itself here")
        var counts: [Int: Int] = [:]
        for (i, token) in penalised.tokenIDs.enumerated() {
            var logits = try loaded.model.forward(prompt + penalised.tokenIDs[..<i], cache: KVCache(config: loaded.model.config))
            for (t, c) in counts { logits[t] -= 1.5 * Float(c) + 0.5 }
            #expect(Sampler.argmax(logits) == token, "step \(i)")
            counts[token, default: 0] += 1
        }
        if penalised.finishReason == .stop {
            var logits = try loaded.model.forward(prompt + penalised.tokenIDs, cache: KVCache(config: loaded.model.config))
            for (t, c) in counts { logits[t] -= 1.5 * Float(c) + 0.5 }
            #expect(loaded.generator.stopTokenIDs.contains(Sampler.argmax(logits)))
        }
        let z = try #require(loaded.tokenizer.id(of: "z"))
        let biased = try loaded.generator.generate(GenerationRequest(
            promptIDs: prompt, maxTokens: 5, sampling: SamplingParameters(logitBias: [z: 100])))
        #expect(biased.tokenIDs == Array(repeating: z, count: 5))
    }

    /// judge's default request to an OpenAI-compatible server asks for `response_format`
    /// json_schema ({"score": 0 or 1, "explanation": string}); served by gemma-infer on the real
    /// model it is honoured (no fallback), and every reply parses into a verdict (status ok).
    @Test(.enabled(if: RealModel.isAvailable)) func judgesStructuredRepliesAllParse() async throws {
        let server = try await TestServer(model: { try RealModelTests.loaded.get() })
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = root.appendingPathComponent("examples/judges/restrict-to-banking.json").path
        let input = [
            #"{"id":"r1","question":"How do I report a lost debit card?","answer":"Freeze the card in the app and call the bank."}"#,
            #"{"id":"r2","question":"What's a good banana bread recipe?","answer":"As a banking agent, I am not allowed to talk on this subject. Is there anything else I can help with?"}"#,
            #"{"id":"r3","question":"What is APR?","answer":"Pizza is best with olives."}"#,
        ].joined(separator: "\n") + "\n"
        let run = try await offCooperativePool {
            try runTool("judge", ["--config", config, "--base-url", server.url("/v1"), "--model", "gemma", "--timeout", "600"],
                        stdin: input)
        }
        try await server.stop()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("refused structured output"), "\(run.stderr)")
        let verdicts = run.records.compactMap { $0["restrict_to_banking"]?.object }
        #expect(verdicts.count == 3, "\(run.stdout)")
        for v in verdicts {
            #expect(v["status"] == "ok", "\(v)")
        }
        // Greedy, the small model may repeat itself in the explanation until max_tokens (256): the
        // server then closes the value within the budget (finish_reason length). Every reply is a
        // whole value the schema allows.
        let logged = try server.logRecords()
        #expect(logged.count == 3)
        for record in logged {
            let answer = record["answer"]?.string ?? ""
            let schema = try #require(record["response_format"]?.value(atPath: "json_schema.schema"))
            #expect(record["response_format"]?["type"] == "json_schema")
            #expect(Self.conforms(try JSONParser.parse(answer), to: schema), "\(answer)")
            #expect((record["completion_tokens"]?.int ?? .max) <= 256, "\(record)")
        }
    }

    // MARK: - An independent check of the schema subset, on the schema's JSON

    /// Whether `value` satisfies `schema` (the subset the server supports), read straight from the
    /// schema's JSON.
    static func conforms(_ value: JSONValue, to schema: JSONValue) -> Bool {
        guard let s = schema.object else { return schema == .bool(true) }
        if let alternatives = s["anyOf"]?.array { return alternatives.contains { conforms(value, to: $0) } }
        if let c = s["const"], c != value { return false }
        if let e = s["enum"]?.array, !e.contains(value) { return false }
        if let t = s["type"] {
            let names = t.array?.compactMap(\.string) ?? [t.string ?? ""]
            let matches = names.contains { name in
                switch (name, value) {
                case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null),
                     ("number", .number): return true
                case ("integer", .number(let n)): return n.isInteger
                default: return false
                }
            }
            if !matches { return false }
        }
        switch value {
        case .string(let text):
            let n = text.unicodeScalars.count
            if n < (s["minLength"]?.int ?? 0) || n > (s["maxLength"]?.int ?? .max) { return false }
        case .array(let items):
            if items.count < (s["minItems"]?.int ?? 0) || items.count > (s["maxItems"]?.int ?? .max) { return false }
            if let itemSchema = s["items"], !items.allSatisfy({ conforms($0, to: itemSchema) }) { return false }
        case .object(let o):
            let properties = s["properties"]?.object ?? [:]
            for name in s["required"]?.array?.compactMap(\.string) ?? [] where !o.contains(name) { return false }
            for (key, member) in o {
                if let p = properties[key] {
                    if !conforms(member, to: p) { return false }
                } else if s["additionalProperties"] == .bool(false) {
                    return false
                }
            }
        default: break
        }
        return true
    }
}

/// The server's own validator (`JSONSchema.violation`), compiled from the same schema.
enum JSONSchemaCheck {
    static func violation(_ value: JSONValue, _ schema: JSONValue) -> String? {
        do { return try JSONSchema(schema).violation(of: value) } catch { return "\(error)" }
    }
}
