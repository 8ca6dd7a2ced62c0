import Postgres

/// Kairos's tables, as migrations applied at boot (``Migrator``); append new steps, never edit
/// an applied one.
public enum KairosSchema {
    /// Kairos's own tables, which no `$filter` may read (see ``FilterPolicy``).
    public static let tableNames: Set<String> = [
        "jobs", "runs", "flows", "deliveries", "service_state", "schema_migrations",
        // Their sequences, whose values tell how busy the service is.
        "runs_id_seq", "flows_id_seq",
    ]

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
        Migration(version: 2, name: "jobs, runs and flows", sql: """
            -- A job and its schedule. The trigger is start_at (+ k * interval_us when periodic);
            -- requested_when keeps the `when` as given, so a default job reloaded at boot can
            -- tell whether its trigger changed. next_run_time is NULL unless state = 'running'.
            CREATE TABLE jobs (
                job_id text PRIMARY KEY CHECK (job_id <> ''),
                handler text NOT NULL,
                kwargs jsonb NOT NULL,
                requested_when timestamptz,
                start_at timestamptz NOT NULL,
                interval_us bigint CHECK (interval_us > 0),
                misfire_grace_us bigint CHECK (misfire_grace_us >= 0),
                state text NOT NULL CHECK (state IN ('running', 'paused', 'finished')),
                next_run_time timestamptz CHECK (next_run_time IS NULL OR state = 'running'),
                origin text NOT NULL CHECK (origin IN ('api', 'default_jobs', 'failure')),
                created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
            );
            -- The scheduler's "what is due" and "when to wake" both read this index.
            CREATE INDEX jobs_due ON jobs (next_run_time) WHERE state = 'running';

            -- One row per firing: a job's scheduled time, run, missed or skipped. Earlier run
            -- times that coalesced into this one are counted, so every slot is accounted for.
            CREATE TABLE runs (
                id bigserial PRIMARY KEY,
                job_id text NOT NULL REFERENCES jobs ON DELETE CASCADE,
                scheduled_for timestamptz NOT NULL,
                coalesced_slots bigint NOT NULL DEFAULT 0 CHECK (coalesced_slots >= 0),
                cause text NOT NULL CHECK (cause IN ('schedule', 'manual')),
                outcome text NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'missed', 'skipped')),
                claimed_at timestamptz NOT NULL,
                started_at timestamptz,
                finished_at timestamptz,
                flows_posted integer NOT NULL DEFAULT 0,
                error text,
                result jsonb,
                UNIQUE (job_id, scheduled_for)
            );

            -- Units of work for external workers. A firing's identity (job_id, scheduled_for)
            -- plus the position in its fan-out is unique: no retry can post a flow twice.
            -- No foreign key: flows outlive the job that posted them.
            CREATE TABLE flows (
                id bigserial PRIMARY KEY,
                flow_name text NOT NULL,
                arguments jsonb NOT NULL,
                task_names jsonb,
                run_subsequent boolean NOT NULL DEFAULT false,
                job_id text NOT NULL,
                scheduled_for timestamptz NOT NULL,
                position integer NOT NULL,
                created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                state text NOT NULL DEFAULT 'unclaimed'
                    CHECK (state IN ('unclaimed', 'claimed', 'completed', 'failed', 'abandoned', 'trashed')),
                UNIQUE (job_id, scheduled_for, position)
            );
            CREATE INDEX flows_by_state ON flows (state, id);
            """),
        Migration(version: 3, name: "runs hold only what is recorded", sql: """
            -- Nothing ever wrote runs.result, and no firing records 'running' or 'skipped':
            -- the column and the two outcomes go until something needs them.
            ALTER TABLE runs DROP COLUMN result;
            ALTER TABLE runs DROP CONSTRAINT runs_outcome_check;
            ALTER TABLE runs ADD CONSTRAINT runs_outcome_check CHECK (outcome IN ('succeeded', 'failed', 'missed'));
            """),
        Migration(version: 4, name: "kwargs and flow arguments keep their key order", sql: """
            -- jsonb normalises a document (its keys sorted by length, then bytes); json keeps the
            -- text as the client sent it, so the API and workers see kwargs and arguments in the
            -- order they were written. Rows stored before keep jsonb's order.
            ALTER TABLE jobs ALTER COLUMN kwargs TYPE json USING kwargs::json;
            ALTER TABLE flows ALTER COLUMN arguments TYPE json USING arguments::json;
            """),
        Migration(version: 5, name: "the flow board: leases, attempts and priorities", sql: """
            -- A flow's lease as FlowLease decides it; the database only stores it. Priority 0 is
            -- very_high, 4 very_low. last_verb, last_token and last_outcome are the call that ended
            -- the last lease and where it left the flow, so that its repeat gets the same answer.
            -- available_at is added without a default, filled, then given one: one table rewrite.
            ALTER TABLE flows
                ADD COLUMN priority smallint NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 4),
                ADD COLUMN available_at timestamptz,
                ADD COLUMN attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
                ADD COLUMN max_attempts integer NOT NULL DEFAULT 1 CHECK (max_attempts >= 1),
                ADD COLUMN retry_delay_us bigint NOT NULL DEFAULT 10000000 CHECK (retry_delay_us >= 0),
                ADD COLUMN holder text,
                ADD COLUMN lease_token text,
                ADD COLUMN lease_expires_at timestamptz,
                ADD COLUMN lease_us bigint CHECK (lease_us > 0),
                ADD COLUMN last_verb text CHECK (last_verb IN ('complete', 'fail', 'abandon', 'trash')),
                ADD COLUMN last_token text,
                ADD COLUMN last_outcome text CHECK (last_outcome IN ('unclaimed', 'claimed', 'completed', 'failed', 'trashed')),
                ADD COLUMN progress double precision CHECK (progress BETWEEN 0 AND 1),
                ADD COLUMN details json,
                ADD COLUMN result json,
                ADD COLUMN error text;
            UPDATE flows SET available_at = created_at;
            ALTER TABLE flows ALTER COLUMN available_at SET DEFAULT clock_timestamp(),
                ALTER COLUMN available_at SET NOT NULL;
            -- Nothing ever stored 'abandoned': an abandoned flow is unclaimed again.
            ALTER TABLE flows DROP CONSTRAINT flows_state_check;
            ALTER TABLE flows ADD CONSTRAINT flows_state_check
                CHECK (state IN ('unclaimed', 'claimed', 'completed', 'failed', 'trashed'));
            ALTER TABLE flows ADD CONSTRAINT flows_claimed_holds_a_lease
                CHECK ((state = 'claimed') = (holder IS NOT NULL AND lease_token IS NOT NULL AND lease_expires_at IS NOT NULL
                                              AND lease_us IS NOT NULL));
            -- A claim reads these two in order, however many flows are in final states.
            CREATE INDEX flows_claimable ON flows (priority, available_at, id) WHERE state = 'unclaimed';
            CREATE INDEX flows_leases ON flows (lease_expires_at, id) WHERE state = 'claimed';
            """),
        Migration(version: 6, name: "runs follow their flows; a job's work policy", sql: """
            -- The job keys the board and the overlap policies read (priority 0 is very_high).
            ALTER TABLE jobs
                ADD COLUMN priority smallint NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 4),
                ADD COLUMN max_attempts integer NOT NULL DEFAULT 1 CHECK (max_attempts BETWEEN 1 AND 100),
                ADD COLUMN retry_delay_us bigint NOT NULL DEFAULT 10000000 CHECK (retry_delay_us >= 0),
                ADD COLUMN overlap text NOT NULL DEFAULT 'allow_all'
                    CHECK (overlap IN ('allow_all', 'skip', 'buffer_one', 'cancel_other'));

            -- outcome is what the firing did; status where its work stands, following its flows.
            -- finished_at is when the status became final (NULL while pending or buffered).
            ALTER TABLE runs DROP CONSTRAINT runs_outcome_check;
            ALTER TABLE runs ADD CONSTRAINT runs_outcome_check
                CHECK (outcome IN ('succeeded', 'failed', 'missed', 'skipped', 'buffered'));
            ALTER TABLE runs ADD COLUMN status text;
            UPDATE runs SET status = CASE outcome WHEN 'succeeded' THEN 'succeeded' ELSE outcome END;
            UPDATE runs SET status = 'pending', finished_at = NULL
            WHERE status = 'succeeded' AND EXISTS (
                SELECT 1 FROM flows f WHERE f.job_id = runs.job_id AND f.scheduled_for = runs.scheduled_for
                                        AND f.state IN ('unclaimed', 'claimed'));
            UPDATE runs SET status = 'failed'
            WHERE status = 'succeeded' AND EXISTS (
                SELECT 1 FROM flows f WHERE f.job_id = runs.job_id AND f.scheduled_for = runs.scheduled_for AND f.state = 'failed');
            UPDATE runs SET status = 'cancelled'
            WHERE status = 'succeeded' AND EXISTS (
                SELECT 1 FROM flows f WHERE f.job_id = runs.job_id AND f.scheduled_for = runs.scheduled_for AND f.state = 'trashed');
            ALTER TABLE runs ALTER COLUMN status SET NOT NULL,
                ADD CONSTRAINT runs_status_check
                    CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled', 'missed', 'skipped', 'buffered')),
                ADD CONSTRAINT runs_finished_when_final
                    CHECK ((status IN ('pending', 'buffered')) = (finished_at IS NULL));

            -- Runs not final yet, for settling them and for buffered firings; and a job's
            -- unfinished flows, for "is its previous work done?": both small, however many
            -- runs and flows are final. With id last, a firing's flows are one key each, not one
            -- posting list: entries of flows that ended are then skipped without a heap visit, and
            -- a look from the newest end finds an unfinished one at once.
            CREATE INDEX runs_open ON runs (job_id, scheduled_for) WHERE status IN ('pending', 'buffered');
            CREATE INDEX flows_open ON flows (job_id, scheduled_for, id) WHERE state IN ('unclaimed', 'claimed');
            """),
        Migration(version: 7, name: "deliveries: outside work, at least once", sql: """
            -- A run's outside work (a webhook call), recorded in the firing's transaction and
            -- carried out after it commits, under a lease: 'due' waits for due_at (its first
            -- attempt, or a retry's time); 'delivering' is leased to a process until due_at, after
            -- which any process takes it up again. request is what the firing decided to send
            -- (never the secret, which is read from the job at each attempt); attempts, what
            -- each attempt met.
            CREATE TABLE deliveries (
                run_id bigint PRIMARY KEY REFERENCES runs ON DELETE CASCADE,
                job_id text NOT NULL,
                scheduled_for timestamptz NOT NULL,
                state text NOT NULL CHECK (state IN ('due', 'delivering', 'succeeded', 'failed', 'cancelled')),
                request jsonb NOT NULL,
                max_attempts integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
                attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
                due_at timestamptz,
                lease_token uuid,
                attempts jsonb NOT NULL DEFAULT '[]',
                CHECK ((state IN ('due', 'delivering')) = (due_at IS NOT NULL)),
                CHECK ((state = 'delivering') = (lease_token IS NOT NULL))
            );
            CREATE INDEX deliveries_due ON deliveries (due_at) WHERE state IN ('due', 'delivering');
            CREATE INDEX deliveries_open ON deliveries (job_id) WHERE state IN ('due', 'delivering');
            """),
        Migration(version: 8, name: "cron schedules in time zones", sql: """
            -- A cron job's trigger is cron_expression read in cron_zone (an IANA name), not
            -- before start_at; it has no interval.
            ALTER TABLE jobs
                ADD COLUMN cron_expression text,
                ADD COLUMN cron_zone text,
                ADD CHECK ((cron_expression IS NULL) = (cron_zone IS NULL)),
                ADD CHECK (cron_expression IS NULL OR interval_us IS NULL);
            """),
        Migration(version: 9, name: "backfilled runs", sql: """
            -- POST /jobs/{id}/backfill records its runs as such, beside the schedule's and run-now's.
            ALTER TABLE runs DROP CONSTRAINT runs_cause_check,
                ADD CONSTRAINT runs_cause_check CHECK (cause IN ('schedule', 'manual', 'backfill'));
            """),
        Migration(version: 10, name: "schedule bounds, max runs and jitter", sql: """
            -- Slots outside start_date..end_date do not fire; after max_runs firings carried out
            -- (runs_fired) the job is finished; jitter_us moves each slot later by an offset fixed
            -- per job and slot (computed by Kairos, stored nowhere).
            ALTER TABLE jobs
                ADD COLUMN start_date timestamptz,
                ADD COLUMN end_date timestamptz,
                ADD COLUMN max_runs integer CHECK (max_runs >= 1),
                ADD COLUMN jitter_us bigint CHECK (jitter_us >= 0),
                ADD COLUMN runs_fired bigint NOT NULL DEFAULT 0,
                ADD CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date);
            """),
        Migration(version: 11, name: "retention finds old rows by time", sql: """
            -- KAIROS_RETAIN: final runs by when they ended, final flows by when they were posted,
            -- failure records by when they were written. Partial, so rows still under way (and
            -- every other job) cost these indexes nothing.
            CREATE INDEX runs_finished ON runs (finished_at) WHERE finished_at IS NOT NULL;
            CREATE INDEX flows_final ON flows (created_at) WHERE state IN ('completed', 'failed', 'trashed');
            CREATE INDEX jobs_failure_records ON jobs (created_at) WHERE origin = 'failure';
            """),
        Migration(version: 12, name: "jobs found by id prefix", sql: """
            -- GET /jobs?prefix=: ids compared byte by byte, so a prefix is one range of this
            -- index whatever collation the database sorts text by.
            CREATE INDEX jobs_id_bytes ON jobs (job_id COLLATE "C");
            """),
        Migration(version: 13, name: "buffered firings found by their slot", sql: """
            -- The scheduler looks for buffered firings (`buffer_one`) to carry out between bursts,
            -- oldest slot first. Through `runs_open` that read every open run: with 700,000 runs
            -- pending (flows nobody has claimed yet) it took 100-300 ms, on every turn of the
            -- scheduler's loop, and the firings fell behind. There is at most one per job.
            CREATE INDEX runs_buffered ON runs (scheduled_for, id) WHERE status = 'buffered';
            """),
    ]
}
