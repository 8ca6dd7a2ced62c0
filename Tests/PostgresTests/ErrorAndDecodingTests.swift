import Chronology
import Foundation
import JSON
import Postgres
import SQLBuilding
import TestSupport
import Testing

@Suite struct ErrorTests {
    @Test func syntaxErrorCarriesSQLStateAndServerMessage() async throws {
        try await withConnection { connection in
            do {
                try connection.execute("SELEC 1")
                Issue.record("bad SQL ran")
            } catch let error as PostgresError {
                #expect(error.kind == .server)
                #expect(error.sqlState == SQLState.syntaxError)
                #expect(error.sqlState == "42601")
                #expect(error.message == "syntax error at or near \"SELEC\"")
                #expect(error.position == 1)
                #expect(error.sql == "SELEC 1")
            }
        }
    }

    @Test func errorCarriesDetailHintAndConstraint() async throws {
        try await withSchemaConnection { connection in
            try connection.execute("CREATE TABLE jobs (job_id text CONSTRAINT jobs_pkey PRIMARY KEY)")
            try connection.execute("INSERT INTO jobs VALUES (\("nightly"))")
            do {
                try connection.execute("INSERT INTO jobs VALUES (\("nightly"))")
                Issue.record("duplicate key accepted")
            } catch let error as PostgresError {
                #expect(error.isUniqueViolation)
                #expect(error.constraint == "jobs_pkey")
                #expect(error.table == "jobs")
                #expect(error.detail == "Key (job_id)=(nightly) already exists.")
                #expect(!error.isSerializationFailure)
                #expect(!error.isConnectionLost)
                #expect(error.sql == "INSERT INTO jobs VALUES ($1)")
            }
            do {
                try connection.execute("DO $$ BEGIN RAISE EXCEPTION 'retry me' USING ERRCODE = '40001', HINT = 'try again'; END $$")
            } catch let error as PostgresError {
                #expect(error.isSerializationFailure)
                #expect(error.hint == "try again")
                #expect(error.message == "retry me")
            }
        }
    }

    /// A CHECK violation's detail prints the whole row (a webhook secret in its kwargs, say): the
    /// description, which logs show, leaves it out; the detail itself keeps it.
    @Test func theFailingRowIsNotInTheDescription() async throws {
        try await withSchemaConnection { connection in
            try connection.execute("CREATE TABLE held (secret text, n int CHECK (n > 0))")
            do {
                try connection.execute("INSERT INTO held VALUES (\("whsec_hidden"), 0)")
                Issue.record("the CHECK let it in")
            } catch let error as PostgresError {
                #expect(error.detail?.contains("whsec_hidden") == true)
                #expect(!error.description.contains("whsec_hidden") && error.description.contains("the failing row (not shown)"), "\(error)")
            }
        }
    }

    @Test func realSerializationFailureIsRecognised() async throws {
        try await TestDatabase.withSchema { configuration in
            try await onThread {
                let first = try PostgresConnection.connect(configuration)
                let second = try PostgresConnection.connect(configuration)
                try first.execute("CREATE TABLE counter (n int)")
                try first.execute("INSERT INTO counter VALUES (0)")
                try first.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                try second.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                try first.query("SELECT n FROM counter")
                try second.query("SELECT n FROM counter")
                try first.execute("UPDATE counter SET n = n + 1")
                try first.execute("COMMIT")
                do {
                    try second.execute("UPDATE counter SET n = n + 1")
                    Issue.record("the concurrent update was not refused")
                } catch let error as PostgresError {
                    #expect(error.isSerializationFailure)
                    #expect(error.sqlState == "40001")
                }
                try second.execute("ROLLBACK")
            }
        }
    }

    @Test func terminatedConnectionReportsConnectionLost() async throws {
        try await withConnection { connection in
            let admin = try PostgresConnection.connect(TestDatabase.configuration)
            try admin.execute("SELECT pg_terminate_backend(\(connection.backendPID))")
            do {
                // The backend may need a moment to exit; the next statements see it gone.
                for _ in 0..<100 {
                    try connection.execute("SELECT 1")
                    Thread.sleep(forTimeInterval: 0.02)
                }
                Issue.record("the terminated connection kept working")
            } catch let error as PostgresError {
                #expect(error.isConnectionLost)
                #expect(!connection.isConnected)
            }
        }
    }

