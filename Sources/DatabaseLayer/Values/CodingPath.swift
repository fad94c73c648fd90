/// A coding path that is put together only when something reads it.
///
/// Codable containers hand every member the path to it, `parent + [key]`. Building that array for each member was
/// two mallocs a field, a tenth of a GET's mallocs (docs/performance.md), and the path is read only to report an
/// error or when a nested container starts. The decoders pass this pair instead and build the array on demand.
struct CodingPath {
    /// The path of the container the member is in.
    let parent: [any CodingKey]
    /// The member's own key, if the path ends in one.
    let key: (any CodingKey)?

    /// A path that is already whole.
    init(_ path: [any CodingKey]) {
        self.parent = path
        self.key = nil
    }

    /// The member `key` of the container at `parent`.
    init(_ parent: [any CodingKey], _ key: any CodingKey) {
        self.parent = parent
        self.key = key
    }

    /// The keys, built now.
    var keys: [any CodingKey] { if let key = self.key { self.parent + [key] } else { self.parent } }
}
