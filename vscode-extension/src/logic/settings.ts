/**
 * The `verifrag.*` settings and how they become the server's configuration object
 * (docs/server-protocol.md, "Configuration"). One entry per server key, same name, same default.
 */

export type SettingKind = 'string' | 'nullableString' | 'number' | 'integer' | 'boolean' | 'stringList';

export interface ServerSetting {
  /** Key as the server knows it; dotted keys become nested objects (`features.diagnostics`). */
  readonly key: string;
  readonly kind: SettingKind;
  readonly default: unknown;
  readonly choices?: readonly string[];
  readonly minimum?: number;
}

export const SERVER_SETTINGS: readonly ServerSetting[] = [
  { key: 'checkpoint', kind: 'nullableString', default: null },
  { key: 'device', kind: 'string', default: 'auto', choices: ['auto', 'cpu', 'cuda', 'mps'] },
  { key: 'dtype', kind: 'string', default: 'auto', choices: ['auto', 'float32', 'bfloat16', 'float16', 'int8', 'int4'] },
  { key: 'decoder', kind: 'string', default: 'auto', choices: ['auto', 'medusa', 'ntp'] },
  { key: 'acceptance', kind: 'string', default: 'greedy', choices: ['greedy', 'typical'] },
  { key: 'temperature', kind: 'number', default: 0.7, minimum: 0 },
  { key: 'posteriorThreshold', kind: 'number', default: 0.09, minimum: 0 },
  { key: 'posteriorAlpha', kind: 'number', default: 0.3, minimum: 0 },
  { key: 'maxNewTokens', kind: 'integer', default: 48, minimum: 1 },
  { key: 'moduleMaxNewTokens', kind: 'integer', default: 768, minimum: 1 },
  { key: 'contextTokens', kind: 'integer', default: 1024, minimum: 1 },
  { key: 'debounceMs', kind: 'integer', default: 120, minimum: 0 },
  { key: 'includeDirs', kind: 'stringList', default: [] },
  { key: 'libraryDirs', kind: 'stringList', default: [] },
  { key: 'features.diagnostics', kind: 'boolean', default: true },
  { key: 'features.inlineCompletion', kind: 'boolean', default: true },
  { key: 'features.completion', kind: 'boolean', default: true },
  { key: 'features.moduleGeneration', kind: 'boolean', default: true },
];

/** Settings only the extension reads; changing one restarts the server instead of notifying it. */
export const CLIENT_SETTINGS = {
  pythonPath: 'server.pythonPath',
  extraArgs: 'server.extraArgs',
} as const;

export const INLINE_COMPLETION_KEY = 'features.inlineCompletion';

export type ServerConfig = { [key: string]: unknown };

/** Reads one setting (relative to `verifrag.`); returns undefined when nothing is set. */
export type SettingReader = (key: string) => unknown;

function isValid(setting: ServerSetting, value: unknown): boolean {
  switch (setting.kind) {
    case 'string':
      return typeof value === 'string' && (!setting.choices || setting.choices.includes(value));
    case 'nullableString':
      return value === null || typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && value >= (setting.minimum ?? -Infinity);
    case 'integer':
      return Number.isInteger(value) && (value as number) >= (setting.minimum ?? -Infinity);
    case 'boolean':
      return typeof value === 'boolean';
    case 'stringList':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
  }
}

function normalise(setting: ServerSetting, value: unknown): unknown {
  // An empty checkpoint box in the settings UI means "the bundled default", which the server spells null.
  if (setting.kind === 'nullableString' && typeof value === 'string' && value.trim() === '') {
    return null;
  }
  return value;
}

function setNested(target: ServerConfig, dottedKey: string, value: unknown): void {
  const parts = dottedKey.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const child = node[part];
    if (typeof child !== 'object' || child === null) {
      node[part] = {};
    }
    node = node[part] as ServerConfig;
  }
  node[parts[parts.length - 1]] = value;
}

export interface BuiltConfig {
  config: ServerConfig;
  /** Settings whose value was ignored (wrong type or choice), so the user can be told. */
  invalid: string[];
}

/**
 * Builds the full configuration object. Every key is sent, so a setting the user clears goes back to
 * its default on the server too (a didChangeConfiguration with a missing key would leave it unchanged).
 */
export function buildServerConfig(read: SettingReader): BuiltConfig {
  const config: ServerConfig = {};
  const invalid: string[] = [];
  for (const setting of SERVER_SETTINGS) {
    const raw = normalise(setting, read(setting.key));
    let value = setting.default;
    if (raw !== undefined) {
      if (isValid(setting, raw)) {
        value = raw;
      } else {
        invalid.push(`verifrag.${setting.key}`);
      }
    }
    setNested(config, setting.key, value);
  }
  return { config, invalid };
}

/** Payload of `workspace/didChangeConfiguration`, shaped as docs/server-protocol.md fixes it. */
export function didChangeConfigurationParams(config: ServerConfig): { settings: { verifrag: ServerConfig } } {
  return { settings: { verifrag: config } };
}

/** True when a configuration change touches a client-only setting, which needs a new server process. */
export function needsRestart(isAffected: (key: string) => boolean): boolean {
  return Object.values(CLIENT_SETTINGS).some((key) => isAffected(key));
}

export type ConfigTarget = 'workspaceFolder' | 'workspace' | 'global';

export interface InspectedSetting<T> {
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
  defaultValue?: T;
}

/**
 * Where a toggle should write and what value it should write: the most specific scope that already
 * holds a value wins, because writing a broader one would be shadowed and the toggle would do nothing.
 */
export function planToggle(inspected: InspectedSetting<boolean>): { target: ConfigTarget; value: boolean } {
  if (inspected.workspaceFolderValue !== undefined) {
    return { target: 'workspaceFolder', value: !inspected.workspaceFolderValue };
  }
  if (inspected.workspaceValue !== undefined) {
    return { target: 'workspace', value: !inspected.workspaceValue };
  }
  const current = inspected.globalValue ?? inspected.defaultValue ?? true;
  return { target: 'global', value: !current };
}
