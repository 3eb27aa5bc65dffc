/// A JSON value of a safetensors header, parsed strictly: objects keep every key in order
/// (duplicates included, so that they can be refused), non-negative integers are exact `UInt64`,
/// and nesting is bounded, so a hostile header can neither overflow the stack nor round an offset.
indirect enum HeaderJSON: Equatable {
    case object([(key: String, value: HeaderJSON)])
    case array([HeaderJSON])
    case string(String)
    /// A non-negative integer written without fraction or exponent that fits `UInt64`.
    case integer(UInt64)
    /// Any other number (negative, fractional, with an exponent, or too large), as written.
    case number(String)
    case bool(Bool)
    case null

    static func == (a: HeaderJSON, b: HeaderJSON) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let x), .array(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.integer(let x), .integer(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.bool(let x), .bool(let y)): x == y
        case (.null, .null): true
        default: false
        }
    }

    /// What kind of value this is, for messages.
    var kind: String {
        switch self {
        case .object: "an object"
        case .array: "a list"
        case .string: "a string"
        case .integer: "an integer"
        case .number(let text): "the number \(text)"
        case .bool: "a boolean"
        case .null: "null"
        }
    }

    /// Parses `bytes` (UTF-8 already checked): one value, then only whitespace.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(HeaderJSONError) -> HeaderJSON {
        var parser = HeaderJSONParser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }
}

/// Where and why a header is not JSON.
struct HeaderJSONError: Error {
    let offset: Int
    let problem: String
}

private struct HeaderJSONParser {
    /// Deeper nesting than any valid header has (a header is at most three levels deep).
    static let maxDepth = 64
    let bytes: UnsafeRawBufferPointer
    var index = 0

    func error(_ problem: String) -> HeaderJSONError { HeaderJSONError(offset: index, problem: problem) }

    mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func value(depth: Int) throws(HeaderJSONError) -> HeaderJSON {
        guard depth < Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth) levels") }
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end of the header") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character '\(Character(Unicode.Scalar(bytes[index])))'")
        }
    }

    mutating func literal(_ word: String) throws(HeaderJSONError) {
        let expected = Array(word.utf8)
        guard index + expected.count <= bytes.count,
              expected.indices.allSatisfy({ bytes[index + $0] == expected[$0] })
        else { throw error("expected \(word)") }
        index += expected.count
    }

    mutating func object(depth: Int) throws(HeaderJSONError) -> HeaderJSON {
        index += 1
        var pairs: [(key: String, value: HeaderJSON)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(pairs)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key in quotes") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            index += 1
            pairs.append((key, try value(depth: depth + 1)))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of the header inside an object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            guard bytes[index] == UInt8(ascii: "}") else { throw error("expected ',' or '}' in an object") }
            index += 1
            return .object(pairs)
        }
    }

    mutating func array(depth: Int) throws(HeaderJSONError) -> HeaderJSON {
        index += 1
        var elements: [HeaderJSON] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of the header inside a list") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            guard bytes[index] == UInt8(ascii: "]") else { throw error("expected ',' or ']' in a list") }
            index += 1
            return .array(elements)
        }
    }

    mutating func string() throws(HeaderJSONError) -> String {
        index += 1
        var scalars = String.UnicodeScalarView()
        var runStart = index
        func flush(_ parser: HeaderJSONParser, to end: Int) {
            if end > runStart {
                scalars.append(contentsOf: String(decoding: UnsafeRawBufferPointer(rebasing: parser.bytes[runStart..<end]), as: UTF8.self).unicodeScalars)
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                flush(self, to: index)
                index += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                flush(self, to: index)
                index += 1
                guard index < bytes.count else { throw error("unexpected end of the header in an escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"): scalars.append(try unicodeEscape())
                default: throw error("unknown escape '\\\(Character(Unicode.Scalar(escape)))'")
                }
                runStart = index
            case 0..<0x20:
                throw error("control character in a string")
            default:
                index += 1
            }
        }
        throw error("unterminated string")
    }

    mutating func hex4() throws(HeaderJSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("\\u needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Character(Unicode.Scalar(bytes[index])).hexDigitValue else { throw error("\\u needs four hex digits") }
            value = value * 16 + UInt32(digit)
            index += 1
        }
        return value
    }

    mutating func unicodeEscape() throws(HeaderJSONError) -> Unicode.Scalar {
        let high = try hex4()
        if (0xD800..<0xDC00).contains(high) {
            guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error("lone surrogate in a \\u escape")
            }
            index += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low), let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) else {
                throw error("invalid surrogate pair in a \\u escape")
            }
            return scalar
        }
        guard let scalar = Unicode.Scalar(high) else { throw error("lone surrogate in a \\u escape") }
        return scalar
    }

    mutating func number() throws(HeaderJSONError) -> HeaderJSON {
        let start = index
        var integral = true
        if bytes[index] == UInt8(ascii: "-") { integral = false; index += 1 }
        func digits(_ parser: inout HeaderJSONParser) -> Int {
            let first = parser.index
            while parser.index < parser.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.index]) { parser.index += 1 }
            return parser.index - first
        }
        let intStart = index
        let intDigits = digits(&self)
        guard intDigits > 0 else { throw error("a number needs digits") }
        guard intDigits == 1 || bytes[intStart] != UInt8(ascii: "0") else { throw error("a number must not start with 0") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard digits(&self) > 0 else { throw error("a number needs digits after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw error("a number needs digits in its exponent") }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if integral, let value = UInt64(text) { return .integer(value) }
        return .number(text)
    }
}
