import SQLBuilding

/// One step of a database schema: SQL applied once, in version order, never edited afterwards.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    /// Statements separated by `;`, without transaction control: the migrator wraps every
    /// pending step in one transaction.
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// FNV-1a of the text: enough to notice a migration edited after it was applied.
    var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

/// Applies ``Migration``s to the schema a connection's `search_path` names first, recording each
/// in a `schema_migrations` table.
///
/// Every pending step runs in one transaction under `pg_advisory_xact_lock` keyed by the schema,
/// so processes that boot together apply each step exactly once: the second waits for the first
/// to commit, then finds nothing left to do. A failing step rolls everything back.
public enum Migrator {
    /// Applies what is pending and returns the steps applied (empty when up to date).
    ///
    /// - Throws: ``MigrationError`` when the list is malformed or an applied step was edited;
    ///   ``PostgresError`` when a step's SQL fails (naming it in the message).
    @discardableResult
    public static func migrate(_ migrations: [Migration], on connection: PostgresConnection) throws -> [Migration] {
        try validate(migrations)
        return try connection.withTransaction { tx in
            let schema = try tx.query("SELECT current_schema() AS schema")[0].decode(String?.self, column: "schema")
            guard let schema else { throw MigrationError.noSchema }
            try tx.execute("SELECT pg_advisory_xact_lock(hashtext(\("kairos.schema_migrations:" + schema)))")
            try tx.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version bigint PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """)
            let pending = try pendingMigrations(migrations, appliedIn: tx)
            for migration in pending {
                do {
                    try tx.executeScript(SQL(unsafeUnchecked: migration.sql))
                } catch var error as PostgresError {
                    error.message = "migration \(migration.version) (\(migration.name)) failed: \(error.message)"
                    throw error
                }
                try tx.execute("""
                    INSERT INTO schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """)
            }
            return pending
        }
    }

    /// The steps not yet applied, without applying anything: what readiness reports.
    public static func pendingMigrations(_ migrations: [Migration], on connection: PostgresConnection) throws -> [Migration] {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")[0]
            .decode(Bool.self, column: "present")
        guard exists else { return migrations }
        return try pendingMigrations(migrations, appliedIn: connection)
    }

    private static func pendingMigrations(_ migrations: [Migration], appliedIn connection: PostgresConnection) throws -> [Migration] {
        var applied: [Int: String] = [:]
        for row in try connection.query("SELECT version, checksum FROM schema_migrations") {
            applied[try row.decode(Int.self, column: "version")] = try row.decode(String.self, column: "checksum")
        }
        for migration in migrations {
            if let checksum = applied[migration.version], checksum != migration.checksum {
                throw MigrationError.edited(version: migration.version, name: migration.name)
            }
        }
        return migrations.filter { applied[$0.version] == nil }
    }

    private static func validate(_ migrations: [Migration]) throws {
        for (previous, next) in zip(migrations, migrations.dropFirst()) where next.version <= previous.version {
            throw MigrationError.outOfOrder(previous: previous.version, next: next.version)
        }
    }
}

public enum MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    case outOfOrder(previous: Int, next: Int)
    case edited(version: Int, name: String)
    case noSchema

    public var description: String {
        switch self {
        case .outOfOrder(let previous, let next):
            return "migrations must be listed in increasing version order; \(next) follows \(previous)"
        case .edited(let version, let name):
            return "migration \(version) (\(name)) was changed after it was applied; add a new migration instead"
        case .noSchema:
            return "no schema to migrate: the search_path names no existing schema"
        }
    }
}
