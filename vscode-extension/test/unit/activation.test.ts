/**
 * Loads the built bundle against a stand-in `vscode` module and activates it, to check the wiring the
 * logic tests cannot see: the commands registered, the status bar, and the missing-package message.
 * The stand-in implements only what activation touches; anything else is a no-op.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..', '..');

interface Recorded {
  commands: string[];
  handlers: Map<string, () => Promise<unknown>>;
  configurationListeners: ((event: { affectsConfiguration(section: string): boolean }) => void)[];
  errors: string[];
  infos: string[];
  statusText: string[];
}

function recorder(): Recorded {
  return { commands: [], handlers: new Map(), configurationListeners: [], errors: [], infos: [], statusText: [] };
}

/** A Verilog editor with the cursor on line 3, for Generate Module from Comment. */
const EDITOR = {
  document: { languageId: 'verilog', uri: { toString: () => 'file:///w/top.v' } },
  selection: { active: { line: 3 } },
};

/** Anything not modelled below: callable, constructible, and yields more of itself. */
function anything(): unknown {
  const target = function () {};
  return new Proxy(target, {
    get: (_t, key) => (key === 'then' ? undefined : key === 'dispose' ? () => undefined : anything()),
    apply: () => anything(),
    construct: () => anything() as object,
  });
}

function fakeVscode(settings: Record<string, unknown>, recorded: Recorded): unknown {
  const disposable = { dispose: () => undefined };
  const api: Record<string, unknown> = {
    version: '1.91.0',
    ThemeColor: class {
      constructor(readonly id: string) {}
    },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
    ProgressLocation: { Notification: 15 },
    window: {
      createOutputChannel: () => withFallback({}),
      createStatusBarItem: () =>
        withFallback({
          set text(value: string) {
            recorded.statusText.push(value);
          },
        }),
      showErrorMessage: async (message: string) => {
        recorded.errors.push(message);
        return undefined;
      },
      showInformationMessage: async (message: string) => {
        recorded.infos.push(message);
        return undefined;
      },
      activeTextEditor: EDITOR,
      withProgress: (_options: unknown, task: (progress: unknown, token: unknown) => Promise<unknown>) =>
        task({}, { isCancellationRequested: false, onCancellationRequested: () => disposable }),
    },
    commands: {
      registerCommand: (id: string, handler: () => Promise<unknown>) => {
        recorded.commands.push(id);
        recorded.handlers.set(id, handler);
        return disposable;
      },
    },
    workspace: {
      workspaceFolders: undefined,
      getConfiguration: () => ({
        get: (key: string, fallback?: unknown) => (key in settings ? settings[key] : fallback),
      }),
      onDidChangeConfiguration: (listener: Recorded['configurationListeners'][number]) => {
        recorded.configurationListeners.push(listener);
        return disposable;
      },
    },
    extensions: { getExtension: () => undefined },
  };
  // Namespaces too fall back to the no-op for members not modelled (the language client touches many).
  for (const name of ['window', 'commands', 'workspace', 'extensions']) {
    api[name] = withFallback(api[name] as Record<string, unknown>);
  }
  return withFallback(api);
}

function withFallback(object: Record<string, unknown>): unknown {
  return new Proxy(object, { get: (t, key: string) => (key in t ? t[key] : anything()) });
}

function loadBundle(vscode: unknown): { activate(context: unknown): Promise<void>; deactivate(): Promise<void> } {
  const loader = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
  const original = loader._load;
  loader._load = function (request, parent, isMain) {
    return request === 'vscode' ? vscode : original.call(this, request, parent, isMain);
  };
  try {
    const path = join(ROOT, 'dist', 'extension.js');
    delete require.cache[require.resolve(path)];
    return require(path);
  } finally {
    loader._load = original;
  }
}

