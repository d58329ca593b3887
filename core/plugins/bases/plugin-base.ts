import type { Logger } from "../../logging/logger.js";
import type { Clock } from "../../time/clock.js";
import { Lifecycle, type FactoryState } from "../lifecycle.js";
import type { PluginContext } from "../plugin-context.js";
import type { ProtocolFactory } from "../protocol-factory.js";

/**
 * What every base class shares: the plugin's context (config, logger, clock) and an idempotent
 * start/stop with one name per state. Subclasses pass their work to `lifecycle.start()`/`stop()`.
 */
export abstract class PluginBase<C> implements ProtocolFactory {
  protected readonly lifecycle = new Lifecycle();

  constructor(protected readonly ctx: PluginContext<C>) {}

  protected get config(): C {
    return this.ctx.config;
  }

  protected get logger(): Logger {
    return this.ctx.logger;
  }

  protected get clock(): Clock {
    return this.ctx.clock;
  }

  get state(): FactoryState {
    return this.lifecycle.state;
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
}
