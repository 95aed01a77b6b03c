import FIXDictionary
import FIXTagValue
import FIXTestSupport
import Foundation
import Synchronization

/// Dictionaries loaded once for all tests of this target: loading FIX 5.0 SP2 costs a few
/// hundred milliseconds, so each is parsed a single time.
enum Dictionaries {
    private static let cache = Mutex<[String: FIXDictionary]>([:])

    /// The standard dictionary `name` (`FIX44`), parsed once per test process.
    static func load(_ name: String) -> FIXDictionary {
        cache.withLock { cache in
            if let dictionary = cache[name] { return dictionary }
            let path = SharedData.shared("specs/quickfix/\(name).xml").path
            do {
                let dictionary = try FIXDictionary(contentsOfFile: path)
                cache[name] = dictionary
                return dictionary
            } catch {
                preconditionFailure("\(error)")
            }
        }
    }

    static let fix40 = load("FIX40")
    static let fix42 = load("FIX42")
    static let fix44 = load("FIX44")
    static let fix50sp2 = load("FIX50SP2")
    static let fixt11 = load("FIXT11")
}

/// Builds a message from `|`-separated text (BodyLength and CheckSum filled in) and runs `body`
/// on its borrowed view.
func withMessage<R>(_ text: String, dataFields: FIXDataFields = .standard, _ body: (FIXMessage) -> R) -> R {
    let bytes = TestMessages.make(text)
    return bytes.withUnsafeBytes { body(FIXMessage(unchecked: $0, dataFields: dataFields)) }
}

/// A SendingTime value for tests: a fixed instant, and "now" equal to it.
let testNow = FIXTimestamp("20260102-03:04:05.000")!
let testTime = "20260102-03:04:05.000"
