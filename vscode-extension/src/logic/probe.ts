/**
 * Checks that the chosen interpreter can import `verifrag` before the language client starts it,
 * so a missing package becomes a clear message with an install command instead of a crash loop.
 */
import { execFile } from 'node:child_process';

export type ProbeResult =
  | { kind: 'ok'; version: string }
  | { kind: 'missing-interpreter'; detail: string }
  | { kind: 'missing-package'; detail: string }
  | { kind: 'failed'; detail: string };

/** Printed by the probe script; anything else on stdout is noise from site customisations. */
const VERSION_PREFIX = 'verifrag-version=';
const PROBE_SCRIPT = `import verifrag; print("${VERSION_PREFIX}" + verifrag.__version__)`;

export interface ProcessOutcome {
  /** Set when the process could not be started at all (`ENOENT`, `EACCES`). */
  spawnErrorCode?: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export function classifyProbe(outcome: ProcessOutcome): ProbeResult {
  if (outcome.spawnErrorCode === 'ENOENT' || outcome.spawnErrorCode === 'EACCES') {
    return { kind: 'missing-interpreter', detail: outcome.spawnErrorCode };
  }
  if (outcome.exitCode === 0) {
    const line = outcome.stdout.split(/\r?\n/).find((l) => l.startsWith(VERSION_PREFIX));
    if (line) {
      return { kind: 'ok', version: line.slice(VERSION_PREFIX.length).trim() };
    }
  }
  const stderr = outcome.stderr.trim();
  if (/ModuleNotFoundError: No module named '?verifrag'?/.test(stderr)) {
    return { kind: 'missing-package', detail: lastLine(stderr) };
  }
  return { kind: 'failed', detail: lastLine(stderr) || `exit code ${outcome.exitCode}` };
}

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.length > 0 ? lines[lines.length - 1] : '';
}

export function runProbe(python: string, timeoutMs = 20000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(python, ['-c', PROBE_SCRIPT], { timeout: timeoutMs, windowsHide: true }, (error, stdout, stderr) => {
      const errno = error as (NodeJS.ErrnoException & { code?: string | number }) | null;
      const spawnErrorCode = typeof errno?.code === 'string' ? errno.code : undefined;
      const exitCode = error ? (typeof errno?.code === 'number' ? errno.code : null) : 0;
      resolve(classifyProbe({ spawnErrorCode, exitCode, stdout: String(stdout), stderr: String(stderr) }));
    });
  });
}

/** Double quotes survive both POSIX shells and PowerShell; PowerShell also needs `&` to run a quoted path. */
function quoteForShell(path: string, platform: NodeJS.Platform): string {
  const plain = /^[\w./:\\-]+$/.test(path);
  if (platform === 'win32') {
    return plain ? path : `& "${path}"`;
  }
  return plain ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command offered when `verifrag` is missing: an editable install when the workspace is a VeriFrag
 * checkout (the usual case while the package is not on an index), otherwise a plain pip install.
 */
export function installCommand(python: string, platform: NodeJS.Platform, sourceDir?: string): string {
  const target = sourceDir ? `-e ${quoteForShell(sourceDir, platform).replace(/^& /, '')}` : 'verifrag';
  return `${quoteForShell(python, platform)} -m pip install ${target}`;
}

/** True for the text of a pyproject.toml that builds the `verifrag` distribution. */
export function isVerifragPyproject(text: string): boolean {
  return /^\s*name\s*=\s*["']verifrag["']\s*$/m.test(text);
}
