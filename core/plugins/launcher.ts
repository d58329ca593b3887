/** What the handler needs to start a plugin by dotted path (implemented by ProtocolLauncher). */
export interface LaunchResult {
  /** Identifies this running instance (for stop and status). */
  id: string;
  path: string;
}

export interface Launcher {
  launch(path: string, rawConfig: Record<string, unknown>): Promise<LaunchResult>;
}
