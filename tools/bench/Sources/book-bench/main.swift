// The book's apply path alone, over a FIX corpus held in memory (see README "Performance"):
// frame every message, and apply every ExecutionReport(35=8) to a fresh `TradeBook` whose
// account map names every Account(1) of the corpus, collecting the events into a reused list
// as a loader does. No store, no file reads, no second thread: what is left is the book's own
// cost per report. The baseline in the same run frames the same messages and reads their
// MsgType only.
//
//   book-bench CORPUS [--runs 5]        timed runs, medians
//   book-bench CORPUS --once            one apply pass only (for valgrind --tool=callgrind)
#if canImport(Glibc)
import Glibc
#endif
import BenchSupport
import FIXTagValue
import Foundation
import TradeBook

/// Calls `body` with each framed message and its offset.
@inline(__always)
func eachMessage(_ corpus: UnsafeRawBufferPointer, _ body: (FIXMessage, Int) -> Void) {
    let framer = FIXFramer()
    var offset = 0
    while offset < corpus.count {
        let rest = UnsafeRawBufferPointer(rebasing: corpus[offset...])
        switch framer.frame(rest) {
        case .message(let length):
            body(FIXMessage(unchecked: UnsafeRawBufferPointer(rebasing: rest[..<length])), offset)
            offset += length
        case .needMoreBytes:
            return
        case .invalid(_, let resumeAt):
            offset += resumeAt
        }
    }
}

/// Every Account(1) value of the corpus, mapped to a client account of its own.
func accountMap(_ corpus: UnsafeRawBufferPointer) -> [String: String] {
    var accounts: [String: String] = [:]
    eachMessage(corpus) { message, _ in
        for field in message where field.tag == 1 {
            let account = field.value.string
            if accounts[account] == nil { accounts[account] = "CL-" + account }
        }
    }
    return accounts
}

struct Pass {
    var reports = 0
    var events = 0
    var orders = 0
    var fills = 0
}

@inline(never)
func applyAll(_ corpus: UnsafeRawBufferPointer, configuration: BookConfiguration, source: String) -> Pass {
    var book = TradeBook(configuration: configuration)
    var events: [BookEvent] = []
    events.reserveCapacity(16)
    var pass = Pass()
    eachMessage(corpus) { message, offset in
        guard let type = message.msgType, type.equals("8") else { return }
        pass.reports += 1
        events.removeAll(keepingCapacity: true)
        book.apply(message, source: SourcePosition(source: source, offset: Int64(offset)), into: &events)
        pass.events += events.count
    }
    pass.orders = book.orders.count
    pass.fills = book.fills.count
    return pass
}

@inline(never)
func frameAll(_ corpus: UnsafeRawBufferPointer) -> Int {
    var reports = 0
    eachMessage(corpus) { message, _ in
        if let type = message.msgType, type.equals("8") { reports += 1 }
    }
    return reports
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let path = arguments.first else {
    print("usage: book-bench CORPUS [--runs N] [--once]")
    exit(2)
}
var runs = 5
var once = false
var i = 1
while i < arguments.count {
    switch arguments[i] {
    case "--runs" where i + 1 < arguments.count:
        runs = max(1, Int(arguments[i + 1]) ?? 5)
        i += 1
    case "--once":
        once = true
    default:
        print("unknown option \(arguments[i])")
        exit(2)
    }
    i += 1
}

let corpus = readWholeFile(path)
corpus.withUnsafeBytes { raw in
    let configuration = BookConfiguration(accounts: accountMap(raw))
    if once {
        let pass = applyAll(raw, configuration: configuration, source: path)
        print("reports \(pass.reports), events \(pass.events), orders \(pass.orders), fills \(pass.fills)")
        return
    }
    var applyTimes: [Double] = []
    var frameTimes: [Double] = []
    var pass = Pass()
    for _ in 0..<runs {
        let t0 = now()
        let reports = frameAll(raw)
        let t1 = now()
        pass = applyAll(raw, configuration: configuration, source: path)
        let t2 = now()
        precondition(reports == pass.reports)
        frameTimes.append(Double(t1 - t0) / 1e9)
        applyTimes.append(Double(t2 - t1) / 1e9)
    }
    let apply = median(applyTimes)
    let frame = median(frameTimes)
    let r = Double(pass.reports)
    print("corpus: \(corpus.count) bytes, \(pass.reports) execution reports, \(pass.orders) orders, \(pass.fills) fills")
    print(String(format: "baseline, frame + MsgType: median %.3f s", frame))
    print(String(format: "book apply (framing included): median %.3f s, %.0f reports/s, %.0f ns/report",
                 apply, r / apply, apply / r * 1e9))
    print(String(format: "apply alone (minus the baseline): %.0f ns/report; runs: %@", (apply - frame) / r * 1e9,
                 applyTimes.map { String(format: "%.3f", $0) }.joined(separator: " ")))
}
