/**
 * Names shared by the extension code, its package.json and the server.
 * Kept free of `vscode` imports so the manifest test can compare them with package.json.
 */

/** Configuration section: every setting is `verifrag.<key>`. */
export const SECTION = 'verifrag';

/** Language ids: the ones other Verilog extensions use too, so their features combine with ours. */
export const LANGUAGES = {
  verilog: { id: 'verilog', extensions: ['.v', '.vh'] },
  systemverilog: { id: 'systemverilog', extensions: ['.sv', '.svh'] },
} as const;

export const LANGUAGE_IDS: readonly string[] = Object.values(LANGUAGES).map((l) => l.id);

/**
 * Extension-side commands. None may equal a server command id: vscode-languageclient registers the
 * server's executeCommand ids itself, and a second registration of the same id fails activation.
 */
export const COMMANDS = {
  generateModule: 'verifrag.generateModuleFromComment',
  restartServer: 'verifrag.restartServer',
  showOutput: 'verifrag.showServerOutput',
  toggleInlineCompletions: 'verifrag.toggleInlineCompletions',
} as const;

export type CommandKey = keyof typeof COMMANDS;

/** Ids fixed by docs/server-protocol.md. */
export const SERVER_COMMANDS = { generateModule: 'verifrag.generateModule' } as const;

export const NOTIFICATIONS = {
  status: 'verifrag/status',
  completionStats: 'verifrag/completionStats',
} as const;
