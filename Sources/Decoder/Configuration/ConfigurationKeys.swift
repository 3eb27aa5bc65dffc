import Yams

/// What a configuration file may contain, checked on the YAML tree before decoding: unknown
/// fields are refused (a misspelt `stall_timout` would otherwise be ignored and its default used)
/// with the nearest valid name, and every error carries its line and column.
enum ConfigurationKeys {
    static let top = DecoderConfiguration.CodingKeys.allCases.map(\.rawValue)
    static let endpoint = DecoderConfiguration.Endpoint.CodingKeys.allCases.map(\.rawValue)

    static func check(_ root: Node) throws(ConfigurationError) {
        guard let mapping = root.mapping else {
            throw ConfigurationError("\(at(root))the configuration must be a mapping of field: value (e.g. model: m.safetensors)")
        }
        try checkKeys(of: mapping, allowed: top, path: "")
        for name in ["spikes", "outputs"] {
            guard let value = mapping[name] else { continue }
            guard let endpoint = value.mapping else {
                throw ConfigurationError("\(at(value))field '\(name)': expected a mapping like {address: \"tcp://127.0.0.1:5555\", bind: true}")
            }
            try checkKeys(of: endpoint, allowed: Self.endpoint, path: "\(name).")
        }
    }

    private static func checkKeys(of mapping: Node.Mapping, allowed: [String], path: String) throws(ConfigurationError) {
        for key in mapping.keys {
            let name = key.string ?? "\(key)"
            guard !allowed.contains(name) else { continue }
            let suggestion = nearest(to: name, in: allowed).map { ": did you mean '\(path)\($0)'?" } ?? ""
            throw ConfigurationError("\(at(key))unknown field '\(path)\(name)'\(suggestion) (fields: \(allowed.joined(separator: ", ")))")
        }
    }

    /// `units` with every key as a plain scalar: the decoder looks keys up as plain scalars, and a
    /// quoted key (`"17": word`, as JSON writes it) would not be found.
    static func normalizingUnitKeys(_ root: Node) -> Node {
        guard var mapping = root.mapping, let units = mapping["units"]?.mapping else { return root }
        let pairs = units.map { (key, value) in (Node(key.string ?? "\(key)", Tag(.implicit)), value) }
        mapping["units"] = .mapping(Node.Mapping(pairs, Tag(.implicit), units.style, units.mark))
        return .mapping(mapping)
    }

    /// The valid name closest to `name` by edit distance, if it is close enough to be a typo.
    static func nearest(to name: String, in names: [String]) -> String? {
        let scored = names.map { ($0, editDistance(name, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, best.count / 3) else { return nil }
        return best
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }

    /// "line L, column C: " of a node, or "" when unknown.
    static func at(_ node: Node?) -> String {
        guard let mark = node?.mark else { return "" }
        return "line \(mark.line), column \(mark.column): "
    }

    /// A YAML syntax error as "line L, column C: problem", with the offending line.
    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, let yaml), .parser(let context, let problem, let mark, let yaml),
             .composer(let context, let problem, let mark, let yaml):
            return "line \(mark.line), column \(mark.column): \(context.map { "\($0.text) " } ?? "")\(problem)\n\(mark.snippet(from: yaml))"
        default:
            return error.description
        }
    }

    /// A decoding error as "line L, column C: field 'a.b': what was wrong".
    static func describe(_ error: DecodingError, in root: Node) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        func node(_ keys: [any CodingKey]) -> Node? {
            var node: Node? = root
            for key in keys {
                if let index = key.intValue, let sequence = node?.sequence, index < sequence.count {
                    node = sequence[index]
                } else {
                    node = node?.mapping?[key.stringValue]
                }
            }
            return node
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(at(node(context.codingPath)))missing field '\(path(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context):
            let found = node(context.codingPath).map { " (found \(Self.kind(of: $0)))" } ?? ""
            return "\(at(node(context.codingPath)))field '\(path(context.codingPath))': expected \(Self.name(of: type))\(found)"
        case .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(at(node(context.codingPath)))field '\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func kind(of node: Node) -> String {
        switch node {
        case .scalar(let scalar): "'\(scalar.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is Double.Type: "a number"
        case is Int.Type, is UInt32.Type: "an integer"
        case is Bool.Type: "true or false"
        case is String.Type: "a string"
        default:
            "\(type)".contains("Array") ? "a list" : "\(type)".contains("Dictionary") ? "a mapping"
                : "\(type)".contains("Scalar") ? "a single value" : "\(type)"
        }
    }
}