    /// Whatever `DATABASE_URL` holds (a password or trust, any database name), each failure is
    /// made by changing one keyword of it, as libpq reads it.
    @Test func connectFailuresSayWhatFailed() async throws {
        let cases: [([String: String?], PostgresError.ConnectFailure, String)] = [
            // "password authentication failed for user ..." or, on a trust server, "role ... does not exist".
            (["user": "no_such_role_kairos"], .authentication, "\"no_such_role_kairos\""),
            (["dbname": "no_such_database_kairos"], .missingDatabase, "database \"no_such_database_kairos\" does not exist"),
            (["host": "127.0.0.1", "hostaddr": nil, "port": "1"], .unreachable, "Connection refused"),
        ]
        for (changes, expected, text) in cases {
            let error = try #require(try await Self.connectError(changing: changes), "connected with \(changes)")
            #expect(error.kind == .connect(expected))
            #expect(error.message.contains(text), "\(error.message)")
            #expect(error.message.hasPrefix("could not connect to PostgreSQL: "))
        }
    }

    /// The error of connecting with the test database's parameters changed; nil if it connected.
    static func connectError(changing changes: [String: String?]) async throws -> PostgresError? {
        var configuration = PostgresConfiguration(try TestDatabase.connectionString(changing: changes))
        configuration.connectTimeoutSeconds = TestDatabase.connectTimeoutSeconds
        let changed = configuration
        return try await onThread {
            do {
                _ = try PostgresConnection.connect(changed)
                return nil
            } catch let error as PostgresError {
                return error
            }
        }
    }

    /// A wrong password is refused as such, on a server that asks for one (the test command's does).
    @Test func aWrongPasswordIsAnAuthenticationFailure() async throws {
        guard try TestDatabase.configuration.connectionParameters().contains(where: { $0.keyword == "password" }) else {
            // A trust-auth server takes any password: nothing to refuse. The role case above
            // still covers authentication failures there.
            return
        }
        let error = try #require(try await Self.connectError(changing: ["password": "not-the-password"]), "connected with a wrong password")
        #expect(error.kind == .connect(.authentication))
        #expect(error.message.contains("password authentication failed"), "\(error.message)")
    }

    @Test func keywordAndURIConnectionStringsReachTheSameDatabase() async throws {
        let uri = try TestDatabase.configuration
        var parsed = PostgresConfiguration(PostgresConfiguration.keywordString(try uri.connectionParameters()))
        parsed.connectTimeoutSeconds = uri.connectTimeoutSeconds  // a setting, not part of the string
        let keywords = parsed
        try await onThread {
            let viaURI = try PostgresConnection.connect(uri).query("SELECT current_database() AS db")[0].decode(String.self, column: "db")
            let viaKeywords = try PostgresConnection.connect(keywords).query("SELECT current_database() AS db")[0]
                .decode(String.self, column: "db")
            #expect(viaKeywords == viaURI)
        }
    }

    @Test func connectionParametersReadQuotingAndPercentEncoding() throws {
        let uri = PostgresConfiguration("postgresql://u%40x:p%27w@h:5433/d%20b?application_name=a%20b")
        let parameters = Dictionary(uniqueKeysWithValues: try uri.connectionParameters().map { ($0.keyword, $0.value) })
        #expect(parameters["user"] == "u@x")
        #expect(parameters["password"] == "p'w")
        #expect(parameters["dbname"] == "d b")
        #expect(parameters["application_name"] == "a b")
        let again = PostgresConfiguration(PostgresConfiguration.keywordString(try uri.connectionParameters()))
        #expect(try again.connectionParameters().map(\.value) == uri.connectionParameters().map(\.value))
        #expect(throws: PostgresError.self) { try PostgresConfiguration("host='unclosed").connectionParameters() }
    }
}

