/** Test helpers for core and plugin authors (the fuller plugin test kit builds on these). */
export { FakeClock } from "./fake-clock.js";
export { RecordingSession } from "./recording-session.js";
export { MemoryChannel } from "./memory-channel.js";
export { MemoryLogger, type LogEntry } from "./memory-logger.js";
