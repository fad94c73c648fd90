/// Encodes a value without some of its top-level keys, with no intermediate copy of it.
///
/// For response types that show a stored record minus its internal fields: the record's own `encode(to:)` runs
/// against the real encoder, and only the omitted keys are dropped on the way, so a field added to the record
/// reaches clients without a second edit and nothing is encoded twice.
public struct OmittingKeys<Value: Encodable>: Encodable {
    /// The value to encode.
    public var value: Value
    /// Top-level keys left out.
    public var omitted: Set<String>

    /// Wraps `value`, leaving out `omitted`.
    public init(_ value: Value, omitting omitted: Set<String>) {
        self.value = value
        self.omitted = omitted
    }

    /// Encodes `value` through an encoder that drops the omitted keys of its top-level keyed container.
    public func encode(to encoder: any Encoder) throws {
        try self.value.encode(to: OmittingEncoder(base: encoder, omitted: self.omitted))
    }
}

/// Forwards to `base`, filtering the keys of the first keyed container.
private struct OmittingEncoder: Encoder {
    let base: any Encoder
    let omitted: Set<String>
    var codingPath: [any CodingKey] { self.base.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { self.base.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(OmittingContainer(base: self.base.container(keyedBy: type), omitted: self.omitted))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { self.base.unkeyedContainer() }
    func singleValueContainer() -> any SingleValueEncodingContainer { self.base.singleValueContainer() }
}

/// A keyed container that skips omitted keys and forwards the rest.
private struct OmittingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    var base: KeyedEncodingContainer<Key>
    let omitted: Set<String>
    var codingPath: [any CodingKey] { self.base.codingPath }

    private func keeps(_ key: Key) -> Bool { !self.omitted.contains(key.stringValue) }

    mutating func encodeNil(forKey key: Key) throws { if self.keeps(key) { try self.base.encodeNil(forKey: key) } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: String, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: Double, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: Float, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { if self.keeps(key) { try self.base.encode(value, forKey: key) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        self.base.nestedContainer(keyedBy: keyType, forKey: key)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { self.base.nestedUnkeyedContainer(forKey: key) }
    mutating func superEncoder() -> any Encoder { self.base.superEncoder() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { self.base.superEncoder(forKey: key) }
}
