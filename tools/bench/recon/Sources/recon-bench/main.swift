// Reconciles a generated day (gen.py) and checks the breaks against the seeded ones.
//
//     recon-bench DIR MAPPING
//
// Prints one line per phase with wall time and peak resident memory, then the breaks found by
// code and whether they are exactly the seeded set. Exit status 1 when they are not.
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import FIXTagValue
import Reconciliation
import TradeBook

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func peakMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func readAll(_ path: String) -> [UInt8] {
    guard let f = fopen(path, "rb") else { fatalError("cannot open \(path)") }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&buffer, 1, buffer.count, f)
        if n <= 0 { break }
        out.append(contentsOf: buffer[0..<n])
    }
    return out
}

/// Streams a file through a statement reader in 4 MiB chunks, so the file is never held whole.
func stream(_ path: String, mapping: StatementMapping, _ emit: (StatementRecord) -> Void) -> Int {
    guard let f = fopen(path, "rb") else { fatalError("cannot open \(path)") }
    defer { fclose(f) }
    var reader = StatementReader(mapping: mapping, fileName: path)
    let chunkBytes = 4 << 20
    var pending: [UInt8] = []
    pending.reserveCapacity(chunkBytes * 2)
    var buffer = [UInt8](repeating: 0, count: chunkBytes)
    while true {
        let n = fread(&buffer, 1, chunkBytes, f)
        if n <= 0 { break }
        pending.append(contentsOf: buffer[0..<n])
        let used = pending.withUnsafeBytes { reader.read($0, isFinal: false, emit) }
        pending.removeFirst(used)
    }
    _ = pending.withUnsafeBytes { reader.read($0, isFinal: true, emit) }
    return reader.linesRead
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    print("usage: recon-bench DIR MAPPING")
    exit(2)
}
let dir = args[1]
let mapping: StatementMapping
do {
    mapping = try StatementMapping(parsing: String(decoding: readAll(args[2]), as: UTF8.self), fileName: args[2])
} catch {
    print("mapping: \(error)")
    exit(2)
}

let date = FIXDate(year: 2026, month: 1, day: 5)!
let config = ReconciliationConfiguration(businessDate: date, sourceName: "XVEN")

/// Results of the two loading threads; each thread writes only its own slot before `wait()`.
final class Slot: @unchecked Sendable {
    var reconciler: Reconciler
    var lines = 0
    var issues = 0
    init(_ r: Reconciler) { reconciler = r }

    /// Moves the reconciler out, so the caller holds the only reference and can mutate in place.
    func take() -> Reconciler {
        let r = reconciler
        reconciler = Reconciler(configuration: r.configuration)
        return r
    }
}

// The book and the statement are read on two threads into two reconcilers, joined by `absorb`.
/// Expected lines of a generated file from its size (the generator's lines are about 79 bytes),
/// so the row arrays are sized once instead of doubling while 10 million rows arrive.
func estimatedLines(_ path: String) -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else { return 0 }
    return Int(info.st_size) / 76 + 1024
}

let t0 = now()
let bookSlot = Slot(Reconciler(configuration: config))
let statementSlot = Slot(Reconciler(configuration: config))
bookSlot.reconciler.reserveCapacity(bookTrades: estimatedLines("\(dir)/book.csv"), externalTrades: 0)
statementSlot.reconciler.reserveCapacity(bookTrades: 0, externalTrades: estimatedLines("\(dir)/statement.csv"))
let group = DispatchGroup()
DispatchQueue.global().async(group: group) {
    _ = stream("\(dir)/book.csv", mapping: mapping) { record in
        guard case .trade(let t) = record else { return }
        bookSlot.lines += 1
        bookSlot.reconciler.add(BookTrade(
            fillID: bookSlot.lines, execID: t.execID ?? "", orderID: t.orderID,
            account: t.account == "?" ? nil : t.account, instrument: t.instrument, side: t.side,
            quantity: t.quantity, price: t.price, currency: t.currency, tradeDate: t.tradeDate,
            settlementDate: t.settlementDate, transactTime: nil, fees: t.fees))
    }
}
DispatchQueue.global().async(group: group) {
    _ = stream("\(dir)/statement.csv", mapping: mapping) { record in
        switch record {
        case .trade(let t): statementSlot.reconciler.add(t)
        case .malformed: statementSlot.issues += 1
        default: break
        }
    }
}
group.wait()
if getenv("RECON_BENCH_VERBOSE") != nil { print(String(format: "loaded   peak %7.0f MB (before joining the two sides)", peakMegabytes())) }
// Move the reconcilers out of their slots so absorbing mutates in place instead of copying.
var reconciler = bookSlot.take()
reconciler.absorb(statementSlot.take())
let bookLines = bookSlot.lines
let statementIssues = statementSlot.issues
let t1 = now()
print(String(format: "load    %8.3f s  peak %7.0f MB  book %d  statement issues %d", t1 - t0, peakMegabytes(),
             bookLines, statementIssues))
let result = reconciler.run()
let t2 = now()
print(String(format: "match   %8.3f s  peak %7.0f MB  breaks %d", t2 - t1, peakMegabytes(), result.breaks.count))
print(String(format: "total   %8.3f s", t2 - t0))
print("matched: key \(result.statistics.matchedByKey), attributes \(result.statistics.matchedByAttributes), "
    + "aggregation \(result.statistics.matchedByAggregation)")

// RECON_BENCH_REPORT=DIR writes the summary, CSV, JSON and HTML reports there.
if let out = getenv("RECON_BENCH_REPORT").map({ String(cString: $0) }) {
    let cases = result.breaks.map { BreakCase(break: $0, seenOn: date) }
    let files = [
        ("summary.txt", BreakReports.summary(result)), ("breaks.csv", BreakReports.csv(result.breaks)),
        ("breaks.json", BreakReports.json(result.breaks)),
        ("breaks.html", BreakReports.html(cases: cases, asOf: date, title: "XVEN trade reconciliation \(date)")),
    ]
    for (name, text) in files {
        FileManager.default.createFile(atPath: "\(out)/\(name)", contents: Data(text.utf8))
    }
}

// Compare with the seeded breaks: code and key (the ExecID of the record).
var expected = Set<String>()
let expectedText = String(decoding: readAll("\(dir)/expected.csv"), as: UTF8.self)
for line in expectedText.split(separator: "\n").dropFirst() { expected.insert(String(line)) }
var found = Set<String>()
for b in result.breaks {
    let key = b.book.first?.key ?? b.external.first?.key ?? ""
    found.insert("\(b.code.number),\(key)")
}
let missed = expected.subtracting(found)
let extra = found.subtracting(expected)
var byCode: [Int: Int] = [:]
for b in result.breaks { byCode[b.code.number, default: 0] += 1 }
print("breaks by code: " + byCode.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
print("seeded \(expected.count), found \(found.count), missed \(missed.count), unexpected \(extra.count)")
for m in missed.sorted().prefix(10) { print("  missed \(m)") }
for x in extra.sorted().prefix(10) { print("  unexpected \(x)") }
exit(missed.isEmpty && extra.isEmpty && found.count == result.breaks.count ? 0 : 1)
