/**
 * Runs after `vsce package`: the .vsix must hold what VS Code loads and nothing of the sources.
 * A .vsix is a zip; its central directory lists every entry name, which is all this needs.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..', '..');
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;

function zipEntryNames(zip: Buffer): string[] {
  // The end record is the last 22 bytes plus an optional comment of up to 64 KiB.
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
      end = i;
      break;
    }
  }
  assert.ok(end >= 0, 'not a zip file');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(offset), CENTRAL_DIRECTORY_ENTRY, 'corrupt central directory');
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

describe('packaged .vsix', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const file = join(ROOT, `${manifest.name}-${manifest.version}.vsix`);

  it('exists under the name vsce gives it', () => {
    assert.ok(readdirSync(ROOT).includes(`${manifest.name}-${manifest.version}.vsix`), `${file} was not built`);
  });

  it('contains the bundle, the manifest, the grammar and the docs', () => {
    const names = zipEntryNames(readFileSync(file));
    for (const required of [
      'extension.vsixmanifest',
      'extension/package.json',
      'extension/dist/extension.js',
      'extension/syntaxes/verilog.tmLanguage.json',
      'extension/language-configuration.json',
      'extension/readme.md',
    ]) {
      assert.ok(names.some((n) => n.toLowerCase() === required.toLowerCase()), `${required} missing`);
    }
    assert.ok(names.some((n) => /^extension\/license/i.test(n)), 'license missing');
  });

  it('leaves sources, tests and node_modules out', () => {
    const names = zipEntryNames(readFileSync(file));
    const unwanted = names.filter((n) => /^extension\/(src|test|out|node_modules|scripts)\//.test(n) || n.endsWith('.ts'));
    assert.deepEqual(unwanted, []);
  });
});
