import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeInterpreter,
  expandPath,
  resolveInterpreter,
  sanitiseExtraArgs,
  serverArgs,
} from '../../src/logic/interpreter';

const base = { platform: 'linux' as NodeJS.Platform, homeDir: '/home/ada', workspaceFolder: '/work/chip' };

describe('resolveInterpreter', () => {
  it('prefers the pythonPath setting over the Python extension', () => {
    const got = resolveInterpreter({ ...base, configuredPath: '/opt/py/bin/python', pythonExtensionPath: '/venv/bin/python' });
    assert.deepEqual(got, { command: '/opt/py/bin/python', source: 'setting' });
  });

  it("uses the Python extension's environment when the setting is empty", () => {
    for (const configuredPath of [undefined, null, '', '   ']) {
      const got = resolveInterpreter({ ...base, configuredPath, pythonExtensionPath: '/venv/bin/python' });
      assert.deepEqual(got, { command: '/venv/bin/python', source: 'python-extension' });
    }
  });

  it('falls back to python3, or python on Windows', () => {
    assert.deepEqual(resolveInterpreter(base), { command: 'python3', source: 'default' });
    assert.deepEqual(resolveInterpreter({ ...base, platform: 'win32' }), { command: 'python', source: 'default' });
  });

  it('expands ~ and ${workspaceFolder} in the setting', () => {
    assert.equal(resolveInterpreter({ ...base, configuredPath: '~/venv/bin/python' }).command, '/home/ada/venv/bin/python');
    assert.equal(
      resolveInterpreter({ ...base, configuredPath: '${workspaceFolder}/.venv/bin/python' }).command,
      '/work/chip/.venv/bin/python',
    );
  });
});

describe('expandPath', () => {
  it('leaves a ~ inside a path alone', () => {
    assert.equal(expandPath('/a/~b/python', '/home/ada'), '/a/~b/python');
  });

  it('keeps ${workspaceFolder} when there is no folder to put there', () => {
    assert.equal(expandPath('${workspaceFolder}/py', '/home/ada'), '${workspaceFolder}/py');
  });
});

describe('server command line', () => {
  it('runs the module over stdio and appends extra arguments', () => {
    assert.deepEqual(serverArgs([]), ['-m', 'verifrag', 'serve', '--stdio']);
    assert.deepEqual(serverArgs(['--checkpoint', '/c']), ['-m', 'verifrag', 'serve', '--stdio', '--checkpoint', '/c']);
  });

  it('drops non-string extra arguments', () => {
    assert.deepEqual(sanitiseExtraArgs(['--a', 1, null, '--b']), ['--a', '--b']);
    assert.deepEqual(sanitiseExtraArgs('--a'), []);
  });

  it('says where the interpreter came from', () => {
    assert.match(describeInterpreter({ command: 'python3', source: 'default' }), /^python3 \(default/);
    assert.match(describeInterpreter({ command: '/p', source: 'setting' }), /verifrag\.server\.pythonPath/);
  });
});
