/**
 * Payloads of the VeriFrag-specific messages (docs/server-protocol.md), checked at the boundary so a
 * malformed notification is dropped instead of reaching the status bar as `undefined`.
 */

export type ServerState = 'loading' | 'ready' | 'diagnostics-only' | 'error';

export interface StatusParams {
  state: ServerState;
  message: string;
}

export interface CompletionStats {
  latencyMs: number;
  tokensPerSecond: number;
  newTokens: number;
  decoder: string;
}

export interface GenerateModuleArgs {
  uri: string;
  line: number;
}

export interface GenerateModuleResult {
  applied: boolean;
  parses: boolean;
  message: string;
}

const STATES: readonly ServerState[] = ['loading', 'ready', 'diagnostics-only', 'error'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function parseStatus(value: unknown): StatusParams | undefined {
  if (!isRecord(value) || !STATES.includes(value.state as ServerState)) {
    return undefined;
  }
  return { state: value.state as ServerState, message: typeof value.message === 'string' ? value.message : '' };
}

export function parseCompletionStats(value: unknown): CompletionStats | undefined {
  if (!isRecord(value) || !isNumber(value.latencyMs) || !isNumber(value.tokensPerSecond)) {
    return undefined;
  }
  return {
    latencyMs: value.latencyMs,
    tokensPerSecond: value.tokensPerSecond,
    newTokens: Number.isInteger(value.newTokens) ? (value.newTokens as number) : 0,
    decoder: typeof value.decoder === 'string' ? value.decoder : '',
  };
}

/** The single argument of `verifrag.generateModule`: the document and the 0-based cursor line. */
export function generateModuleArguments(uri: string, line: number): [GenerateModuleArgs] {
  return [{ uri, line }];
}

export type Severity = 'info' | 'warning' | 'error';

/** Turns the command's result into one message for the user; a reply of another shape is reported as such. */
export function describeGenerateResult(result: unknown): { severity: Severity; text: string } {
  if (!isRecord(result) || typeof result.applied !== 'boolean') {
    return { severity: 'error', text: 'VeriFrag: the server sent an unexpected reply to Generate Module.' };
  }
  const message = typeof result.message === 'string' && result.message ? result.message : '';
  if (!result.applied) {
    return { severity: 'warning', text: `VeriFrag: no module inserted${message ? `: ${message}` : '.'}` };
  }
  if (result.parses === false) {
    return {
      severity: 'warning',
      text: `VeriFrag: module inserted, but it does not parse${message ? `: ${message}` : '.'}`,
    };
  }
  return { severity: 'info', text: `VeriFrag: module inserted${message ? `: ${message}` : '.'}` };
}
