/// The previous values of one encoder (FAST 1.1 section 6.3.1); the decoder's are ``DictionaryState``.
///
/// The template compiler resolved every (dictionary, key) pair to an entry index, so global,
/// template, type and custom dictionaries are all rows of the same arrays here. An entry is
/// undefined, empty or assigned; strings and byte vectors keep their bytes in a per-entry array
/// that keeps its capacity. Entry states are ``DictionaryState``'s constants.
struct EncoderDictionary: Sendable {
    var state: [UInt8]
    var ints: [UInt64]
    var exponents: [Int32]
    var bytes: [[UInt8]]
    /// The template identifier is a copy-operator uInt32 of its own (section 10.3.2).
    var templateIDState: UInt8 = DictionaryState.undefined
    var templateID: UInt32 = 0
    let templateIDInitial: UInt32?

    init(count requested: Int, templateIDInitial: UInt32?) {
        // At least one entry, so the decoder can always take a base address.
        let count = max(requested, 1)
        state = Array(repeating: DictionaryState.undefined, count: count)
        ints = Array(repeating: 0, count: count)
        exponents = Array(repeating: 0, count: count)
        bytes = Array(repeating: [], count: count)
        self.templateIDInitial = templateIDInitial
    }

    mutating func reset() {
        for i in state.indices { state[i] = DictionaryState.undefined }
        templateIDState = DictionaryState.undefined
    }

    /// The previous template id, or the configured initial one when undefined.
    var previousTemplateID: UInt32? {
        if templateIDState == DictionaryState.assigned { return templateID }
        if templateIDState == DictionaryState.undefined { return templateIDInitial }
        return nil
    }
}
