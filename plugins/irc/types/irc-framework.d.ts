// Ambient declarations for the parts of irc-framework 4.14 Portico uses (the package ships no types).
declare module "irc-framework" {
  import { EventEmitter } from "node:events";

  export interface ConnectOptions {
    host: string;
    port: number;
    nick: string;
    username?: string;
    gecos?: string;
    tls?: boolean;
    rejectUnauthorized?: boolean;
    password?: string;
    account?: { account: string; password: string } | Record<string, never>;
    auto_reconnect?: boolean;
    auto_reconnect_max_retries?: number;
    ping_interval?: number;
    ping_timeout?: number;
    message_max_length?: number;
    sasl_disconnect_on_fail?: boolean;
    version?: string | null;
    encoding?: string;
  }

  export interface MessageEvent {
    nick: string;
    ident?: string;
    hostname?: string;
    target: string;
    message: string;
    type?: string;
    from_server?: boolean;
  }

  export interface UserlistEvent {
    channel: string;
    users: { nick: string; modes: string[] }[];
  }

  export class Client extends EventEmitter {
    constructor(options?: Partial<ConnectOptions>);
    connect(options?: ConnectOptions): void;
    quit(message?: string): void;
    raw(...args: string[]): void;
    join(channel: string, key?: string): void;
    changeNick(nick: string): void;
    ping(message?: string): void;
    connected: boolean;
    user: { nick: string; username: string; host: string };
    network: { options: Record<string, unknown>; name?: string; supports(feature: string): unknown };
    connection: { end(message?: string): void; connected: boolean; transport?: { socket?: { destroy(): void; readonly bytesRead: number; readonly bytesWritten: number; readonly destroyed: boolean } } };
    /** Internal: routes each parsed server line to its handler (wrapped by Portico to drop malformed lines). */
    command_handler: {
      dispatch(message: { command: string; params: string[]; nick?: string }): void;
      /** Internal: replies being collected until their end numeric (NAMES, WHOIS, WHO, MOTD, lists, batches), by key. */
      _caches: Record<string, unknown>;
      resetCache(): void;
    };
  }

  const irc: { Client: typeof Client };
  export default irc;
}
