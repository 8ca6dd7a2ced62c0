import Postgres
import SQLBuilding

/// fabric8's analysis tables, cut down but with their real column types, and a small catalogue
/// whose rows the `$filter` tests query: three ecosystems, seven packages, fourteen versions,
/// analyses finished and not, worker results with and without errors.
public enum FilterFixture {
    /// Creates the tables in the connection's schema and fills them.
    public static func create(on connection: PostgresConnection) throws {
        try connection.executeScript(SQL(unsafeUnchecked: schema + rows))
    }

    static let schema = """
        CREATE TABLE ecosystems (id serial PRIMARY KEY, name text NOT NULL UNIQUE, url text, backend integer NOT NULL DEFAULT 0);
        CREATE TABLE packages (
            id serial PRIMARY KEY, ecosystem_id integer NOT NULL REFERENCES ecosystems, name text NOT NULL,
            UNIQUE (ecosystem_id, name));
        CREATE TABLE versions (
            id serial PRIMARY KEY, package_id integer NOT NULL REFERENCES packages, identifier text NOT NULL,
            synced2graph boolean NOT NULL DEFAULT false, UNIQUE (package_id, identifier));
        CREATE TABLE analyses (
            id serial PRIMARY KEY, version_id integer REFERENCES versions, started_at timestamptz, finished_at timestamptz,
            access_count integer NOT NULL DEFAULT 0, audit jsonb, release text, score numeric(6,3), tags text[]);
        CREATE TABLE worker_results (
            id serial PRIMARY KEY, worker text NOT NULL, worker_id text, analysis_id integer REFERENCES analyses,
            task_result jsonb, error boolean NOT NULL DEFAULT false, external_request_id text);

        """

