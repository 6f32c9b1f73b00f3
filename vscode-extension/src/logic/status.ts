/**
 * What the status bar item shows. The server reports its model state; the client adds the states the
 * server cannot report itself (starting, stopped, not installed).
 */
import type { CompletionStats, ServerState } from './protocol';

export type ClientState = ServerState | 'starting' | 'stopped' | 'not-installed';

export interface StatusModel {
  state: ClientState;
  /** Why the state is what it is (server message, probe detail); shown in the tooltip. */
  message: string;
  lastCompletion?: CompletionStats;
  inlineCompletionsEnabled: boolean;
  interpreter?: string;
}

export type StatusTone = 'normal' | 'warning' | 'error';

export interface StatusView {
  text: string;
  tooltip: string;
  tone: StatusTone;
}

const LABELS: Record<ClientState, { icon: string; label: string; tone: StatusTone }> = {
  starting: { icon: '$(loading~spin)', label: 'starting', tone: 'normal' },
  loading: { icon: '$(loading~spin)', label: 'loading model', tone: 'normal' },
  ready: { icon: '$(check)', label: 'ready', tone: 'normal' },
  'diagnostics-only': { icon: '$(warning)', label: 'diagnostics only', tone: 'warning' },
  error: { icon: '$(error)', label: 'error', tone: 'error' },
  stopped: { icon: '$(circle-slash)', label: 'stopped', tone: 'warning' },
  'not-installed': { icon: '$(error)', label: 'not installed', tone: 'error' },
};

/** `182 ms · 41.3 tok/s`: whole milliseconds; one decimal for rates under 100 where it still matters. */
export function formatCompletion(stats: CompletionStats): string {
  const rate = stats.tokensPerSecond < 100 ? stats.tokensPerSecond.toFixed(1) : Math.round(stats.tokensPerSecond).toString();
  return `${Math.round(stats.latencyMs)} ms · ${rate} tok/s`;
}

export function renderStatus(model: StatusModel): StatusView {
  const { icon, label, tone } = LABELS[model.state];
  // Once ready, the latest completion's speed is the useful thing to show; before that, the state is.
  let text = `${icon} VeriFrag`;
  if (model.state === 'ready' && model.lastCompletion) {
    text += ` ${formatCompletion(model.lastCompletion)}`;
  } else {
    text += `: ${label}`;
  }
  if (!model.inlineCompletionsEnabled) {
    text += ' (inline off)';
  }

  const lines = [`VeriFrag: ${label}`];
  if (model.message) {
    lines.push(model.message);
  }
  if (model.lastCompletion) {
    const c = model.lastCompletion;
    const decoder = c.decoder ? `, ${c.decoder}` : '';
    lines.push(`Last completion: ${formatCompletion(c)}, ${c.newTokens} tokens${decoder}`);
  }
  lines.push(`Inline completions: ${model.inlineCompletionsEnabled ? 'on' : 'off'}`);
  if (model.interpreter) {
    lines.push(`Python: ${model.interpreter}`);
  }
  lines.push('Click to show the server output.');
  return { text, tooltip: lines.join('\n'), tone };
}
