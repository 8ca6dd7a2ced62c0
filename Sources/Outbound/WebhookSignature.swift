import CLibCrypto
import Foundation

/// A Standard Webhooks signing secret: `whsec_` then the key in base64, 24 to 64 bytes of it.
/// Its description never shows the key.
public struct WebhookSecret: Sendable, Equatable, CustomStringConvertible {
    public static let prefix = "whsec_"
    let key: [UInt8]

    /// - Throws: ``WebhookSecretError`` saying what the text lacks.
    public init(_ text: String) throws(WebhookSecretError) {
        guard text.hasPrefix(Self.prefix) else { throw WebhookSecretError("a secret starts with \"whsec_\", then the key in base64") }
        var encoded = String(text.dropFirst(Self.prefix.count))
        // The reference implementation accepts unpadded base64; so does Kairos.
        while encoded.utf8.count % 4 != 0 { encoded += "=" }
        guard let key = Data(base64Encoded: encoded) else { throw WebhookSecretError("what follows \"whsec_\" is not base64") }
        guard (24...64).contains(key.count) else {
            throw WebhookSecretError("the key is \(key.count) bytes; Standard Webhooks keys are 24 to 64 bytes")
        }
        self.key = Array(key)
    }

    public var description: String { "whsec_(\(key.count) bytes, not shown)" }
}

public struct WebhookSecretError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The Standard Webhooks signature of a message: `v1,` and the base64 HMAC-SHA256, under the
/// secret's key, of `id.timestamp.body` (libcrypto's HMAC; nothing hand-rolled).
public enum WebhookSignature {
    public static func sign(id: String, timestamp: Int64, body: [UInt8], secret: WebhookSecret) -> String {
        let message = Array("\(id).\(timestamp).".utf8) + body
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let done = secret.key.withUnsafeBytes { key in
            message.withUnsafeBytes { data in
                HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count,
                     &digest, &length)
            }
        }
        precondition(done != nil && length == 32, "libcrypto's HMAC-SHA256 failed")
        return "v1," + Data(digest[0..<Int(length)]).base64EncodedString()
    }
}
