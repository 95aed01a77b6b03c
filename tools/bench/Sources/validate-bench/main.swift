// validate-bench: the cost of dictionary validation per message, next to a frame-and-visit
// baseline measured in the same run.
//
//     swift build -c release --package-path tools/bench --product validate-bench
//     tools/bench/.build/release/validate-bench corpus.fix [--dict Specs/dictionaries/FIX44.xml] [--runs 5]
//
// Three loops over the same corpus, each run `runs` times, median reported:
//   baseline   frame every message (BodyLength, CheckSum) and visit every field;
//   validate   frame every message and validate it against the dictionary;
//   only       validate pre-framed messages (the validation cost alone).
import FIXDictionary
import FIXTagValue
import Foundation

struct Arguments {
    var corpus = ""
    var dictionary: String?
    var runs = 5

    init() {
        var list = Array(CommandLine.arguments.dropFirst())
        while !list.isEmpty {
            let argument = list.removeFirst()
            switch argument {
            case "--dict": dictionary = list.isEmpty ? nil : list.removeFirst()
            case "--runs": runs = list.isEmpty ? 5 : Int(list.removeFirst()) ?? 5
            default: corpus = argument
            }
        }
        if corpus.isEmpty {
            FileHandle.standardError.write(Data("usage: validate-bench CORPUS [--dict FIX44.xml] [--runs 5]\n".utf8))
            exit(2)
        }
    }
}

/// FIX44.xml from --dict, else the shipped Specs/dictionaries beside the current directory or
/// any parent of it.
func dictionaryPath(_ given: String?) -> String? {
    if let given { return given }
    var directory = FileManager.default.currentDirectoryPath
    while true {
        let candidate = directory + "/Specs/dictionaries/FIX44.xml"
        if FileManager.default.fileExists(atPath: candidate) { return candidate }
        let parent = (directory as NSString).deletingLastPathComponent
        if parent == directory { return nil }
        directory = parent
    }
}

func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

let arguments = Arguments()
guard let path = dictionaryPath(arguments.dictionary) else {
    FileHandle.standardError.write(Data("FIX44.xml not found: pass --dict\n".utf8))
    exit(2)
}
let dictionary = try FIXDictionary(contentsOfFile: path)
let validator = FIXValidator(dictionary: dictionary)
let corpus = [UInt8](try Data(contentsOf: URL(fileURLWithPath: arguments.corpus)))
let framer = FIXFramer()

// Message boundaries, for the validation-only loop.
var boundaries: [(start: Int, length: Int)] = []
corpus.withUnsafeBytes { raw in
    var offset = 0
    while offset < raw.count {
        guard case .message(let length) = framer.frame(UnsafeRawBufferPointer(rebasing: raw[offset...])) else { break }
        boundaries.append((offset, length))
        offset += length
    }
}
let count = boundaries.count
guard count > 0 else {
    FileHandle.standardError.write(Data("no messages in \(arguments.corpus)\n".utf8))
    exit(1)
}

var sink = 0
var rejects = 0

@MainActor func baseline() {
    corpus.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
            guard case .message(let length) = framer.frame(rest) else { break }
            for field in FIXMessage(unchecked: UnsafeRawBufferPointer(rebasing: rest[..<length])) {
                sink &+= field.tag &+ field.value.count
            }
            offset += length
        }
    }
}

@MainActor func frameAndValidate() {
    corpus.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
            guard case .message(let length) = framer.frame(rest) else { break }
            if validator.validate(FIXMessage(unchecked: UnsafeRawBufferPointer(rebasing: rest[..<length]))) != nil {
                rejects += 1
            }
            offset += length
        }
    }
}

@MainActor func validateOnly() {
    corpus.withUnsafeBytes { raw in
        for (start, length) in boundaries {
            let message = FIXMessage(unchecked: UnsafeRawBufferPointer(rebasing: raw[start..<start + length]))
            if validator.validate(message) != nil { rejects += 1 }
        }
    }
}

var results: [String: [Double]] = ["baseline": [], "validate": [], "only": []]
for _ in 0..<arguments.runs {
    for (name, body) in [("baseline", baseline), ("validate", frameAndValidate), ("only", validateOnly)] {
        let start = nanoseconds()
        body()
        results[name]!.append(Double(nanoseconds() - start) / Double(count))
    }
}

let base = median(results["baseline"]!)
let full = median(results["validate"]!)
let only = median(results["only"]!)
let megabytes = Double(corpus.count) / 1e6
func line(_ label: String, _ value: Double) -> String {
    let mbps = megabytes / (value * Double(count) / 1e9)
    return "\(label.padding(toLength: 34, withPad: " ", startingAt: 0)) \(String(format: "%8.1f", value)) ns/message  \(String(format: "%7.0f", mbps)) MB/s"
}
print("corpus: \(arguments.corpus): \(count) messages, \(corpus.count) bytes; dictionary \(dictionary.identifier); median of \(arguments.runs)")
print(line("frame + visit fields (baseline)", base))
print(line("frame + validate", full))
print(line("validate only (pre-framed)", only))
print("validation adds \(String(format: "%.1f", full - base)) ns/message over the baseline; rejects: \(rejects / (2 * arguments.runs)) per pass")
// Keeps the baseline loop's work observable, so the optimizer cannot drop it.
if sink == 42 { print("") }