/// A dead peer is given up on in seconds, on both sides, whatever the kernel's defaults.
@Suite struct DeadPeerSettingsTests {
    @Test func everySessionTimesOutADeadPeerAndAnIdleTransaction() async throws {
        try await withConnection { connection in
            let row = try connection.query("""
                SELECT current_setting('idle_in_transaction_session_timeout') AS idle_tx,
                       current_setting('tcp_keepalives_idle') AS idle, current_setting('tcp_user_timeout') AS user_timeout,
                       inet_server_addr() IS NOT NULL AS tcp
                """)[0]
            #expect(try row.decode(String.self, column: "idle_tx") == "15s")
            // Over a Unix socket the server has no TCP settings to show (they read 0).
            if try row.decode(Bool.self, column: "tcp") {
                #expect(try row.decode(String.self, column: "idle") == "5")
                #expect(try row.decode(String.self, column: "user_timeout") == "5000")  // milliseconds
            }
            // A statement whose client has gone is stopped within a second.
            #expect(try connection.query("SHOW client_connection_check_interval")[0].decode(String.self, at: 0) == "1s")
            // No statement_timeout unless the configuration sets one.
            #expect(try connection.query("SHOW statement_timeout")[0].decode(String.self, at: 0) == "0")
        }
    }

    /// Index probes are priced as reads from memory, not seeks (random_page_cost 1.1), unless
    /// the operator chose a cost of their own.
    @Test func indexProbesArePricedAsCachedUnlessTheOperatorSetTheirCost() async throws {
        let standard = try TestDatabase.configuration
        let chosen = PostgresConfiguration(try TestDatabase.connectionString(changing: ["options": "-c random_page_cost=2"]))
        try await onThread {
            let connection = try PostgresConnection.connect(standard)
            // The test cluster runs with PostgreSQL's default; the session lowers it.
            let row = try connection.query("SELECT setting, reset_val FROM pg_settings WHERE name = 'random_page_cost'")[0]
            #expect(try row.decode(String.self, column: "setting") == "1.1")
            #expect(try row.decode(String.self, column: "reset_val") == "4")
            let own = try PostgresConnection.connect(chosen)
            #expect(try own.query("SHOW random_page_cost")[0].decode(String.self, at: 0) == "2")
        }
    }

    @Test func theConfiguredStatementTimeoutIsTheSessions() async throws {
        var settings = try TestDatabase.configuration
        settings.statementTimeout = .milliseconds(1500)
        let configuration = settings
        try await onThread {
            let connection = try PostgresConnection.connect(configuration)
            #expect(try connection.query("SHOW statement_timeout")[0].decode(String.self, at: 0) == "1500ms")
            // The server ends a longer statement itself, with its own error; the connection stays.
            do {
                try connection.execute("SELECT pg_sleep(30)")
                Issue.record("the sleep outlived the statement timeout")
            } catch let error as PostgresError {
                #expect(error.isQueryCanceled, "\(error)")
            }
            #expect(connection.isConnected)
            // A transaction's own timeout governs its statements, and ends with it.
            try connection.withTransaction(TransactionOptions(statementTimeout: .seconds(5))) { tx in
                #expect(try tx.query("SHOW statement_timeout")[0].decode(String.self, at: 0) == "5s")
                try tx.execute("SELECT pg_sleep(2)")  // longer than the session's, shorter than its own
            }
            #expect(try connection.query("SHOW statement_timeout")[0].decode(String.self, at: 0) == "1500ms")
        }
    }
}

