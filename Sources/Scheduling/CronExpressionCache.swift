import Locking

/// Parsed cron expressions by their text, for reading stored jobs: the scheduler decodes every
/// due job's row, and parsing (with its check that the expression can fire at all) costs far
/// more than a lookup. Only texts that parsed are kept, so a client cannot fill it with errors;
/// and it is emptied when full, a bound that stored jobs' few distinct expressions never reach.
public enum CronExpressionCache {
    private static let parsed = Locked<[String: CronExpression]>([:])
    static let maximumCached = 10_000

    public static func expression(parsing text: String) throws(SchedulingError) -> CronExpression {
        if let known = parsed.withLock({ $0[text] }) { return known }
        let expression = try CronExpression(parsing: text)
        parsed.withLock { cache in
            if cache.count >= maximumCached { cache.removeAll(keepingCapacity: true) }
            cache[text] = expression
        }
        return expression
    }
}
