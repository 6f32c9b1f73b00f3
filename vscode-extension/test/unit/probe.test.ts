import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { classifyProbe, installCommand, isVerifragPyproject, runProbe } from '../../src/logic/probe';

const REPO_PYPROJECT = join(__dirname, '..', '..', '..', '..', 'pyproject.toml');

describe('classifyProbe', () => {
  it('reads the version from a successful import', () => {
    assert.deepEqual(
      classifyProbe({ exitCode: 0, stdout: 'sitecustomize says hi\nverifrag-version=0.1.0\n', stderr: '' }),
      { kind: 'ok', version: '0.1.0' },
    );
  });

  it('recognises a missing package', () => {
    const stderr = 'Traceback (most recent call last):\n  File "<string>", line 1\nModuleNotFoundError: No module named \'verifrag\'\n';
    assert.deepEqual(classifyProbe({ exitCode: 1, stdout: '', stderr }), {
      kind: 'missing-package',
      detail: "ModuleNotFoundError: No module named 'verifrag'",
    });
  });

  it('recognises a missing interpreter', () => {
    assert.equal(classifyProbe({ spawnErrorCode: 'ENOENT', exitCode: null, stdout: '', stderr: '' }).kind, 'missing-interpreter');
  });

  it('reports other import failures with their last line', () => {
    const stderr = "Traceback ...\nModuleNotFoundError: No module named 'torch'\n";
    assert.deepEqual(classifyProbe({ exitCode: 1, stdout: '', stderr }), {
      kind: 'failed',
      detail: "ModuleNotFoundError: No module named 'torch'",
    });
  });

  it('does not take exit code 0 without the version line as success', () => {
    assert.equal(classifyProbe({ exitCode: 0, stdout: '', stderr: '' }).kind, 'failed');
  });
});

describe('runProbe', () => {
  it('reports an interpreter that does not exist', async () => {
    const result = await runProbe(join(tmpdir(), 'no-such-python-here'));
    assert.equal(result.kind, 'missing-interpreter');
  });

  // Fake interpreters are shell scripts, so these run where /bin/sh does.
  const posix = process.platform !== 'win32';

  function fakePython(body: string): string {
    const path = join(mkdtempSync(join(tmpdir(), 'verifrag-probe-')), 'python');
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  it('passes the import script to the interpreter and reads its answer', { skip: !posix }, async () => {
    const python = fakePython('case "$2" in *"import verifrag"*) echo verifrag-version=9.9.9;; *) exit 3;; esac');
    assert.deepEqual(await runProbe(python), { kind: 'ok', version: '9.9.9' });
  });

  it('reports a missing package from a real process', { skip: !posix }, async () => {
    const python = fakePython('echo "ModuleNotFoundError: No module named \'verifrag\'" >&2; exit 1');
    assert.equal((await runProbe(python)).kind, 'missing-package');
  });
});

describe('installCommand', () => {
  it('pip-installs the package into the chosen interpreter', () => {
    assert.equal(installCommand('/venv/bin/python', 'linux'), '/venv/bin/python -m pip install verifrag');
  });

  it('installs a source checkout in editable mode', () => {
    assert.equal(installCommand('python3', 'linux', '/work/verifrag'), 'python3 -m pip install -e /work/verifrag');
  });

  it('quotes paths with spaces for the shell', () => {
    assert.equal(installCommand('/my env/python', 'linux', '/my src'), "'/my env/python' -m pip install -e '/my src'");
    assert.equal(
      installCommand('C:\\Program Files\\Python\\python.exe', 'win32'),
      '& "C:\\Program Files\\Python\\python.exe" -m pip install verifrag',
    );
  });
});

describe('isVerifragPyproject', () => {
  it("recognises this repository's pyproject.toml", () => {
    assert.equal(isVerifragPyproject(readFileSync(REPO_PYPROJECT, 'utf8')), true);
  });

  it('rejects other projects', () => {
    assert.equal(isVerifragPyproject('[project]\nname = "verifrag-tools"\n'), false);
    assert.equal(isVerifragPyproject('[project]\nname = "other"\n'), false);
  });
});