@Suite struct DecodingTests {
    @Test func decodingErrorNamesColumnAndBothTypes() async throws {
        try await withConnection { connection in
            let row = try connection.query("SELECT 'x'::text AS name, 42 AS n, now() AS at, NULL::int AS missing")[0]
            #expect(throws: PostgresError.self) { try row.decode(Int.self, column: "name") }
            do {
                _ = try row.decode(Int.self, column: "name")
            } catch let error as PostgresError {
                #expect(error.kind == .decoding)
                #expect(error.message == "column \"name\" of type text cannot be read as Int")
            }
            do {
                _ = try row.decode(String.self, column: "n")
            } catch let error as PostgresError {
                #expect(error.message == "column \"n\" of type integer cannot be read as String")
            }
            do {
                _ = try row.decode(Bool.self, column: "at")
            } catch let error as PostgresError {
                #expect(error.message == "column \"at\" of type timestamp with time zone cannot be read as Bool")
            }
            do {
                _ = try row.decode(Int.self, column: "missing")
            } catch let error as PostgresError {
                #expect(error.message == "column \"missing\" is NULL; read it as Int? to accept NULL")
            }
            do {
                _ = try row.decode(Int.self, column: "nope")
            } catch let error as PostgresError {
                #expect(error.message == "the result has no column \"nope\"; it has \"name\", \"n\", \"at\", \"missing\"")
            }
        }
    }

    @Test func int32OverflowIsAnErrorNotAWrap() async throws {
        try await withConnection { connection in
            let row = try connection.query("SELECT 3000000000::int8 AS big")[0]
            #expect(throws: PostgresError.self) { try row.decode(Int32.self, column: "big") }
        }
    }

    @Test func rowsReadAsJSON() async throws {
        try await withConnection { connection in
            let row = try connection.query("""
                SELECT 1::int2 AS small, 9223372036854775807::int8 AS big, 12.50::numeric(10,2) AS price,
                       123456789012345678901234567890.123456789::numeric AS huge, 'NaN'::numeric AS nan_numeric,
                       0.5::float8 AS half, 'Infinity'::float8 AS inf, true AS flag, 'txt' AS label,
                       '2026-03-01 00:00:00.25+00'::timestamptz AS at, '2026-03-01 12:00:00'::timestamp AS naive,
                       'infinity'::timestamptz AS forever, '2026-03-01'::date AS day,
                       '{"b": [1, {"c": null}], "a": "x"}'::jsonb AS doc, ARRAY[1, NULL, 3] AS ints,
                       ARRAY[['a', 'b'], ['c', 'd']] AS grid, ARRAY['2026-03-01 00:00:00+00'::timestamptz] AS times,
                       '00000000-0000-0000-0000-000000000001'::uuid AS id, NULL::text AS nothing, '1 day'::interval AS span
                """)[0]
            let object = row.jsonObject()
            let expected: JSONValue = [
                "small": 1, "big": .int(.max), "price": .decimal("12.50"),
                "huge": .decimal("123456789012345678901234567890.123456789"), "nan_numeric": "NaN",
                "half": 0.5, "inf": .double(.infinity), "flag": true, "label": "txt",
                "at": "2026-03-01T00:00:00.250000Z", "naive": "2026-03-01T12:00:00Z", "forever": "infinity", "day": "2026-03-01",
                "doc": ["a": "x", "b": [1, ["c": nil]]], "ints": [1, nil, 3], "grid": [["a", "b"], ["c", "d"]],
                "times": ["2026-03-01T00:00:00Z"], "id": "00000000-0000-0000-0000-000000000001", "nothing": nil,
                "span": "1 day",
            ]
            #expect(JSONValue.object(object) == expected)
            #expect(object.keys.first == "small")
            #expect(object.keys.last == "span")
            #expect(JSONValue.object(object).serialized().contains(#""huge":123456789012345678901234567890.123456789"#))
        }
    }

    @Test func jsonValueReadsAnyColumn() async throws {
        try await withConnection { connection in
            let row = try connection.query("SELECT 7 AS n, '[1,2]'::json AS j, NULL::jsonb AS absent")[0]
            #expect(try row.decode(JSONValue.self, column: "n") == 7)
            #expect(try row.decode(JSONValue.self, column: "j") == [1, 2])
            #expect(try row.decode(JSONValue?.self, column: "absent") == nil)
        }
    }
}

@Suite struct TransactionTests {
    struct Boom: Error, Equatable {}

