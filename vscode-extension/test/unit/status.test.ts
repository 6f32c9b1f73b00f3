import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCompletion, renderStatus, StatusModel } from '../../src/logic/status';

const stats = { latencyMs: 182.4, tokensPerSecond: 41.27, newTokens: 12, decoder: 'medusa' };
const base: StatusModel = { state: 'ready', message: '', inlineCompletionsEnabled: true };

describe('renderStatus', () => {
  it('shows each state in the text', () => {
    assert.equal(renderStatus({ ...base, state: 'loading' }).text, '$(loading~spin) VeriFrag: loading model');
    assert.equal(renderStatus(base).text, '$(check) VeriFrag: ready');
    assert.equal(renderStatus({ ...base, state: 'diagnostics-only' }).text, '$(warning) VeriFrag: diagnostics only');
    assert.equal(renderStatus({ ...base, state: 'error' }).text, '$(error) VeriFrag: error');
    assert.equal(renderStatus({ ...base, state: 'not-installed' }).text, '$(error) VeriFrag: not installed');
  });

  it('shows the last completion once ready', () => {
    assert.equal(renderStatus({ ...base, lastCompletion: stats }).text, '$(check) VeriFrag 182 ms · 41.3 tok/s');
  });

  it('keeps the state visible when not ready, even with an older completion', () => {
    assert.equal(
      renderStatus({ ...base, state: 'diagnostics-only', lastCompletion: stats }).text,
      '$(warning) VeriFrag: diagnostics only',
    );
  });

  it('marks inline completions switched off', () => {
    assert.equal(renderStatus({ ...base, inlineCompletionsEnabled: false }).text, '$(check) VeriFrag: ready (inline off)');
  });

  it('colours trouble', () => {
    assert.equal(renderStatus(base).tone, 'normal');
    assert.equal(renderStatus({ ...base, state: 'diagnostics-only' }).tone, 'warning');
    assert.equal(renderStatus({ ...base, state: 'error' }).tone, 'error');
  });

  it('puts the reason, the completion details and the interpreter in the tooltip', () => {
    const { tooltip } = renderStatus({
      ...base,
      state: 'diagnostics-only',
      message: 'model failed to load: out of memory',
      lastCompletion: stats,
      interpreter: '/venv/bin/python (from verifrag.server.pythonPath)',
    });
    assert.match(tooltip, /^VeriFrag: diagnostics only\nmodel failed to load: out of memory\n/);
    assert.match(tooltip, /Last completion: 182 ms · 41\.3 tok\/s, 12 tokens, medusa/);
    assert.match(tooltip, /Python: \/venv\/bin\/python/);
  });
});

describe('formatCompletion', () => {
  it('rounds fast rates to whole tokens', () => {
    assert.equal(formatCompletion({ ...stats, latencyMs: 35.6, tokensPerSecond: 312.7 }), '36 ms · 313 tok/s');
  });
});
