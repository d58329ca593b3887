import type * as z from "zod";
import { parseWithSchema } from "../config/schema-errors.js";
import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";

/**
 * Validates a plugin's raw config with its zod schema and fills the defaults. The first problem
 * throws PORTAL_ERR_PLUGIN_CONFIG `<path> config "<key>": <problem>`, e.g.
 * `plugins.telnet.TelnetFactory config "tls.certFile": missing, expected a string`.
 */
export function parsePluginConfig<S extends z.ZodType>(path: string, schema: S, raw: unknown): z.output<S> {
  return parseWithSchema(schema, raw, (key, problem) => {
    throw new PortalError(ErrorCodes.PLUGIN_CONFIG, `${path} config "${key}": ${problem}`, { plugin: path, field: key });
  });
}
