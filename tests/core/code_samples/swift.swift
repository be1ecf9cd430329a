import Foundation

let defaultTimeout: TimeInterval = 30

final class Stopwatch {
    private var started: Date?
    private(set) var laps: [TimeInterval] = []

    func start() {
        started = Date()
        laps.removeAll()
        print("stopwatch started")
    }

    func lap() -> TimeInterval? {
        guard let started = started else {
            return nil
        }
        let elapsed = Date().timeIntervalSince(started)
        laps.append(elapsed)
        return elapsed
    }
}
