/** The public surface of Portico's core: the only module plugins import. */
import "reflect-metadata";

export { Portal, type PortalOptions } from "./portal.js";
export { resolvePortalConfig, DEFAULT_CONFIG, type PortalConfig, type LimitsConfig, type LinkConfig, type MessagesConfig, type ListenerConfig } from "./config/portal-config.js";
export { ErrorCodes, type ErrorCode } from "./errors/error-codes.js";
export { PortalError, errorMessage } from "./errors/portal-error.js";
export { JsonLineLogger, type Logger, type LogFields, type LogLevel } from "./logging/logger.js";
export { systemClock, type Clock, type TimerHandle } from "./time/clock.js";
export { Backoff, type BackoffPolicy } from "./time/backoff.js";
export { cmd, normalizeOutput, prepareTuples, isCommandTuple, type CommandTuple, type Kwargs, type OutputSpec } from "./messages/command-tuple.js";
export { PortalSession, decodeInput, INVALID_ENCODING_MESSAGE } from "./sessions/portal-session.js";
export type { SessionPort } from "./sessions/session-port.js";
export { PortalSessionHandler } from "./sessions/portal-session-handler.js";
export { defaultProtocolFlags, SYNC_KEYS, CONNECT_SYNC_KEYS, type SyncData, type ConnectSyncData, type SessionId, type ProtocolFlags } from "./sessions/session-data.js";
export { definePlugin, PORTAL_API_VERSION, type PluginManifest, type PluginDirection } from "./plugins/plugin-manifest.js";
export type { ProtocolFactory } from "./plugins/protocol-factory.js";
export { PluginRegistry } from "./plugins/plugin-registry.js";
export { PROTOCOL_CONFIG, SESSION_PORT, LOGGER, CLOCK, PORTAL_INFO, PLUGIN_CONTROL, type PortalInfo, type PluginControl } from "./tokens.js";
export { LINK_VERSION, type GameToPortal, type PortalToGame, type RestartMode, type StopMode } from "./link/link-messages.js";
export { parsePluginConfig } from "./plugins/plugin-config.js";
export { z } from "zod";
export { listenOrFail, type ListenAddress } from "./net/listen-or-fail.js";
export { inject, injectable } from "tsyringe";
export * from "./render/index.js";
