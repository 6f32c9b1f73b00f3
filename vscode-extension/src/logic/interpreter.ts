/**
 * Which Python runs the server, and the exact command lines derived from it.
 * Order (issue 7): the `verifrag.server.pythonPath` setting, then the Python extension's active
 * environment, then a platform default.
 */

export type InterpreterSource = 'setting' | 'python-extension' | 'default';

export interface Interpreter {
  command: string;
  source: InterpreterSource;
}

export interface InterpreterInputs {
  /** `verifrag.server.pythonPath`, unexpanded. */
  configuredPath?: string | null;
  /** Executable of the Python extension's active environment, when that extension is installed. */
  pythonExtensionPath?: string;
  platform: NodeJS.Platform;
  homeDir: string;
  workspaceFolder?: string;
}

/** Windows installs `python`, not `python3`, unless the user added an alias. */
export function defaultPython(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'python' : 'python3';
}

/** Expands `~` and `${workspaceFolder}`, the two forms people paste into path settings. */
export function expandPath(value: string, homeDir: string, workspaceFolder?: string): string {
  let out = value.trim();
  if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) {
    out = homeDir + out.slice(1);
  }
  if (workspaceFolder !== undefined) {
    out = out.split('${workspaceFolder}').join(workspaceFolder);
  }
  return out;
}

export function resolveInterpreter(inputs: InterpreterInputs): Interpreter {
  const configured = inputs.configuredPath?.trim();
  if (configured) {
    return { command: expandPath(configured, inputs.homeDir, inputs.workspaceFolder), source: 'setting' };
  }
  if (inputs.pythonExtensionPath) {
    return { command: inputs.pythonExtensionPath, source: 'python-extension' };
  }
  return { command: defaultPython(inputs.platform), source: 'default' };
}

/** Arguments after the interpreter; `--stdio` is explicit so a future change of the default cannot break us. */
export function serverArgs(extraArgs: readonly string[]): string[] {
  return ['-m', 'verifrag', 'serve', '--stdio', ...extraArgs];
}

/** Keeps only string entries of `verifrag.server.extraArgs`; settings.json is hand-edited JSON. */
export function sanitiseExtraArgs(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** A short, human description for messages and the status tooltip. */
export function describeInterpreter(interpreter: Interpreter): string {
  const from = {
    setting: 'from verifrag.server.pythonPath',
    'python-extension': "the Python extension's active environment",
    default: 'default interpreter on PATH',
  }[interpreter.source];
  return `${interpreter.command} (${from})`;
}
