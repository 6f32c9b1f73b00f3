import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  buildServerConfig,
  didChangeConfigurationParams,
  needsRestart,
  planToggle,
  SERVER_SETTINGS,
} from '../../src/logic/settings';

const PROTOCOL_DOC = join(__dirname, '..', '..', '..', '..', 'docs', 'server-protocol.md');

/** Rows of the Configuration table: key and default cell, as the protocol page writes them. */
function protocolTable(): Map<string, string> {
  const text = readFileSync(PROTOCOL_DOC, 'utf8');
  const section = text.split('## Configuration')[1].split('\n## ')[0];
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const key = /^`([\w.]+)`$/.exec(cells[1] ?? '');
    if (key) {
      rows.set(key[1], cells[3]);
    }
  }
  return rows;
}

describe('settings mirror docs/server-protocol.md', () => {
  it('has exactly the protocol keys', () => {
    const documented = [...protocolTable().keys()].sort();
    assert.ok(documented.length > 10, 'the protocol table was not found');
    assert.deepEqual(SERVER_SETTINGS.map((s) => s.key).sort(), documented);
  });

  it('uses the protocol defaults', () => {
    for (const [key, cell] of protocolTable()) {
      const setting = SERVER_SETTINGS.find((s) => s.key === key)!;
      // The cell starts with the default: a `quoted` string or a JSON literal; a bracketed note may follow.
      const literal = cell.replace(/\s*\(.*\)$/, '');
      const quoted = /^`(.*)`$/.exec(literal);
      assert.deepEqual(setting.default, quoted ? quoted[1] : JSON.parse(literal), `default of ${key}`);
    }
  });
});

describe('buildServerConfig', () => {
  it('sends every default, with dotted keys nested', () => {
    const { config, invalid } = buildServerConfig(() => undefined);
    assert.deepEqual(invalid, []);
    assert.equal(config.decoder, 'auto');
    assert.equal(config.checkpoint, null);
    assert.equal(config.maxNewTokens, 48);
    assert.deepEqual(config.includeDirs, []);
    assert.deepEqual(config.features, {
      diagnostics: true,
      inlineCompletion: true,
      completion: true,
      moduleGeneration: true,
    });
    assert.equal('features.diagnostics' in config, false);
  });

  it('passes valid user values through', () => {
    const values: Record<string, unknown> = {
      decoder: 'ntp',
      temperature: 0,
      maxNewTokens: 16,
      includeDirs: ['rtl/include'],
      'features.inlineCompletion': false,
      checkpoint: '/ckpt',
    };
    const { config, invalid } = buildServerConfig((key) => values[key]);
    assert.deepEqual(invalid, []);
    assert.equal(config.decoder, 'ntp');
    assert.equal(config.temperature, 0);
    assert.equal(config.maxNewTokens, 16);
    assert.deepEqual(config.includeDirs, ['rtl/include']);
    assert.equal((config.features as Record<string, unknown>).inlineCompletion, false);
    assert.equal((config.features as Record<string, unknown>).diagnostics, true);
    assert.equal(config.checkpoint, '/ckpt');
  });

  it('replaces invalid values by the default and names them', () => {
    const values: Record<string, unknown> = {
      decoder: 'beam',
      maxNewTokens: 2.5,
      debounceMs: -1,
      temperature: 'hot',
      libraryDirs: ['ok', 3],
      'features.completion': 'yes',
    };
    const { config, invalid } = buildServerConfig((key) => values[key]);
    assert.equal(config.decoder, 'auto');
    assert.equal(config.maxNewTokens, 48);
    assert.equal(config.debounceMs, 120);
    assert.equal(config.temperature, 0.7);
    assert.deepEqual(config.libraryDirs, []);
    assert.equal((config.features as Record<string, unknown>).completion, true);
    assert.deepEqual(invalid.sort(), [
      'verifrag.debounceMs',
      'verifrag.decoder',
      'verifrag.features.completion',
      'verifrag.libraryDirs',
      'verifrag.maxNewTokens',
      'verifrag.temperature',
    ]);
  });

  it('turns an empty checkpoint into null, the bundled default', () => {
    assert.equal(buildServerConfig((key) => (key === 'checkpoint' ? '  ' : undefined)).config.checkpoint, null);
  });

  it('wraps the configuration for didChangeConfiguration under settings.verifrag', () => {
    const { config } = buildServerConfig(() => undefined);
    assert.deepEqual(didChangeConfigurationParams(config), { settings: { verifrag: config } });
  });
});

describe('needsRestart', () => {
  it('restarts for client-only settings only', () => {
    assert.equal(needsRestart((key) => key === 'server.pythonPath'), true);
    assert.equal(needsRestart((key) => key === 'server.extraArgs'), true);
    assert.equal(needsRestart((key) => key === 'decoder'), false);
  });
});

describe('planToggle', () => {
  it('flips the default in the user settings when nothing is set', () => {
    assert.deepEqual(planToggle({ defaultValue: true }), { target: 'global', value: false });
  });

  it('flips the user value', () => {
    assert.deepEqual(planToggle({ defaultValue: true, globalValue: false }), { target: 'global', value: true });
  });

  it('writes to the most specific scope that holds a value', () => {
    assert.deepEqual(planToggle({ defaultValue: true, globalValue: true, workspaceValue: false }), {
      target: 'workspace',
      value: true,
    });
    assert.deepEqual(planToggle({ workspaceValue: true, workspaceFolderValue: true }), {
      target: 'workspaceFolder',
      value: false,
    });
  });
});
