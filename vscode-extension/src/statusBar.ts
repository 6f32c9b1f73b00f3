/** The status bar item; what it says is decided in logic/status.ts. */
import * as vscode from 'vscode';
import { COMMANDS } from './logic/ids';
import type { CompletionStats } from './logic/protocol';
import { ClientState, renderStatus, StatusModel } from './logic/status';

const BACKGROUNDS = {
  normal: undefined,
  warning: new vscode.ThemeColor('statusBarItem.warningBackground'),
  error: new vscode.ThemeColor('statusBarItem.errorBackground'),
};

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('verifrag.status', vscode.StatusBarAlignment.Right, 100);
  private model: StatusModel;

  constructor(inlineCompletionsEnabled: boolean) {
    this.model = { state: 'starting', message: '', inlineCompletionsEnabled };
    this.item.name = 'VeriFrag';
    this.item.command = COMMANDS.showOutput;
    this.render();
    this.item.show();
  }

  setState(state: ClientState, message = ''): void {
    this.update({ state, message });
  }

  setCompletion(stats: CompletionStats): void {
    this.update({ lastCompletion: stats });
  }

  setInlineCompletions(enabled: boolean): void {
    this.update({ inlineCompletionsEnabled: enabled });
  }

  setInterpreter(description: string): void {
    this.update({ interpreter: description });
  }

  dispose(): void {
    this.item.dispose();
  }

  private update(change: Partial<StatusModel>): void {
    this.model = { ...this.model, ...change };
    this.render();
  }

  private render(): void {
    const view = renderStatus(this.model);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = BACKGROUNDS[view.tone];
  }
}
