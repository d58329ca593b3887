import { ErrorCodes } from "../errors/error-codes.js";
import { PortalError } from "../errors/portal-error.js";
import { checkManifest, type PluginManifest } from "./plugin-manifest.js";

/** Manifests by dotted path; every registration is checked. */
export class PluginRegistry {
  private readonly byPath = new Map<string, PluginManifest>();

  register(candidate: unknown, where = "registration"): PluginManifest {
    const manifest = checkManifest(candidate, where);
    if (this.byPath.has(manifest.path)) {
      throw new PortalError(ErrorCodes.PLUGIN_DUPLICATE, `a plugin is already registered at ${manifest.path}`, { path: manifest.path });
    }
    this.byPath.set(manifest.path, manifest);
    return manifest;
  }

  get(path: string): PluginManifest | undefined {
    return this.byPath.get(path);
  }

  paths(): string[] {
    return [...this.byPath.keys()].sort();
  }
}
