import Foundation
import Postgres
import SQLBuilding
import TestSupport
import Testing

@Suite struct ListenerTests {
    @Test func deliversNotificationsAndReconnectsAfterConnectionLoss() async throws {
        var configuration = try TestDatabase.configuration
        let name = "listener-test-\(UUID().uuidString.prefix(8))"
        configuration.connectionString = try TestDatabase.connectionString(changing: ["application_name": name])
        let channel = "kairos_test_\(UUID().uuidString.prefix(8).lowercased())"
        let events = Arrivals<PostgresListener.Event>()
        let listener = try PostgresListener(configuration, channels: [channel], queue: DispatchQueue(label: "test")) { event in
            events.append(event)
        }
        listener.start()
        defer { listener.stop() }

        try await onThread {
            let sender = try PostgresConnection.connect(TestDatabase.configuration)
            #expect(events.wait { if case .connected(isReconnect: false) = $0 { true } else { false } } != nil)

            try sender.execute("SELECT pg_notify(\(channel), \("hello"))")
            let first = events.wait { if case .notification(let note) = $0 { note.payload == "hello" } else { false } }
            guard case .notification(let note)? = first else {
                Issue.record("no notification arrived")
                return
            }
            #expect(note.channel == channel)
            #expect(note.senderPID == sender.backendPID)

            // Kill the listener's backend: it must notice, reconnect and LISTEN again.
            try sender.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = \(name)")
            #expect(events.wait { if case .disconnected = $0 { true } else { false } } != nil)
            #expect(events.wait { if case .connected(isReconnect: true) = $0 { true } else { false } } != nil)

            try sender.execute("SELECT pg_notify(\(channel), \("after reconnect"))")
            #expect(events.wait { if case .notification(let note) = $0 { note.payload == "after reconnect" } else { false } } != nil)
        }
    }

    @Test func ignoresOtherChannelsAndStopsDelivering() async throws {
        let channel = "kairos_test_\(UUID().uuidString.prefix(8).lowercased())"
        let events = Arrivals<PostgresListener.Event>()
        let listener = try PostgresListener(try TestDatabase.configuration, channels: [channel], queue: DispatchQueue(label: "test")) {
            events.append($0)
        }
        listener.start()
        try await onThread {
            let sender = try PostgresConnection.connect(TestDatabase.configuration)
            #expect(events.wait { if case .connected = $0 { true } else { false } } != nil)
            try sender.execute("SELECT pg_notify(\("some_other_channel"), \("noise"))")
            try sender.execute("SELECT pg_notify(\(channel), \("mine"))")
            #expect(events.wait { if case .notification(let note) = $0 { note.payload == "mine" } else { false } } != nil)
            let notes = events.all.compactMap { if case .notification(let note) = $0 { note } else { nil } }
            #expect(notes.map(\.payload) == ["mine"])

            listener.stop()
            try sender.execute("SELECT pg_notify(\(channel), \("after stop"))")
            #expect(events.wait(timeout: 0.3) { if case .notification(let note) = $0 { note.payload == "after stop" } else { false } } == nil)
        }
    }

    @Test func invalidChannelNameIsRefused() throws {
        #expect(throws: SQLIdentifierError.self) {
            _ = try PostgresListener(PostgresConfiguration(""), channels: ["bad; channel"], queue: .main) { _ in }
        }
    }
}
