import Chronology
import JSON
import Outbound

/// A webhook attempt as it goes on the wire (Standard Webhooks): pure, given the recorded
/// request, the firing, the job's kwargs and secret as they are now, and the time.
enum WebhookMessage {
    static let userAgent = "Kairos-Webhook/1"

    /// `webhook-id`: the firing identity, the same on every attempt, so a receiver can drop a
    /// repeat; header-safe whatever the job id holds (its bytes outside A-Z a-z 0-9 - . _ ~ are
    /// percent-encoded).
    static func id(for firing: FiringIdentity) -> String {
        var encoded = ""
        for byte in firing.jobID.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return "\(encoded)@\(firing.scheduledFor.iso8601)"
    }

    /// The firing document, the body when the job gives none.
    static func firingDocument(_ firing: FiringIdentity, runID: Int64, attempt: Int, kwargs: JSONObject) -> JSONValue {
        var shown = kwargs
        for key in WriteOnlyKwargs.keys { shown.removeValue(forKey: key) }
        return [
            "job_id": .string(firing.jobID), "scheduled_for": .string(firing.scheduledFor.iso8601), "run_id": .int(runID),
            "attempt": .int(Int64(attempt)), "kwargs": .object(shown),
        ]
    }

    /// - Parameter timestamp: Unix seconds, the sender's wall clock (receivers judge it against theirs).
    static func outbound(
        _ request: WebhookRequest, firing: FiringIdentity, runID: Int64, attempt: Int, kwargs: JSONObject, secret: WebhookSecret?,
        timestamp: Int64
    ) -> OutboundRequest {
        let sendsBody = request.method != "GET"
        let body = sendsBody ? (request.body ?? firingDocument(firing, runID: runID, attempt: attempt, kwargs: kwargs)).serializedBytes() : []
        let id = id(for: firing)
        var headers = request.headers
        if sendsBody, !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append(("Content-Type", "application/json"))
        }
        if !headers.contains(where: { $0.name.lowercased() == "user-agent" }) { headers.append(("User-Agent", userAgent)) }
        headers += [("webhook-id", id), ("webhook-timestamp", String(timestamp))]
        if let secret {
            headers.append(("webhook-signature", WebhookSignature.sign(id: id, timestamp: timestamp, body: body, secret: secret)))
        }
        return OutboundRequest(
            url: request.url, method: request.method, headers: headers, body: body,
            timeout: .microseconds(request.timeout.microseconds))
    }
}
