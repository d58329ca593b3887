/** The game-side SDK: what a Node game imports to talk to the portal. */
export { GameSessionHandler, type GameCallbacks, type GameSessionHandlerOptions, type PortalView } from "./game-session-handler.js";
export { TcpGameTransport, TCP_PORTAL, type GameTransport, type GameTransportEvents } from "./game-transport.js";
export { NatsGameTransport, type NatsGameTransportOptions } from "./nats-game-transport.js";
export { natsCredentials, type NatsCredentials } from "../config/nats-credentials.js";
export { GameSession } from "./game-session.js";
export { GameLinkClient, GAME_RECONNECT, type GameLinkOptions } from "./game-link-client.js";
export { readLinkSecret } from "../state/data-dir.js";
export type { RestartMode, StopMode } from "../link/link-messages.js";
export type { CommandTuple, Kwargs, OutputSpec } from "../messages/command-tuple.js";
export type { Logger, LogFields } from "../logging/logger.js";
export { ErrorCodes, type ErrorCode } from "../errors/error-codes.js";
export { PortalError } from "../errors/portal-error.js";
