import Postgres

/// Kairos's tables, as migrations applied at boot (``Migrator``); append new steps, never edit
/// an applied one.
public enum KairosSchema {
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "service state", sql: """
            -- One row: whether the whole service fires jobs. Pausing it keeps every job's
            -- next_run_time, so on resume the misfire rules decide what the pause cost.
            CREATE TABLE service_state (
                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                state text NOT NULL CHECK (state IN ('running', 'paused')),
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            INSERT INTO service_state (state) VALUES ('running');
            """),
    ]
}
