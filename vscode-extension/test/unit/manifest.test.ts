import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { describe, it } from 'node:test';
import { COMMANDS, LANGUAGE_IDS, LANGUAGES, NOTIFICATIONS, SECTION, SERVER_COMMANDS } from '../../src/logic/ids';
import { CLIENT_SETTINGS, SERVER_SETTINGS } from '../../src/logic/settings';

const ROOT = join(__dirname, '..', '..', '..');

interface Manifest {
  main: string;
  engines: { vscode: string };
  activationEvents: string[];
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
  contributes: {
    commands: { command: string; title: string; category: string }[];
    menus: Record<string, { command: string }[]>;
    languages: { id: string; extensions: string[]; configuration: string }[];
    grammars: { language: string; scopeName: string; path: string }[];
    configuration: { properties: Record<string, Record<string, unknown>> };
  };
}

function readJson<T>(...parts: string[]): T {
  return JSON.parse(readFileSync(join(ROOT, ...parts), 'utf8')) as T;
}

const manifest = readJson<Manifest>('package.json');

function minimumVersion(range: string): number[] {
  return range.replace(/^[\^~>=\s]+/, '').split('.').map(Number);
}

function atLeast(a: number[], b: number[]): boolean {
  for (let i = 0; i < 3; i++) {
    if (a[i] !== b[i]) {
      return a[i] > b[i];
    }
  }
  return true;
}

describe('package.json commands', () => {
  it('contributes exactly the commands the code registers', () => {
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(contributed, Object.values(COMMANDS).sort());
  });

  it('titles them as the issue names them', () => {
    const titles = Object.fromEntries(manifest.contributes.commands.map((c) => [c.command, `${c.category}: ${c.title}`]));
    assert.deepEqual(titles, {
      [COMMANDS.generateModule]: 'VeriFrag: Generate Module from Comment',
      [COMMANDS.restartServer]: 'VeriFrag: Restart Server',
      [COMMANDS.showOutput]: 'VeriFrag: Show Server Output',
      [COMMANDS.toggleInlineCompletions]: 'VeriFrag: Toggle Inline Completions',
    });
  });

  it('never reuses a server command id, which the language client registers itself', () => {
    for (const id of Object.values(COMMANDS)) {
      assert.ok(!Object.values<string>(SERVER_COMMANDS).includes(id), id);
    }
  });

  it('only puts known commands in menus', () => {
    const known = new Set<string>(Object.values(COMMANDS));
    for (const entries of Object.values(manifest.contributes.menus)) {
      for (const entry of entries) {
        assert.ok(known.has(entry.command), entry.command);
      }
    }
  });
});

describe('package.json settings', () => {
  const properties = manifest.contributes.configuration.properties;

  it('has one setting per server key plus the client-only ones', () => {
    const expected = [...SERVER_SETTINGS.map((s) => s.key), ...Object.values(CLIENT_SETTINGS)].map((k) => `${SECTION}.${k}`);
    assert.deepEqual(Object.keys(properties).sort(), expected.sort());
  });

  it('declares the same defaults, choices, minimums and types as the code', () => {
    const jsonTypes = {
      string: 'string',
      nullableString: ['string', 'null'],
      number: 'number',
      integer: 'integer',
      boolean: 'boolean',
      stringList: 'array',
    };
    for (const setting of SERVER_SETTINGS) {
      const property = properties[`${SECTION}.${setting.key}`];
      assert.deepEqual(property.default, setting.default, `default of ${setting.key}`);
      assert.deepEqual(property.type, jsonTypes[setting.kind], `type of ${setting.key}`);
      assert.deepEqual(property.enum, setting.choices, `choices of ${setting.key}`);
      assert.equal(property.minimum, setting.minimum, `minimum of ${setting.key}`);
    }
  });

  it('describes every setting', () => {
    for (const [key, property] of Object.entries(properties)) {
      assert.ok(property.description || property.markdownDescription, key);
    }
  });
});

describe('package.json languages', () => {
  it('registers .v/.vh as verilog and .sv/.svh as systemverilog', () => {
    const languages = Object.fromEntries(manifest.contributes.languages.map((l) => [l.id, l.extensions]));
    assert.deepEqual(languages, {
      [LANGUAGES.verilog.id]: [...LANGUAGES.verilog.extensions],
      [LANGUAGES.systemverilog.id]: [...LANGUAGES.systemverilog.extensions],
    });
  });

  it('activates on each language', () => {
    assert.deepEqual([...manifest.activationEvents].sort(), LANGUAGE_IDS.map((id) => `onLanguage:${id}`).sort());
  });

  it('ships a grammar for each language, and the files exist', () => {
    for (const id of LANGUAGE_IDS) {
      const grammar = manifest.contributes.grammars.find((g) => g.language === id);
      assert.ok(grammar, `no grammar for ${id}`);
      const parsed = readJson<{ scopeName: string }>(grammar.path);
      assert.equal(parsed.scopeName, grammar.scopeName);
    }
    for (const language of manifest.contributes.languages) {
      assert.ok(existsSync(join(ROOT, language.configuration)), language.configuration);
    }
  });
});

describe('package.json entry point and engines', () => {
  it('points main at the file the bundle script writes', () => {
    const outfile = /--outfile=(\S+)/.exec(manifest.scripts.bundle)?.[1];
    assert.ok(outfile, 'bundle script has no --outfile');
    assert.equal(normalize(manifest.main), normalize(outfile));
  });

  it('bundles a build that carries the command and notification names', () => {
    const bundle = readFileSync(join(ROOT, manifest.main), 'utf8');
    assert.match(bundle, /exports/);
    for (const name of [...Object.values(COMMANDS), ...Object.values(NOTIFICATIONS), SERVER_COMMANDS.generateModule]) {
      assert.ok(bundle.includes(name), `${name} missing from the bundle`);
    }
  });

  it('uses vscode-languageclient 10 or newer, and an engine it supports', () => {
    assert.ok(minimumVersion(manifest.dependencies['vscode-languageclient'])[0] >= 10);
    const client = JSON.parse(
      readFileSync(join(ROOT, 'node_modules', 'vscode-languageclient', 'package.json'), 'utf8'),
    ) as { engines: { vscode: string } };
    assert.ok(atLeast(minimumVersion(manifest.engines.vscode), minimumVersion(client.engines.vscode)));
  });
});