    static let rows = """
        INSERT INTO ecosystems (id, name, url, backend) VALUES
            (1, 'npm', 'https://registry.npmjs.org/', 2), (2, 'maven', 'https://repo1.maven.org/maven2/', 3),
            (3, 'pypi', 'https://pypi.python.org/', 0);
        INSERT INTO packages (id, ecosystem_id, name) VALUES
            (1, 1, 'serve-static'), (2, 1, 'express'), (3, 1, 'lodash'), (4, 2, 'junit:junit'),
            (5, 2, 'com.google.guava:guava'), (6, 3, 'requests'), (7, 3, 'flask');
        INSERT INTO versions (id, package_id, identifier, synced2graph) VALUES
            (1, 1, '1.7.1', true), (2, 1, '1.10.0', false), (3, 2, '4.14.0', true), (4, 2, '4.15.2', false),
            (5, 3, '4.17.4', true), (6, 4, '4.12', true), (7, 4, '4.11', false), (8, 5, '19.0', false),
            (9, 5, '22.0', true), (10, 6, '2.13.0', false), (11, 6, '2.18.1', true), (12, 7, '0.12', false),
            (13, 7, '1.0', true), (14, 3, '4.17.5', false);
        INSERT INTO analyses (id, version_id, started_at, finished_at, access_count, audit, release, score, tags) VALUES
            (1, 1, '2017-03-30 10:00:00+00', '2017-03-30 10:05:00+00', 3, '{"version": "v1"}', 'npm:serve-static:1.7.1', 1.500, '{a,b}'),
            (2, 1, '2017-04-02 08:00:00+00', NULL, 0, NULL, 'npm:serve-static:1.7.1', NULL, NULL),
            (3, 2, '2017-04-01 19:00:00+00', NULL, 1, NULL, 'npm:serve-static:1.10.0', 0.250, '{}'),
            (4, 3, '2017-04-01 21:00:00+00', '2017-04-01 21:10:00+00', 7, '{"version": "v1", "ended": true}', 'npm:express:4.14.0', 99.999, '{x}'),
            (5, 4, '2017-04-03 12:00:00+00', NULL, 0, NULL, 'npm:express:4.15.2', NULL, NULL),
            (6, 4, '2017-04-05 12:00:00+00', '2017-04-05 12:30:00+00', 2, '{}', 'npm:express:4.15.2', 3.000, NULL),
            (7, 6, '2017-02-01 00:00:00+00', '2017-02-01 00:01:00+00', 9, NULL, 'maven:junit:junit:4.12', 2.000, NULL),
            (8, 7, '2017-04-10 09:30:00+00', NULL, 0, NULL, 'maven:junit:junit:4.11', NULL, NULL),
            (9, 8, '2017-04-01 20:00:00+00', NULL, 0, NULL, 'maven:com.google.guava:guava:19.0', NULL, NULL),
            (10, 9, '2017-04-01 20:00:01+00', '2017-04-01 20:30:00+00', 4, NULL, 'maven:com.google.guava:guava:22.0', 5.125, NULL),
            (11, 10, '2017-05-01 00:00:00+00', NULL, 0, NULL, 'pypi:requests:2.13.0', NULL, NULL),
            (12, 11, '2017-03-01 00:00:00+00', '2017-03-01 01:00:00+00', 1, NULL, 'pypi:requests:2.18.1', 0.001, NULL),
            (13, 12, NULL, NULL, 0, NULL, 'pypi:flask:0.12', NULL, NULL),
            (14, 13, '2017-04-20 00:00:00+00', NULL, 0, NULL, 'pypi:flask:1.0', NULL, NULL),
            (15, 11, '2017-04-21 00:00:00+00', '2017-04-21 00:30:00+00', 0, NULL, 'pypi:requests:2.18.1', NULL, NULL);
        INSERT INTO worker_results (id, worker, worker_id, analysis_id, task_result, error, external_request_id) VALUES
            (1, 'metadata', 'w1', 1, '{"status": "success"}', false, 'r1'),
            (2, 'security_issues', 'w2', 1, '{"status": "error"}', true, 'r1'),
            (3, 'metadata', 'w1', 4, '{"status": "success"}', false, NULL),
            (4, 'digests', 'w3', 4, '{"status": "error", "summary": ["timeout"]}', true, NULL),
            (5, 'source_licenses', 'w3', 7, '{"status": "error"}', true, 'r7'),
            (6, 'metadata', 'w1', 10, '{"status": "success"}', false, NULL),
            (7, 'digests', 'w1', 12, '{"status": "error"}', true, NULL),
            (8, 'code_metrics', 'w2', 6, NULL, false, NULL),
            (9, 'security_issues', 'w2', 4, '{"status": "error"}', true, NULL);
        SELECT setval('ecosystems_id_seq', 3), setval('packages_id_seq', 7), setval('versions_id_seq', 14),
               setval('analyses_id_seq', 15), setval('worker_results_id_seq', 9);

        """

    /// fabric8's largest filter: versions with an unfinished analysis and no finished one started
    /// after it, with their package and ecosystem (on the fixture: seven rows, express 4.15.2 left out).
    public static let unfinishedWithoutNewerFinished = #"""
        {"force": true,
         "$filter": {"joins": [{"on": {"A.version_id": "versions.id"}, "type": "left", "table": "versions"},
                               {"on": {"versions.package_id": "packages.id"}, "type": "left", "table": "packages"},
                               {"on": {"packages.ecosystem_id": "ecosystems.id"}, "type": "left", "table": "ecosystems"}],
                     "select": ["versions.identifier as version", "packages.name as name", "ecosystems.name as ecosystem"],
                     "table": "analyses AS A", "distinct": true,
                     "where": {"A.finished_at is": null,
                               "versions.id not in": {"$filter": {
                                   "joins": [{"on": {"analyses.version_id": "versions.id"}, "type": "left", "table": "versions"}],
                                   "table": "analyses", "select": "versions.id",
                                   "where": {"analyses.finished_at is not": null, "analyses.started_at >": "$A.started_at"}}}}}}
        """#

    /// The tables, for an allowlist or a random filter to pick from.
    public static let tables = ["ecosystems", "packages", "versions", "analyses", "worker_results"]
}
