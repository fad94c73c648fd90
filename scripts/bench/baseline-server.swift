// The benchmark baseline (scripts/bench.sh): the smallest HTTP server a Swift
// service on this machine could be. It links the Swift runtime and Foundation
// like the services do (Foundation reads the port), binds 127.0.0.1:$PORT with
// plain POSIX sockets and answers every request with a fixed 200 JSON body,
// one connection at a time, then closes it. No stores, no NIO, no threads.
// Its start-to-first-200 time is the floor the services' ready times are
// divided by; its idle RSS is the floor for memory.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

let environment = ProcessInfo.processInfo.environment
guard let portText = environment["PORT"], let port = UInt16(portText) else {
    FileHandle.standardError.write(Data("baseline-server: set PORT\n".utf8))
    exit(2)
}

let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
guard listener >= 0 else { perror("socket"); exit(1) }
var one: Int32 = 1
setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
var address = sockaddr_in()
address.sin_family = sa_family_t(AF_INET)
address.sin_port = port.bigEndian
address.sin_addr.s_addr = inet_addr("127.0.0.1")
let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
}
guard bound == 0 else { perror("bind"); exit(1) }
guard listen(listener, 64) == 0 else { perror("listen"); exit(1) }

let body = #"{"status":"pass","service":"bench-baseline"}"#
let response = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
var buffer = [UInt8](repeating: 0, count: 4096)

/// Whether `bytes` holds the blank line that ends an HTTP request head.
func hasHeadEnd(_ bytes: [UInt8]) -> Bool {
    guard bytes.count >= 4 else { return false }
    for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
        return true
    }
    return false
}

// A client that hangs up early must not kill the server with SIGPIPE.
signal(SIGPIPE, SIG_IGN)

while true {
    let client = accept(listener, nil, nil)
    if client < 0 { continue }
    // Read the request head (a GET has no body), then answer and close.
    var head: [UInt8] = []
    while head.count < 65536, !hasHeadEnd(head) {
        let n = read(client, &buffer, buffer.count)
        if n <= 0 { break }
        head.append(contentsOf: buffer[0..<n])
    }
    _ = response.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
    close(client)
}
