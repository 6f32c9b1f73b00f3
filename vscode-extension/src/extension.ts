/** Entry point: wires the status bar, the server controller, the commands and the settings watcher. */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { SECTION } from './logic/ids';
import { CLIENT_SETTINGS, INLINE_COMPLETION_KEY, needsRestart } from './logic/settings';
import { onActiveEnvironmentChanged } from './pythonExtension';
import { ServerController } from './serverController';
import { StatusBar } from './statusBar';

let controller: ServerController | undefined;

function inlineCompletionsEnabled(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>(INLINE_COMPLETION_KEY, true);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('VeriFrag', { log: true });
  const status = new StatusBar(inlineCompletionsEnabled());
  const server = new ServerController(output, status);
  controller = server;
  // The server is stopped in deactivate(), which VS Code awaits, rather than as a subscription.
  context.subscriptions.push(output, status, ...registerCommands(server));

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration(SECTION)) {
        return;
      }
      status.setInlineCompletions(inlineCompletionsEnabled());
      if (needsRestart((key) => event.affectsConfiguration(`${SECTION}.${key}`))) {
        void server.restart();
      } else {
        void server.sendConfiguration();
      }
    }),
  );

  // Follow the Python extension's environment picker, unless the user pinned an interpreter.
  const environmentWatch = await onActiveEnvironmentChanged(() => {
    if (!vscode.workspace.getConfiguration(SECTION).get<string | null>(CLIENT_SETTINGS.pythonPath)?.trim()) {
      void server.restart();
    }
  });
  if (environmentWatch) {
    context.subscriptions.push(environmentWatch);
  }

  await server.start();
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}
