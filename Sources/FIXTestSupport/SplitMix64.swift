/// SplitMix64: a small deterministic random number generator, so that tests which generate or
/// mangle data get the same data on every run.
///
/// ```swift
/// var random = SplitMix64(seed: 42)
/// let n = Int.random(in: 0 ..< 10, using: &random)
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0 ..< n`.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
