import JSON
import Outbound

/// Kwargs that go in and never come out: a webhook's `secret`. No answer, log line or failure
/// record shows one (answers say `"(write-only)"` in its place). Replacing a job that has one
/// takes the client's say-so: give it again, `"keep"` to keep the stored one, or `null` to drop
/// it; leaving it out is refused, so a job fetched and posted back cannot lose its secret silently.
public enum WriteOnlyKwargs {
    public static let keys: Set<String> = ["secret"]
    /// What answers show in place of a write-only value.
    public static let shown = "(write-only)"
    /// The value that keeps the stored one when a job is replaced.
    public static let keep = "keep"

    /// `kwargs` as answers show them.
    public static func redacted(_ kwargs: JSONObject) -> JSONObject {
        var shownKwargs = kwargs
        for key in keys where kwargs[key].map({ !$0.isNull }) == true { shownKwargs[key] = .string(shown) }
        return shownKwargs
    }

    /// A `secret` as a job may give it: a Standard Webhooks secret, or `"keep"`. The message
    /// never repeats the value.
    static func checkSecret(_ value: JSONValue) throws(KwargsError) {
        let path: JSONPath = [.key("secret")]
        guard let text = value.stringValue else {
            throw KwargsError("'secret' must be a string (\"whsec_\" and base64), \"keep\", or null, not \(value.kindDescription)", at: path)
        }
        if text == keep { return }
        if text == shown {
            throw KwargsError(
                "'secret' is write-only, so answers never show it; give it again, \"keep\" to keep the stored one, or null to sign no more",
                at: path)
        }
        do {
            _ = try WebhookSecret(text)
        } catch {
            throw KwargsError("'secret' is not a Standard Webhooks secret: \(error)", at: path)
        }
    }

    /// The kwargs to store when `kwargs` (of `handler`) replaces `existing`, the stored job of
    /// that id if any: `"keep"` takes the stored value, `null` drops it.
    ///
    /// - Throws: ``JobDefinitionError`` for `"keep"` with nothing to keep, or for a write-only key
    ///   left out while the job being replaced (of the same handler) has one.
    static func carried(
        _ kwargs: JSONObject, handler: any JobHandler, jobID: String, replacing existing: (handler: String, kwargs: JSONObject)?,
        kwargsPath: JSONPath
    ) throws(JobDefinitionError) -> JSONObject {
        var stored = kwargs
        for key in handler.writeOnlyKwargs.sorted() {
            let kept = existing.flatMap { $0.handler == handler.name ? $0.kwargs[key] : nil }.flatMap { $0.isNull ? nil : $0 }
            switch kwargs[key] {
            case .string(keep)?:
                guard let kept else {
                    throw JobDefinitionError(
                        "'kwargs' for \(handler.name): '\(key)': \"keep\" keeps the stored \(key) of the job being replaced, but no \(handler.name) job \(JSONValue.string(jobID).serialized()) has one",
                        at: kwargsPath + [.key(key)])
                }
                stored[key] = kept
            case .null?:
                stored.removeValue(forKey: key)
            case nil:
                guard kept == nil else {
                    throw JobDefinitionError(
                        "'kwargs' for \(handler.name): '\(key)': job \(JSONValue.string(jobID).serialized()) has a \(key), which answers never show; give it again, \"keep\" to keep it, or null to drop it",
                        at: kwargsPath + [.key(key)])
                }
            default:
                break
            }
        }
        return stored
    }
}
