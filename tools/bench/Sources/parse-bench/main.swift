// Full-parse benchmark over a FIX corpus file (see README "Performance"):
// frame every message (BodyLength and CheckSum verified), visit every field, and read ClOrdID,
// ExecID, Account, Symbol, Side, LastQty and LastPx as typed values. The baseline in the same run
// is a memchr scan that stops at every SOH and parses nothing.
//
//   parse-bench CORPUS [--runs 5]        timed runs, medians
//   parse-bench CORPUS --once            one parse pass only (for valgrind --tool=callgrind)
#if canImport(Glibc)
import Glibc
#endif
import BenchSupport
import FIXTagValue

/// What the parse pass extracts, summed so that nothing can be optimised away.
struct Totals {
    var messages = 0
    var fields = 0
    var idBytes = 0
    var sides = 0
    var lastQty = FIXDecimal.zero
    var lastPxMantissa: Int64 = 0
    var errors = 0
}

@inline(never)
func parseAll(_ corpus: UnsafeRawBufferPointer) -> Totals {
    let framer = FIXFramer()
    var totals = Totals()
    var offset = 0
    while offset < corpus.count {
        let rest = UnsafeRawBufferPointer(rebasing: corpus[offset...])
        switch framer.frame(rest) {
        case .message(let length):
            let message = FIXMessage(unchecked: UnsafeRawBufferPointer(rebasing: rest[..<length]))
            var iterator = message.makeIterator()
            while let field = iterator.next() {
                totals.fields &+= 1
                switch field.tag {
                case 11, 17, 1, 55:  // ClOrdID, ExecID, Account, Symbol: borrowed string views
                    totals.idBytes &+= field.value.count
                case 54:
                    totals.sides &+= Int(field.value.char ?? 0)
                case 32:
                    if let qty = field.value.decimal { totals.lastQty.mantissa &+= qty.mantissa }
                case 31:
                    if let px = field.value.decimal { totals.lastPxMantissa &+= px.mantissa }
                default:
                    break
                }
            }
            if iterator.error != nil { totals.errors += 1 }
            totals.messages += 1
            offset += length
        case .needMoreBytes:
            totals.errors += 1
            offset = corpus.count
        case .invalid(_, let resume):
            totals.errors += 1
            offset += resume
        }
    }
    return totals
}

@inline(never)
func memchrBaseline(_ corpus: UnsafeRawBufferPointer) -> Int {
    var stops = 0
    var p = corpus.baseAddress!
    let end = p + corpus.count
    while p < end {
        guard let hit = memchr(p, 1, end - p) else { break }
        stops &+= 1
        p = UnsafeRawPointer(hit) + 1
    }
    return stops
}

/// `value` with `decimals` fractional digits (no Foundation in benchmark output).
func fixed(_ value: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    if decimals == 0 { return String(scaled) }
    let whole = String(scaled / Int(scale))
    let fraction = String(scaled % Int(scale))
    return whole + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: parse-bench CORPUS [--runs N] [--once]")
    exit(2)
}
let corpus = readWholeFile(arguments[1])
var runs = 5
if let i = arguments.firstIndex(of: "--runs"), i + 1 < arguments.count { runs = Int(arguments[i + 1]) ?? 5 }

corpus.withUnsafeBytes { bytes in
    if arguments.contains("--once") {
        let totals = parseAll(bytes)
        print("messages \(totals.messages) fields \(totals.fields) errors \(totals.errors)")
        return
    }
    var parseTimes: [Double] = []
    var scanTimes: [Double] = []
    var totals = Totals()
    var stops = 0
    for _ in 0..<runs {
        let t0 = now()
        totals = parseAll(bytes)
        let t1 = now()
        stops = memchrBaseline(bytes)
        let t2 = now()
        parseTimes.append(Double(t1 - t0))
        scanTimes.append(Double(t2 - t1))
    }
    let n = Double(totals.messages)
    let mb = Double(bytes.count) / 1e6
    let parseNs = median(parseTimes) / n
    let scanNs = median(scanTimes) / n
    print("corpus: \(totals.messages) messages, \(bytes.count) bytes, \(totals.fields) fields, errors \(totals.errors)")
    print("check: idBytes \(totals.idBytes) sides \(totals.sides) lastQty \(totals.lastQty.mantissa) lastPx \(totals.lastPxMantissa) SOH stops \(stops)")
    print("full parse:      \(fixed(parseNs, 1)) ns/message  \(fixed(mb / (median(parseTimes) / 1e9), 0)) MB/s  (median of \(runs))")
    print("memchr baseline: \(fixed(scanNs, 1)) ns/message  \(fixed(mb / (median(scanTimes) / 1e9), 0)) MB/s")
    print("ratio parse/baseline: \(fixed(parseNs / scanNs, 2))")
}
