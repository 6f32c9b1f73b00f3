import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeGenerateResult,
  generateModuleArguments,
  parseCompletionStats,
  parseStatus,
} from '../../src/logic/protocol';

describe('parseStatus', () => {
  it('accepts the four protocol states', () => {
    for (const state of ['loading', 'ready', 'diagnostics-only', 'error']) {
      assert.deepEqual(parseStatus({ state, message: 'm' }), { state, message: 'm' });
    }
  });

  it('rejects unknown states and non-objects', () => {
    assert.equal(parseStatus({ state: 'busy', message: '' }), undefined);
    assert.equal(parseStatus(null), undefined);
    assert.equal(parseStatus(['ready']), undefined);
  });

  it('tolerates a missing message', () => {
    assert.deepEqual(parseStatus({ state: 'ready' }), { state: 'ready', message: '' });
  });
});

describe('parseCompletionStats', () => {
  it('keeps the protocol fields', () => {
    const stats = { latencyMs: 120, tokensPerSecond: 55.5, newTokens: 9, decoder: 'ntp' };
    assert.deepEqual(parseCompletionStats(stats), stats);
  });

  it('needs numeric latency and rate', () => {
    assert.equal(parseCompletionStats({ latencyMs: '120', tokensPerSecond: 5 }), undefined);
    assert.equal(parseCompletionStats({ latencyMs: 120, tokensPerSecond: Number.NaN }), undefined);
  });
});

describe('generateModuleArguments', () => {
  it('is one object with uri and 0-based line', () => {
    assert.deepEqual(generateModuleArguments('file:///a/top.v', 7), [{ uri: 'file:///a/top.v', line: 7 }]);
  });
});

describe('describeGenerateResult', () => {
  it('reports an inserted module that parses', () => {
    assert.deepEqual(describeGenerateResult({ applied: true, parses: true, message: 'inserted counter' }), {
      severity: 'info',
      text: 'VeriFrag: module inserted: inserted counter',
    });
  });

  it('warns when the inserted module does not parse', () => {
    const got = describeGenerateResult({ applied: true, parses: false, message: '' });
    assert.deepEqual(got, { severity: 'warning', text: 'VeriFrag: module inserted, but it does not parse.' });
  });

  it('warns when nothing was inserted', () => {
    const got = describeGenerateResult({ applied: false, parses: false, message: 'no comment block at line 4' });
    assert.deepEqual(got, { severity: 'warning', text: 'VeriFrag: no module inserted: no comment block at line 4' });
  });

  it('reports a reply of the wrong shape as an error', () => {
    assert.equal(describeGenerateResult(null).severity, 'error');
    assert.equal(describeGenerateResult({ ok: true }).severity, 'error');
  });
});
