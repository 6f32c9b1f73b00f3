/** The handlers behind the contributed commands; ids live in logic/ids.ts. */
import * as vscode from 'vscode';
import { CommandKey, COMMANDS, LANGUAGE_IDS, SECTION } from './logic/ids';
import { describeGenerateResult } from './logic/protocol';
import { ConfigTarget, INLINE_COMPLETION_KEY, planToggle } from './logic/settings';
import { ServerController } from './serverController';

const TARGETS: Record<ConfigTarget, vscode.ConfigurationTarget> = {
  global: vscode.ConfigurationTarget.Global,
  workspace: vscode.ConfigurationTarget.Workspace,
  workspaceFolder: vscode.ConfigurationTarget.WorkspaceFolder,
};

async function generateModuleFromComment(server: ServerController): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !LANGUAGE_IDS.includes(editor.document.languageId)) {
    void vscode.window.showWarningMessage('VeriFrag: open a Verilog file and put the cursor in a comment block.');
    return;
  }
  const line = editor.selection.active.line;
  let reply: unknown;
  try {
    reply = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'VeriFrag: generating module…', cancellable: true },
      (_progress, token) => server.generateModule(editor.document, line, token),
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`VeriFrag: Generate Module failed: ${message}`);
    return;
  }
  const { severity, text } = describeGenerateResult(reply);
  const show = {
    info: vscode.window.showInformationMessage,
    warning: vscode.window.showWarningMessage,
    error: vscode.window.showErrorMessage,
  }[severity];
  void show(text);
}

async function toggleInlineCompletions(): Promise<void> {
  // Scoped to the active document so a folder-level value in a multi-root workspace is seen and flipped.
  const settings = vscode.workspace.getConfiguration(SECTION, vscode.window.activeTextEditor?.document.uri);
  const inspected = settings.inspect<boolean>(INLINE_COMPLETION_KEY) ?? {};
  const { target, value } = planToggle(inspected);
  await settings.update(INLINE_COMPLETION_KEY, value, TARGETS[target]);
  void vscode.window.showInformationMessage(`VeriFrag: inline completions ${value ? 'on' : 'off'}.`);
}

/** Registers every command in COMMANDS; the Record type makes a missing handler a compile error. */
export function registerCommands(server: ServerController): vscode.Disposable[] {
  const handlers: Record<CommandKey, () => unknown> = {
    generateModule: () => generateModuleFromComment(server),
    restartServer: () => server.restart(),
    showOutput: () => server.showOutput(),
    toggleInlineCompletions: () => toggleInlineCompletions(),
  };
  return (Object.keys(handlers) as CommandKey[]).map((key) =>
    vscode.commands.registerCommand(COMMANDS[key], handlers[key]),
  );
}
