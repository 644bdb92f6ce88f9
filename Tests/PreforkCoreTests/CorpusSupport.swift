import Foundation
import Testing

@testable import PreforkCore

// MARK: - Corpus format
//
// Corpus/valid/NAME.http and Corpus/invalid/NAME.http hold raw requests. Physical newlines in
// these files are ignored; bytes are written with escapes so CRLFs stay explicit:
// `\r`, `\n`, `\t`, `\\` and `\xHH`. By convention each HTTP line is one physical line.
//
// NAME.expect holds one block of `key: value` lines per request in the file, blocks separated by
// `---`, `#` lines are comments. A request block checks any of: method, methodCode, target, path,
// query (`none` if absent), version, framing (`none`, `length N`, `chunked`), keepAlive,
// expectContinue, host (`none` if absent), fields, length, body. An error block has `status`
// and `kind` (the `HTTPParseError.Kind` case, e.g. `bareLF`) and must be the last block.
// `limits: requestLine=N fieldCount=N fieldSize=N body=N` in the first block sets the limits
// for the whole file (defaults otherwise). Values are unescaped like the .http files.

/// Decodes the corpus escapes; physical newlines are dropped.
func unescapeCorpus(_ text: String) -> [UInt8] {
    let bytes = Array(text.utf8)
    var out: [UInt8] = []
    var i = 0
    func hex(_ b: UInt8) -> UInt8 {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: fatalError("bad hex digit in corpus escape")
        }
    }
    while i < bytes.count {
        let b = bytes[i]
        if b == UInt8(ascii: "\n") {
            i += 1
            continue
        }
        guard b == UInt8(ascii: "\\") else {
            out.append(b)
            i += 1
            continue
        }
        precondition(i + 1 < bytes.count, "dangling backslash in corpus")
        switch bytes[i + 1] {
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "x"):
            out.append(hex(bytes[i + 2]) << 4 | hex(bytes[i + 3]))
            i += 2
        default: fatalError("unknown corpus escape \\\(Character(UnicodeScalar(bytes[i + 1])))")
        }
        i += 2
    }
    return out
}

/// Escapes bytes for messages (inverse of `unescapeCorpus` for one line).
func escapeCorpus(_ bytes: some Sequence<UInt8>) -> String {
    var s = ""
    for b in bytes {
        switch b {
        case 0x0D: s += "\\r"
        case 0x0A: s += "\\n"
        case 0x09: s += "\\t"
        case 0x5C: s += "\\\\"
        case 0x20..<0x7F: s.append(Character(UnicodeScalar(b)))
        default: s += String(format: "\\x%02x", b)
        }
    }
    return s
}

struct CorpusCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var limits: HTTPLimits
    var blocks: [[String: String]]
    var testDescription: String { name }

    static func all() throws -> [CorpusCase] {
        guard let root = Bundle.module.url(forResource: "Corpus", withExtension: nil) else {
            throw CocoaError(.fileNoSuchFile)
        }
        var cases: [CorpusCase] = []
        for kind in ["valid", "invalid"] {
            let dir = root.appendingPathComponent(kind)
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
                .filter { $0.hasSuffix(".http") }.map { String($0.dropLast(5)) }.sorted()
            for name in names {
                let http = try String(contentsOf: dir.appendingPathComponent(name + ".http"), encoding: .utf8)
                let expect = try String(contentsOf: dir.appendingPathComponent(name + ".expect"), encoding: .utf8)
                var blocks: [[String: String]] = [[:]]
                for line in expect.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("#") || line.isEmpty { continue }
                    if line == "---" {
                        blocks.append([:])
                        continue
                    }
                    let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                    precondition(parts.count == 2, "\(kind)/\(name).expect: bad line \(line)")
                    let value = parts[1].hasPrefix(" ") ? parts[1].dropFirst() : parts[1]
                    blocks[blocks.count - 1][String(parts[0])] = String(
                        decoding: unescapeCorpus(String(value)), as: UTF8.self)
                }
                var limits = HTTPLimits()
                if let spec = blocks[0]["limits"] {
                    for item in spec.split(separator: " ") {
                        let kv = item.split(separator: "=")
                        let value = Int(kv[1])!
                        switch kv[0] {
                        case "requestLine": limits.requestLine = value
                        case "fieldCount": limits.fieldCount = value
                        case "fieldSize": limits.fieldSize = value
                        case "body": limits.body = value
                        default: fatalError("unknown limit \(kv[0])")
                        }
                    }
                    blocks[0]["limits"] = nil
                }
                cases.append(
                    CorpusCase(name: "\(kind)/\(name)", bytes: unescapeCorpus(http), limits: limits, blocks: blocks))
            }
        }
        return cases
    }
}

// MARK: - Feeding

/// Deterministic RNG for reproducible random splits.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// How a byte stream arrives: how many more bytes each read brings.
enum Split: CustomStringConvertible, Sendable {
    case whole, byteByByte, lineByLine
    case random(seed: UInt64)

    static let all: [Split] = [.whole, .byteByByte, .lineByLine] + (1...6).map { .random(seed: $0) }

    var description: String {
        switch self {
        case .whole: "whole"
        case .byteByByte: "byte by byte"
        case .lineByLine: "line by line"
        case .random(let seed): "random splits (seed \(seed))"
        }
    }

