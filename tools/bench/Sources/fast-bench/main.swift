// Decode throughput of FASTCodec on one core.
//
//   swift build -c release --package-path tools/bench --product fast-bench
//   tools/bench/.build/release/fast-bench [--messages N] [--runs R] [--shared DIR]
//
// For each workload it generates N messages with deterministic pseudo-random but feed-like
// values (sequence numbers that increment, prices that walk, symbols that repeat), encodes them
// with one FASTEncoder (so copy, delta and increment operators compress as on a real feed),
// then decodes the whole buffer R times with one FASTDecoder into one reused FASTMessage and
// reports the median run: messages/s, MB/s and ns/message.

import FASTCodec
import Foundation

struct Options {
    var messages = 200_000
    var runs = 5
    var shared = ProcessInfo.processInfo.environment["FIXBRIDGE_SHARED"] ?? "../shared"
    /// Run only this workload (`mfast` or `moex`); both when nil.
    var only: String?

    init(_ arguments: [String]) {
        var i = 0
        while i < arguments.count {
            let value = i + 1 < arguments.count ? arguments[i + 1] : ""
            switch arguments[i] {
            case "--messages": messages = Int(value) ?? messages; i += 1
            case "--runs": runs = Int(value) ?? runs; i += 1
            case "--shared": shared = value; i += 1
            case "--only": only = value; i += 1
            case "-h", "--help":
                print("usage: fast-bench [--messages N] [--runs R] [--shared DIR] [--only mfast|moex]")
                exit(0)
            default:
                FileHandle.standardError.write(Data("unknown argument \(arguments[i])\n".utf8))
                exit(2)
            }
            i += 1
        }
    }
}

/// SplitMix64: small, fast, deterministic.
struct Random {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// Generates feed-like values for any template, keeping per-field state between messages.
struct Generator {
    var random = Random(state: 20_240_607)
    var previous: [String: FASTValue] = [:]
    let entriesRange: ClosedRange<Int>
    static let symbols = ["SBER", "GAZP", "LKOH", "GMKN", "YNDX", "VTBR", "ROSN", "MGNT", "USD000UTSTOM", "EUR_RUB__TOM"]

    init(entries: ClosedRange<Int>) { entriesRange = entries }

    mutating func fields(_ descriptions: [FASTFieldDescription], path: String) -> [FASTField] {
        descriptions.map { FASTField($0.name, value($0, path: path + "/" + $0.name)) }
    }

    mutating func value(_ field: FASTFieldDescription, path: String) -> FASTValue {
        switch field.kind {
        case .group:
            if field.optional && random.chance(50) { return .absent }
            return .group(fields(field.children, path: path))
        case .sequence:
            if field.optional && random.chance(10) { return .absent }
            let count = entriesRange.lowerBound + random.below(entriesRange.count)
            return .sequence((0 ..< count).map { _ in fields(field.children, path: path) })
        case .templateRef:
            return .absent
        default:
            break
        }
        switch field.operatorName {
        case "constant":
            return field.optional && random.chance(20) ? .absent : (field.initialValue ?? .absent)
        case "default":
            if random.chance(85), field.initialValue != nil || field.optional { return field.initialValue ?? .absent }
        default:
            if field.optional && random.chance(35) { return .absent }
        }
        let value = fresh(field, path: path)
        previous[path] = value
        return value
    }

