import Postgres
import SQLBuilding

extension ServiceState: PostgresTextEnum {}

/// The `service_state` table: one row, whether the whole service fires jobs.
enum ServiceStateTable {
    static let serviceStateSelect: SQL = "SELECT state FROM service_state"

    static func decode(_ row: PostgresRow) throws -> ServiceState {
        try row.decode(ServiceState.self, column: "state")
    }

    static func serviceStateUpdate(_ state: ServiceState) -> SQL {
        "UPDATE service_state SET state = \(state), updated_at = clock_timestamp()"
    }
}
