import API
import Foundation
import JSON
import Logging
import TestSupport
import Testing

@Suite struct JSONLogTests {
    @Test func eachEventIsOneJSONObjectWithTimeLevelMessageAndMetadata() throws {
        let lines = LockedBox<[String]>([])
        var logger = Logger(label: "kairos.test") { label in
            JSONLogHandler(label: label, level: .debug) { line in lines.update { $0.append(line) } }
        }
        logger[metadataKey: "component"] = "scheduler"
        logger.info("job fired", metadata: ["job.id": "nightly", "request.id": "r-1", "message": "not the message"])
        logger.trace("below the level")
        logger.error("a \"quoted\"\nmultiline message")
        let written = lines.get()
        #expect(written.count == 2)
        #expect(written.allSatisfy { !$0.contains("\n") })
        let first = try JSONValue(parsing: Array(written[0].utf8))
        #expect(first["level"] == "info")
        #expect(first["message"] == "job fired")
        #expect(first["logger"] == "kairos.test")
        #expect(first["job_id"] == "nightly")
        #expect(first["request_id"] == "r-1")
        #expect(first["component"] == "scheduler")
        let time = try #require(first["time"]?.stringValue)
        #expect(time.count == 24 && time.hasSuffix("Z") && time.dropFirst(19).hasPrefix("."), "\(time)")
        #expect(try JSONValue(parsing: Array(written[1].utf8))["message"] == "a \"quoted\"\nmultiline message")
    }

    @Test func numbersGivenAsNumbersAreJSONNumbers() throws {
        let lines = LockedBox<[String]>([])
        let logger = Logger(label: "kairos.test") { label in
            JSONLogHandler(label: label, level: .info) { line in lines.update { $0.append(line) } }
        }
        logger.info("GET / 200", metadata: ["status": .stringConvertible(200), "latency_ms": .stringConvertible(0.412), "path": "/"])
        let line = try JSONValue(parsing: Array(lines.get()[0].utf8))
        #expect(line["status"] == .int(200))
        #expect(line["latency_ms"] == .double(0.412))
        #expect(line["path"] == "/")
    }
}