    /// A reader over `bytes` that hands out growing prefixes starting at some offset.
    struct Reader {
        let split: Split
        var rng: SplitMix64
        init(_ split: Split) {
            self.split = split
            if case .random(let seed) = split { rng = SplitMix64(seed: seed) } else { rng = SplitMix64(seed: 0) }
        }

        /// Size of the next read when `available` bytes from `start` are already in, out of `bytes`.
        mutating func next(_ bytes: [UInt8], from position: Int) -> Int {
            let remaining = bytes.count - position
            switch split {
            case .whole: return remaining
            case .byteByByte: return min(1, remaining)
            case .lineByLine:
                var k = position
                while k < bytes.count && bytes[k] != 0x0A { k += 1 }
                return min(k + 1, bytes.count) - position
            case .random:
                // Mostly small reads, sometimes a large one.
                let size = rng.next() % 8 == 0 ? Int(rng.next() % 64) + 1 : Int(rng.next() % 7) + 1
                return min(size, remaining)
            }
        }
    }
}

func parseHead(_ bytes: [UInt8], _ range: Range<Int>, _ limits: HTTPLimits) -> Result<HTTPRequestHead?, HTTPParseError>
{
    bytes.withUnsafeBytes { raw in
        do throws(HTTPParseError) {
            return .success(
                try HTTPRequestHeadParser.parse(UnsafeRawBufferPointer(rebasing: raw[range]), limits: limits))
        } catch {
            return .failure(error)
        }
    }
}

func decode(
    _ decoder: inout ChunkedDecoder, _ bytes: [UInt8], _ range: Range<Int>, into body: inout [UInt8]
) -> Result<Int, HTTPParseError> {
    bytes.withUnsafeBytes { raw in
        do throws(HTTPParseError) {
            return .success(try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[range]), into: &body))
        } catch {
            return .failure(error)
        }
    }
}

/// What a server would see for one request of a stream.
enum Outcome: Equatable, CustomStringConvertible {
    /// A request at `start` of the stream (head offsets relative to it) with its body.
    case request(start: Int, head: HTTPRequestHead, body: [UInt8])
    case failure(HTTPParseError)
    /// The stream ended inside a request.
    case incomplete
    /// The chunked decoder returned before the end of its input without completing the body.
    case decoderStoppedEarly

    var description: String {
        switch self {
        case .request(let start, let head, let body): "request at \(start): \(head), body \(escapeCorpus(body))"
        case .failure(let error): "error \(error)"
        case .incomplete: "incomplete"
        case .decoderStoppedEarly: "decoder stopped early"
        }
    }
}

/// Parses all requests of `bytes`, delivered as `split` says: each head through growing prefixes
/// (so every call before the last must return nil), each body through the chunked decoder or by
/// Content-Length.
func parseStream(_ bytes: [UInt8], limits: HTTPLimits, split: Split) -> [Outcome] {
    var reader = Split.Reader(split)
    var outcomes: [Outcome] = []
    var start = 0
    while start < bytes.count {
        var available = 0
        var parsed: HTTPRequestHead?
        while parsed == nil {
            let more = reader.next(bytes, from: start + available)
            if more == 0 { return outcomes + [.incomplete] }
            available += more
            switch parseHead(bytes, start..<(start + available), limits) {
            case .success(let head): parsed = head
            case .failure(let error): return outcomes + [.failure(error)]
            }
        }
        let head = parsed!
        var position = start + head.length
        var body: [UInt8] = []
        switch head.framing {
        case .none:
            break
        case .contentLength(let length):
            guard position + length <= bytes.count else { return outcomes + [.incomplete] }
            body = Array(bytes[position..<(position + length)])
            position += length
        case .chunked:
            var decoder = ChunkedDecoder(limit: limits.body)
            while !decoder.isComplete {
                let more = reader.next(bytes, from: position)
                if more == 0 { return outcomes + [.incomplete] }
                switch decode(&decoder, bytes, position..<(position + more), into: &body) {
                case .success(let consumed):
                    if consumed != more && !decoder.isComplete {
                        return outcomes + [.decoderStoppedEarly]
                    }
                    position += consumed
                case .failure(let error):
                    return outcomes + [.failure(error)]
                }
            }
        }
        outcomes.append(.request(start: start, head: head, body: body))
        start = position
    }
    return outcomes
}

/// The observable properties of a parsed request, as the corpus spells them.
func describe(_ bytes: [UInt8], start: Int, head: HTTPRequestHead, body: [UInt8]) -> [String: String] {
    func text(_ range: Range<Int>) -> String {
        String(decoding: bytes[(start + range.lowerBound)..<(start + range.upperBound)], as: UTF8.self)
    }
    let framing: String
    switch head.framing {
    case .none: framing = "none"
    case .contentLength(let n): framing = "length \(n)"
    case .chunked: framing = "chunked"
    }
    return [
        "method": text(head.method),
        "methodCode": "\(head.methodCode)",
        "target": text(head.target),
        "path": text(head.path),
        "query": head.query.map(text) ?? "none",
        "version": "1.\(head.versionMinor)",
        "framing": framing,
        "keepAlive": "\(head.keepAlive)",
        "expectContinue": "\(head.expectContinue)",
        "host": head.host.map(text) ?? "none",
        "fields": "\(head.fieldCount)",
        "length": "\(head.length)",
        "body": String(decoding: body, as: UTF8.self),
    ]
}
