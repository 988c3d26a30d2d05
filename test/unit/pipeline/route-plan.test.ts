import { expect } from 'chai';
import type { RouteConfig } from '../../../src/config/types.ts';
import { compileRoutePlan, type RoutePlanInputs } from '../../../src/runtime/route-plan.ts';

const limits = { bodyBytes: 1000, jsonDepth: 8, objectKeys: 50, upload: { minBytesPerSecond: 10, windowMs: 1000 } };
const route = { id: 'r', path: '/u/x', methods: ['POST'], upstream: 'u' } as unknown as RouteConfig;
const plan = (over: Partial<RoutePlanInputs> = {}) =>
  compileRoutePlan({
    route,
    limits,
    upstreamResponseTimeoutMs: 3000,
    hasRequestStage: false,
    hasResponseStage: false,
    ...over,
  });

describe('route plan: compiled once per route at load', () => {
  it('body mode: a local answer first, then JSON (request stage or JSON credential), form, else pass', () => {
    const answered = { ...route, answer: { type: 'molisa-compat-token' } } as unknown as RouteConfig;
    expect(plan({ route: answered, hasRequestStage: true }).body).to.equal('answer');
    expect(plan({ hasRequestStage: true }).body).to.equal('json');
    expect(plan({ credentialBodyNeed: 'json' }).body).to.equal('json');
    expect(plan({ credentialBodyNeed: 'form' }).body).to.equal('form');
    // A request stage wins over a form credential: the body is JSON to map and validate.
    expect(plan({ hasRequestStage: true, credentialBodyNeed: 'form' }).body).to.equal('json');
    expect(plan().body).to.equal('pass');
    // Issue 16.2: a signed answer is read and checked; a streamed call's answer would pass unchecked.
    expect(plan({ verifiesAnswer: true, hasResponseStage: true }).body).to.equal('json');
  });

  it('limits, timeout, answer reading and cookie policy are read from config once, and the plan is frozen', () => {
    const p = plan({ hasResponseStage: true });
    expect(p).to.deep.include({ bodyLimit: 1000, json: { maxDepth: 8, maxKeys: 50 }, responseTimeoutMs: 3000 });
    expect(p.readsAnswer).to.equal(true);
    expect(p.allowSetCookie).to.equal(false);
    expect(plan({ route: { ...route, timeoutMs: 500, allowSetCookie: true } }).responseTimeoutMs).to.equal(500);
    expect(Object.isFrozen(p) && Object.isFrozen(p.json)).to.equal(true);
  });

  it('a buffered call is replayed at most once after a refused token', () => {
    expect(plan().tokenReplays).to.equal(1);
  });
});
