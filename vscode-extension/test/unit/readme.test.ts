import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  contributes: {
    commands: { title: string; category: string }[];
    configuration: { properties: Record<string, { default: unknown }> };
  };
};

/** Rows of a README table whose first cell is a `verifrag.*` setting: setting -> default cell. */
function documentedSettings(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const match of readme.matchAll(/^\| `(verifrag\.[\w.]+)` \|[^|]*\| ([^|]*) \|/gm)) {
    rows.set(match[1], match[2].trim());
  }
  return rows;
}

describe('README', () => {
  it('documents every setting with its default', () => {
    const documented = documentedSettings();
    const properties = manifest.contributes.configuration.properties;
    assert.deepEqual([...documented.keys()].sort(), Object.keys(properties).sort());
    for (const [key, cell] of documented) {
      // Strings appear bare in the table (`auto`), everything else as JSON (`null`, `[]`, `0.7`).
      const value = properties[key].default;
      const literal = typeof value === 'string' ? value : JSON.stringify(value);
      assert.equal(cell, `\`${literal}\``, `default of ${key}`);
    }
  });

  it('documents every command', () => {
    for (const command of manifest.contributes.commands) {
      assert.ok(readme.includes(`| ${command.category}: ${command.title} |`), command.title);
    }
  });

  it('names the .vsix the build writes', () => {
    assert.ok(readme.includes(`code --install-extension vscode-extension/${manifest.name}-${manifest.version}.vsix`));
  });
});