    @Test func commitsOnReturnAndRollsBackOnThrowWithTheSameError() async throws {
        try await withSchemaConnection { connection in
            try connection.execute("CREATE TABLE t (v int)")
            try connection.withTransaction { tx in try tx.execute("INSERT INTO t VALUES (1)") }
            #expect(throws: Boom()) {
                try connection.withTransaction { tx in
                    try tx.execute("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            #expect(try connection.query("SELECT v FROM t").map { try $0.decode(Int.self, column: "v") } == [1])
            #expect(connection.isIdle)
        }
    }

    @Test func aSwallowedStatementErrorStillPreventsTheCommit() async throws {
        try await withSchemaConnection { connection in
            try connection.execute("CREATE TABLE t (v int PRIMARY KEY)")
            #expect(throws: PostgresError.self) {
                try connection.withTransaction { tx in
                    try tx.execute("INSERT INTO t VALUES (1)")
                    _ = try? tx.execute("INSERT INTO t VALUES (1)")  // fails, aborting the transaction
                }
            }
            #expect(try connection.query("SELECT v FROM t").count == 0)
            #expect(connection.isIdle)
        }
    }

    @Test func readOnlyTransactionRefusesWrites() async throws {
        try await withSchemaConnection { connection in
            try connection.execute("CREATE TABLE t (v int)")
            do {
                try connection.withTransaction(.readOnly(timeout: .seconds(5))) { tx in try tx.execute("INSERT INTO t VALUES (1)") }
                Issue.record("a read-only transaction wrote")
            } catch let error as PostgresError {
                #expect(error.sqlState == SQLState.readOnlySQLTransaction)
            }
            #expect(try connection.query("SELECT count(*) AS n FROM t")[0].decode(Int.self, column: "n") == 0)
        }
    }

    @Test func statementTimeoutCancelsALongQueryAndEndsWithTheTransaction() async throws {
        try await withConnection { connection in
            let stopwatch = Stopwatch()
            do {
                try connection.withTransaction(.readOnly(timeout: .milliseconds(200))) { tx in try tx.execute("SELECT pg_sleep(60)") }
                Issue.record("the sleep was not cancelled")
            } catch let error as PostgresError {
                #expect(error.isQueryCanceled)
            }
            #expect(stopwatch.elapsed < 30)  // well short of the minute the sleep would take
            // SET LOCAL: the timeout ended with the transaction.
            #expect(try connection.query("SHOW statement_timeout")[0].decode(String.self, at: 0) == "0")
        }
    }

    @Test func interruptEndsARunningStatementFromAnotherThreadAndTheServerStopsIt() async throws {
        let configuration = try TestDatabase.configuration
        try await onThread {
            let connection = try PostgresConnection.connect(configuration)
            let pid = connection.backendPID
            @Sendable func sleeping(_ observer: PostgresConnection) throws -> Bool {
                try observer.query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = \(pid) AND query LIKE 'SELECT pg_sleep%'")[0]
                    .decode(Int.self, column: "n") == 1
            }
            // Interrupted once the sleep is seen running: only the interrupt can end it early.
            let ended = LockedBox(false)
            let watcher = try PostgresConnection.connect(configuration)
            Thread.detachNewThread {
                while !ended.get() {
                    if (try? sleeping(watcher)) == true {
                        connection.interrupt()
                        return
                    }
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
            defer { ended.set(true) }
            let stopwatch = Stopwatch()
            do {
                try connection.execute("SELECT pg_sleep(60)")
                Issue.record("the sleep was not interrupted")
            } catch let error as PostgresError {
                #expect(error.kind == .connectionLost, "\(error)")
                #expect(error.message.contains("interrupted"), "\(error)")
            }
            #expect(stopwatch.elapsed < 30)
            #expect(!connection.isConnected)
            // The server notices its client has gone (client_connection_check_interval, 1 s) and
            // ends the statement: nothing runs on for the minute it asked for.
            let observer = try PostgresConnection.connect(configuration)
            #expect(eventually(timeout: 20) { (try? sleeping(observer)) == false }, "the server still runs the sleep")
        }
    }
}