describe('activation of the bundled extension', { skip: process.platform === 'win32' }, () => {
  it('registers the commands and reports a missing verifrag package with its install command', async () => {
    const python = join(mkdtempSync(join(tmpdir(), 'verifrag-activate-')), 'python');
    writeFileSync(python, `#!/bin/sh\necho "ModuleNotFoundError: No module named 'verifrag'" >&2\nexit 1\n`);
    chmodSync(python, 0o755);

    const recorded = recorder();
    const extension = loadBundle(fakeVscode({ 'server.pythonPath': python }, recorded));
    const context = { subscriptions: [] as unknown[] };
    await extension.activate(context);

    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      contributes: { commands: { command: string }[] };
    };
    assert.deepEqual(recorded.commands.sort(), manifest.contributes.commands.map((c) => c.command).sort());
    assert.equal(recorded.statusText.at(-1), '$(error) VeriFrag: not installed');
    assert.equal(recorded.errors.length, 1);
    assert.match(recorded.errors[0], /"verifrag" is not installed/);
    assert.ok(recorded.errors[0].includes(`${python} -m pip install verifrag`), recorded.errors[0]);
    await extension.deactivate();
  });
});

/** Polls until `condition` holds; the client and the stand-in server talk asynchronously. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    assert.ok(waited < 10000, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the bundled extension against a stand-in server', { skip: process.platform === 'win32' }, () => {
  it('starts it with the settings, follows its notifications, runs its command and stops it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verifrag-serve-'));
    const python = join(dir, 'python');
    const fakeServer = join(ROOT, 'test', 'fixtures', 'fakeServer.js');
    // The probe runs `python -c ...`; everything else is the server.
    writeFileSync(
      python,
      `#!/bin/sh\nif [ "$1" = "-c" ]; then echo verifrag-version=0.1.0; exit 0; fi\n` +
        `echo "$@" > "${dir}/argv"\nexec "${process.execPath}" "${fakeServer}"\n`,
    );
    chmodSync(python, 0o755);
    const messages = join(dir, 'messages.jsonl');
    writeFileSync(messages, '');
    process.env.VERIFRAG_FAKE_LOG = messages;
    const received = () =>
      readFileSync(messages, 'utf8')
        .split('\n')
        .filter((line) => line)
        .map((line) => JSON.parse(line) as { method: string; params: any });

    const recorded = recorder();
    const settings: Record<string, unknown> = {
      'server.pythonPath': python,
      'server.extraArgs': ['--checkpoint', '/ck'],
      decoder: 'ntp',
    };
    const extension = loadBundle(fakeVscode(settings, recorded));
    await extension.activate({ subscriptions: [] });
    await until(() => recorded.statusText.includes('$(check) VeriFrag 95 ms · 64.0 tok/s'), 'the stats in the status bar');

    assert.deepEqual(recorded.errors, []);
    assert.equal(readFileSync(join(dir, 'argv'), 'utf8').trim(), '-m verifrag serve --stdio --checkpoint /ck');
    const initialize = received().find((m) => m.method === 'initialize');
    assert.equal(initialize?.params.initializationOptions.decoder, 'ntp');
    assert.equal(initialize?.params.initializationOptions.features.inlineCompletion, true);

    await recorded.handlers.get('verifrag.generateModuleFromComment')!();
    const execute = received().find((m) => m.method === 'workspace/executeCommand');
    assert.deepEqual(execute?.params, { command: 'verifrag.generateModule', arguments: [{ uri: 'file:///w/top.v', line: 3 }] });
    assert.deepEqual(recorded.infos, ['VeriFrag: module inserted: module counter']);

    settings.decoder = 'medusa';
    for (const listener of recorded.configurationListeners) {
      listener({ affectsConfiguration: (section) => section === 'verifrag' || section === 'verifrag.decoder' });
    }
    await until(() => received().some((m) => m.method === 'workspace/didChangeConfiguration'), 'didChangeConfiguration');
    const change = received().find((m) => m.method === 'workspace/didChangeConfiguration');
    assert.equal(change?.params.settings.verifrag.decoder, 'medusa');
    assert.equal(change?.params.settings.verifrag.server, undefined);

    await extension.deactivate();
    assert.ok(received().some((m) => m.method === 'shutdown'));
  });
});
