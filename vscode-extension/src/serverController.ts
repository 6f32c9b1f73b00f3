/**
 * Owns the language client: picks the interpreter, checks the package is installed, starts, stops and
 * restarts the server, and keeps its configuration in step with the `verifrag.*` settings.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { LANGUAGE_IDS, NOTIFICATIONS, SECTION, SERVER_COMMANDS } from './logic/ids';
import {
  describeInterpreter,
  Interpreter,
  resolveInterpreter,
  sanitiseExtraArgs,
  serverArgs,
} from './logic/interpreter';
import { installCommand, isVerifragPyproject, ProbeResult, runProbe } from './logic/probe';
import { generateModuleArguments, parseCompletionStats, parseStatus } from './logic/protocol';
import { buildServerConfig, CLIENT_SETTINGS, didChangeConfigurationParams, ServerConfig } from './logic/settings';
import { activeEnvironmentPython } from './pythonExtension';
import { StatusBar } from './statusBar';

export class ServerController {
  private client: LanguageClient | undefined;
  /** Serialises start/stop so a quick second restart cannot race the first. */
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly status: StatusBar,
  ) {}

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  restart(): Promise<void> {
    return this.enqueue(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  showOutput(): void {
    this.output.show(true);
  }

  /** Pushes the current settings to a running server (`workspace/didChangeConfiguration`). */
  async sendConfiguration(): Promise<void> {
    if (this.client?.isRunning()) {
      await this.client.sendNotification(
        DidChangeConfigurationNotification.type,
        didChangeConfigurationParams(this.currentConfig()),
      );
    }
  }

  /** Runs the server's `verifrag.generateModule` for `line` of `document`; resolves to the raw reply. */
  async generateModule(document: vscode.TextDocument, line: number, token: vscode.CancellationToken): Promise<unknown> {
    const client = this.client;
    if (!client?.isRunning()) {
      throw new Error('the VeriFrag server is not running');
    }
    const uri = client.code2ProtocolConverter.asUri(document.uri);
    return client.sendRequest(
      ExecuteCommandRequest.type,
      { command: SERVER_COMMANDS.generateModule, arguments: generateModuleArguments(uri, line) },
      token,
    );
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.pending = this.pending.then(step, step);
    return this.pending;
  }

  private currentConfig(): ServerConfig {
    const settings = vscode.workspace.getConfiguration(SECTION);
    const { config, invalid } = buildServerConfig((key) => settings.get(key));
    if (invalid.length > 0) {
      this.output.warn(`Ignoring invalid settings, using the server's defaults: ${invalid.join(', ')}`);
    }
    return config;
  }

  private async interpreter(): Promise<Interpreter> {
    const settings = vscode.workspace.getConfiguration(SECTION);
    const folder = vscode.workspace.workspaceFolders?.[0];
    const configuredPath = settings.get<string | null>(CLIENT_SETTINGS.pythonPath);
    return resolveInterpreter({
      configuredPath,
      // Ask the Python extension only when the setting is empty: activating it costs time.
      pythonExtensionPath: configuredPath?.trim() ? undefined : await activeEnvironmentPython(folder?.uri),
      platform: process.platform,
      homeDir: os.homedir(),
      workspaceFolder: folder?.uri.fsPath,
    });
  }

  private async doStart(): Promise<void> {
    this.status.setState('starting');
    const interpreter = await this.interpreter();
    const described = describeInterpreter(interpreter);
    this.status.setInterpreter(described);
    this.output.info(`Python: ${described}`);

    const probe = await runProbe(interpreter.command);
    if (probe.kind !== 'ok') {
      await this.reportProbeFailure(probe, interpreter);
      return;
    }
    this.output.info(`verifrag ${probe.version} found; starting the server.`);

    const extraArgs = sanitiseExtraArgs(vscode.workspace.getConfiguration(SECTION).get(CLIENT_SETTINGS.extraArgs));
    const serverOptions: ServerOptions = { command: interpreter.command, args: serverArgs(extraArgs) };
    const clientOptions: LanguageClientOptions = {
      documentSelector: LANGUAGE_IDS.flatMap((language) => [
        { scheme: 'file', language },
        { scheme: 'untitled', language },
      ]),
      outputChannel: this.output,
      initializationOptions: this.currentConfig(),
    };
    const client = new LanguageClient('verifrag', 'VeriFrag', serverOptions, clientOptions);
    client.onNotification(NOTIFICATIONS.status, (params: unknown) => {
      const status = parseStatus(params);
      if (status) {
        this.status.setState(status.state, status.message);
      }
    });
    client.onNotification(NOTIFICATIONS.completionStats, (params: unknown) => {
      const stats = parseCompletionStats(params);
      if (stats) {
        this.status.setCompletion(stats);
      }
    });
    client.onDidChangeState(({ newState }) => {
      // The server reports its own states once running; the client shows the ones around that,
      // including the automatic restart after a crash.
      if (newState === State.Starting) {
        this.status.setState('starting');
      } else if (newState === State.Stopped) {
        this.status.setState('stopped', 'The server process ended. Run "VeriFrag: Restart Server".');
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.status.setState('error', message);
      this.output.error(`The server failed to start: ${message}`);
      void vscode.window.showErrorMessage(`VeriFrag: the server failed to start: ${message}`, 'Show Output').then(
        (choice) => choice && this.showOutput(),
      );
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop();
      } catch (error) {
        // A server that already died cannot be asked to shut down; there is nothing left to stop.
        this.output.warn(`Stopping the server: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.status.setState('stopped');
  }

  private async reportProbeFailure(probe: Exclude<ProbeResult, { kind: 'ok' }>, interpreter: Interpreter): Promise<void> {
    const described = describeInterpreter(interpreter);
    this.output.error(`Cannot start the server with ${described}: ${probe.kind} ${probe.detail}`);
    if (probe.kind === 'missing-package') {
      this.status.setState('not-installed', `The Python package "verifrag" is not installed in ${described}.`);
      const command = installCommand(interpreter.command, process.platform, await verifragSourceFolder());
      const choice = await vscode.window.showErrorMessage(
        `VeriFrag: the Python package "verifrag" is not installed in ${described}. Install it with: ${command}`,
        'Install in Terminal',
        'Copy Command',
        'Choose Interpreter',
      );
      if (choice === 'Install in Terminal') {
        const terminal = vscode.window.createTerminal('VeriFrag install');
        terminal.show();
        terminal.sendText(command);
        void vscode.window.showInformationMessage('VeriFrag: when the install finishes, run "VeriFrag: Restart Server".');
      } else if (choice === 'Copy Command') {
        await vscode.env.clipboard.writeText(command);
      } else if (choice === 'Choose Interpreter') {
        await openPythonPathSetting();
      }
      return;
    }
    const reason =
      probe.kind === 'missing-interpreter'
        ? `cannot run ${described}: not found`
        : `${described} cannot import verifrag: ${probe.detail}`;
    this.status.setState('error', reason);
    const choice = await vscode.window.showErrorMessage(`VeriFrag: ${reason}.`, 'Choose Interpreter', 'Show Output');
    if (choice === 'Choose Interpreter') {
      await openPythonPathSetting();
    } else if (choice === 'Show Output') {
      this.showOutput();
    }
  }
}

async function openPythonPathSetting(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.${CLIENT_SETTINGS.pythonPath}`);
}

/** The first workspace folder that is a VeriFrag source checkout, for an editable install. */
async function verifragSourceFolder(): Promise<string | undefined> {
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    try {
      const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder.uri, 'pyproject.toml'));
      if (isVerifragPyproject(new TextDecoder().decode(bytes))) {
        return folder.uri.fsPath;
      }
    } catch {
      // No pyproject.toml here: not a checkout.
    }
  }
  return undefined;
}
