/**
 * Portico's plugin test kit (`portico/testing`): a portal without a process (PluginTestBed with a
 * scripted FakeGame on an in-memory link), a fake clock, socket drivers, wait helpers, a handle
 * leak check, and the plugin contract suite every plugin runs against itself.
 */
import "reflect-metadata";
export { PluginTestBed, type TestBedOptions, type LaunchedPlugin } from "./plugin-test-bed.js";
export { FakeGame, type GameInput } from "./fake-game.js";
export { runPluginContractSuite, lineTcpPeer, linesPeer, type ContractPeer, type ContractSuiteOptions, type PeerConnection } from "./contract-suite.js";
export { FakeClock } from "./fake-clock.js";
export { TrackingClock } from "./tracking-clock.js";
export { RecordingSession } from "./recording-session.js";
export { MemoryChannel } from "./memory-channel.js";
export { MemoryLogger, type LogEntry } from "./memory-logger.js";
export { LineClient } from "./line-client.js";
export { collectLines } from "./collect-lines.js";
export { waitFor, waitForLine, sleep } from "./wait-for.js";
export { openHandles, newHandles, expectNoNewHandles } from "./open-handles.js";
