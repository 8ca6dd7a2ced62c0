import Outbound
import Testing

/// Signatures as the Standard Webhooks reference makes them. The expected values were computed
/// with the reference implementation (PyPI `standardwebhooks` 1.1.0, `Webhook.sign`); the first
/// is also the specification's own example. The test command checks live deliveries with it too
/// (scripts/webhook-check.py).
@Suite struct WebhookSignatureTests {
    static let secret = try! WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

    @Test func theSpecificationsExample() {
        #expect(
            WebhookSignature.sign(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8), secret: Self.secret)
                == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func anEmptyBodyAndAnEncodedID() {
        #expect(
            WebhookSignature.sign(id: "job%20a@2026-11-24T12:00:00Z", timestamp: 1_796_189_050, body: [], secret: Self.secret)
                == "v1,Frc79S1wvl2OV5bw8NBe8fHS2sMnPRebcwN+iATkB+c=")
    }

    @Test func secretsAreCheckedAndNeverShown() throws {
        #expect(throws: WebhookSecretError.self) { try WebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") }  // no prefix
        #expect(throws: WebhookSecretError.self) { try WebhookSecret("whsec_not base64!") }
        // 24 bytes is the least, 64 the most.
        #expect(throws: WebhookSecretError.self) { try WebhookSecret("whsec_" + String(repeating: "A", count: 31)) }  // 23 bytes
        #expect(try WebhookSecret("whsec_" + String(repeating: "A", count: 32)).description.contains("24 bytes"))
        _ = try WebhookSecret("whsec_" + String(repeating: "A", count: 86) + "==")  // 64 bytes
        #expect(throws: WebhookSecretError.self) { try WebhookSecret("whsec_" + String(repeating: "A", count: 88)) }  // 66 bytes
        // Unpadded base64, as the reference accepts.
        _ = try WebhookSecret("whsec_" + String(repeating: "A", count: 34))
        #expect(!Self.secret.description.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    }
}
