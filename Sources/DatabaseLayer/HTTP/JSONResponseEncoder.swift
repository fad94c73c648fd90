public import Hummingbird

/// The services' response encoder: ``JSONBytesEncoder`` straight into the response body.
///
/// It replaces Foundation's JSONEncoder, which built a tree of every response and then serialised it; the
/// `Content-Type` is the one Hummingbird's JSON encoder sends.
public struct JSONResponseEncoder: ResponseEncoder {
    /// Creates the encoder.
    public init() {}

    /// A 200 response whose body is the JSON of `value`.
    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        let bytes = try JSONBytesEncoder.encode(value)
        let buffer = ByteBuffer(bytes: bytes)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(bytes.count)],
            body: .init(byteBuffer: buffer)
        )
    }
}