    mutating func fresh(_ field: FASTFieldDescription, path: String) -> FASTValue {
        let last = previous[path]
        let name = field.name
        switch field.kind {
        case .uInt32, .uInt64, .int32, .int64:
            let before: UInt64 = switch last {
            case .uint(let v)?: v
            case .int(let v)?: UInt64(clamping: v)
            default: name.contains("Time") ? 100_000_000 : (name.contains("Date") ? 20_240_607 : 1)
            }
            var next: UInt64
            if name.contains("Seq") || name.contains("Num") {
                next = before + 1
            } else if name.contains("Time") {
                next = before + UInt64(random.below(40))
            } else if name.contains("Date") || random.chance(60) {
                next = before
            } else {
                next = UInt64(random.below(10_000))
            }
            if field.kind == .uInt32 || field.kind == .int32 { next %= 1 << 31 }
            return field.kind == .uInt32 || field.kind == .uInt64 ? .uint(next) : .int(Int64(next))
        case .decimal:
            var mantissa: Int64 = 1_525_000
            if case .decimal(_, let m)? = last { mantissa = m + Int64(random.below(41)) - 20 }
            if name.contains("Size") || name.contains("Qty") || name.contains("Volume") {
                return .decimal(exponent: 0, mantissa: Int64(1 + random.below(500)))
            }
            // A decimal whose exponent has a default operator keeps the exponent the template
            // expects (0 in the mFAST template), as a feed would.
            return .decimal(exponent: field.operatorName == "default" ? 0 : -2, mantissa: mantissa)
        case .ascii, .unicode:
            if case .string? = last, random.chance(70) { return last! }
            if name == "MDEntryType" { return .string(["0", "1", "2", "J"][random.below(4)]) }
            if name.hasSuffix("ID") { return .string(String(10_000_000 + random.below(89_999_999))) }
            return .string(Self.symbols[random.below(Self.symbols.count)])
        case .byteVector:
            return .bytes((0 ..< 4).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        case .group, .sequence, .templateRef:
            return .absent
        }
    }
}

struct Workload {
    var name: String
    var templates: FASTTemplates
    var stream: [UInt8] = []
    var offsets: [Int] = []
}

func makeWorkload(name: String, file: String, mix: [(UInt32, Int)], entries: ClosedRange<Int>,
                  count: Int, options: Options) throws -> Workload {
    let url = URL(fileURLWithPath: options.shared).appendingPathComponent("fast/templates").appendingPathComponent(file)
    let templates = try FASTTemplates(xmlBytes: Array(try Data(contentsOf: url)))
    var workload = Workload(name: name, templates: templates)
    var generator = Generator(entries: entries)
    var encoder = FASTEncoder(templates: templates)
    var choices: [UInt32] = []
    for (id, weight) in mix { choices += Array(repeating: id, count: weight) }
    var records: [FASTRecord] = []
    for _ in 0 ..< count {
        let id = choices[generator.random.below(choices.count)]
        guard let fields = templates.fieldDescriptions(templateID: id) else { fatalError("no template \(id) in \(file)") }
        let record = FASTRecord(templateID: id, template: templates.templateName(id: id)!,
                                fields: generator.fields(fields, path: String(id)))
        workload.offsets.append(workload.stream.count)
        try encoder.encode(record, into: &workload.stream)
        if records.count < 2_000 { records.append(record) }
    }
    workload.offsets.append(workload.stream.count)
    // Check the generated stream decodes to what was encoded before timing anything.
    var decoder = FASTDecoder(templates: templates)
    var message = FASTMessage()
    for (i, record) in records.enumerated() {
        let used = try decoder.decode(workload.stream[workload.offsets[i] ..< workload.offsets[i + 1]], into: &message)
        precondition(used == workload.offsets[i + 1] - workload.offsets[i])
        let decoded = message.record(in: templates)
        precondition(decoded.fields.count == record.fields.count, "round trip mismatch in \(name)")
    }
    return workload
}

@inline(never)
func decodeAll(_ workload: Workload, _ decoder: inout FASTDecoder, _ message: inout FASTMessage) throws -> Int {
    var checksum = 0
    try workload.stream.withUnsafeBytes { buffer in
        let offsets = workload.offsets
        for i in 0 ..< offsets.count - 1 {
            let slice = UnsafeRawBufferPointer(rebasing: buffer[offsets[i] ..< offsets[i + 1]])
            checksum &+= try decoder.decode(slice, into: &message)
            checksum &+= message.valueCount
        }
    }
    return checksum
}

/// CPU time of the calling thread: on a machine shared with other work the wall clock also
/// counts time the thread was not running, so the figures use CPU time (wall time is printed too).
func threadCPUNanoseconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) * 1e9 + Double(spec.tv_nsec)
}

func measure(_ workload: Workload, runs: Int) throws {
    let count = workload.offsets.count - 1
    var decoder = FASTDecoder(templates: workload.templates)
    var message = FASTMessage()
    _ = try decodeAll(workload, &decoder, &message)  // warm up caches and the message buffer
    var nanos: [Double] = []
    var wall: [Double] = []
    let clock = ContinuousClock()
    for _ in 0 ..< runs {
        decoder.reset()
        var checksum = 0
        let cpuBefore = threadCPUNanoseconds()
        let elapsed = try clock.measure { checksum = try decodeAll(workload, &decoder, &message) }
        let cpu = threadCPUNanoseconds() - cpuBefore
        precondition(checksum > 0)
        wall.append(Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9)
        nanos.append(cpu)
    }
    nanos.sort()
    let median = nanos[nanos.count / 2]
    let perMessage = median / Double(count)
    let messagesPerSecond = Double(count) / (median / 1e9)
    let megabytesPerSecond = Double(workload.stream.count) / (median / 1e9) / 1e6
    let average = Double(workload.stream.count) / Double(count)
    var values = 0
    for i in 0 ..< min(count, 1000) {
        try decoder.decode(workload.stream[workload.offsets[i] ..< workload.offsets[i + 1]], into: &message)
        values += message.valueCount
    }
    print(workload.name)
    print(String(format: "  %d messages, %.1f bytes/message, %.1f values/message, median of %d runs (thread CPU time)",
                 count, average, Double(values) / Double(min(count, 1000)), runs))
    print(String(format: "  %.2f M msg/s   %.1f MB/s   %.0f ns/message", messagesPerSecond / 1e6, megabytesPerSecond,
                 perMessage))
    wall.sort()
    print("  runs, thread CPU ms: " + nanos.map { String(format: "%.1f", $0 / 1e6) }.joined(separator: " "))
    print("  runs, wall ms:       " + wall.map { String(format: "%.1f", $0 / 1e6) }.joined(separator: " "))
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
do {
    if options.only == nil || options.only == "mfast" {
        let mfast = try makeWorkload(
            name: "mFAST perf template (mfast-perf-example.xml, MarketData, 1-10 MDEntries)",
            file: "mfast-perf-example.xml", mix: [(1, 1)], entries: 1 ... 10, count: options.messages, options: options)
        try measure(mfast, runs: options.runs)
    }
    guard options.only == nil || options.only == "moex" else { exit(0) }
    let moex = try makeWorkload(
        name: "MOEX ASTS (moex-asts-FIX50SP2-2017-Mar.xml, incremental/snapshot/heartbeat mix, 1-4 entries)",
        file: "moex-asts-FIX50SP2-2017-Mar.xml",
        mix: [(2520, 40), (3610, 15), (2521, 15), (2523, 10), (2510, 10), (2108, 10)],
        entries: 1 ... 4, count: options.messages, options: options)
    try measure(moex, runs: options.runs)
} catch {
    FileHandle.standardError.write(Data("fast-bench: \(error)\n".utf8))
    exit(1)
}
