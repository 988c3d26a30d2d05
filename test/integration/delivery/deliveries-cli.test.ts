import { PassThrough, Writable } from 'node:stream';
import { expect } from 'chai';
import { EXIT, formatDetail, formatTable, runDeliveries } from '../../../src/cli/deliveries.ts';
import { describeDelivery, parseListQuery } from '../../../src/delivery/operations.ts';
import type { DeliveryStore } from '../../../src/delivery/store.ts';
import { newDelivery, T0 } from '../../helpers/deliveries.ts';
import { onEachStore } from '../../helpers/delivery-stores.ts';
import { withOverrides } from '../../helpers/ops-delivery-store.ts';

const CITIZEN = '001099012345';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

/** A store with one delivery in each state the operations meet. */
async function filledStore(
  open: () => Promise<DeliveryStore>,
): Promise<Record<'queued' | 'dead' | 'delivered' | 'failed', string>> {
  const store = await open();
  const sealed = Buffer.from(`{"soDinhDanh":"${CITIZEN}"}`);
  const queued = newDelivery({ orderKey: 'k-queued', createdAt: T0, sealed });
  await store.enqueue(queued);
  const dead = newDelivery({
    orderKey: 'k-dead',
    createdAt: T0 + 1,
    sealed,
    upstreamId: 'hotich',
    routeId: 'hotich-push',
  });
  await store.enqueue(dead);
  await store.claimDue(T0 + 2, { owner: 'w', leaseMs: 1000, limit: 10, upstreamIds: ['hotich'] });
  await store.bury(dead.id, 'w', { at: T0 + 3, status: 503, error: 'HTTP 503' });
  const delivered = newDelivery({ orderKey: 'k-delivered', createdAt: T0 + 4 });
  await store.record(delivered, { at: T0 + 5, status: 200, error: null, state: 'delivered' });
  const failed = newDelivery({ orderKey: 'k-failed', createdAt: T0 + 6, mode: 'direct' });
  await store.record(failed, { at: T0 + 7, status: 500, error: 'error_code 5', state: 'failed' });
  await store.close();
  return { queued: queued.id, dead: dead.id, delivered: delivered.id, failed: failed.id };
}

onEachStore('lgsp-gateway deliveries: list, show, retry, drop (issue 17)', (openStore) => {
  let ids: Awaited<ReturnType<typeof filledStore>>;
  const opened: string[] = [];
  const run = async (args: string[], stdin?: PassThrough & { isTTY?: boolean }) => {
    const out = sink();
    const err = sink();
    const code = await runDeliveries(
      args,
      { stdout: out.stream, stderr: err.stream, stdin },
      {
        open: async (configDir) => {
          opened.push(configDir);
          return openStore();
        },
        env: { LGSP_CONFIG_DIR: '/etc/lgsp' },
        clock: { now: () => T0 + 60_000 },
      },
    );
    return { code, stdout: out.text(), stderr: err.text() };
  };

  beforeEach(async () => {
    ids = await filledStore(openStore);
  });

  it('lists newest first as a table, filters by state, route and upstream, and says where the next page starts', async () => {
    const all = await run(['list']);
    expect(all.code).to.equal(EXIT.ok);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(
      /^ID\s+STATE\s+ROUTE\s+UPSTREAM\s+OPERATION\s+ATTEMPTS\s+LAST\s+CREATED\s+NEXT\/DELIVERED$/,
    );
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).to.deep.equal([
      ids.failed,
      ids.delivered,
      ids.dead,
      ids.queued,
    ]);
    expect(all.stdout).to.not.include(CITIZEN);
    expect(opened.at(-1)).to.equal('/etc/lgsp');

    const dead = await run(['list', '--state', 'dead', '--upstream', 'hotich', '--config', '/srv/cfg']);
    expect(dead.stdout).to.include(ids.dead).and.include('HTTP 503');
    expect(dead.stdout).to.not.include(ids.queued);
    expect(opened.at(-1)).to.equal('/srv/cfg');

    const page = await run(['list', '--limit', '2']);
    expect(page.stderr).to.equal(`more: --before ${ids.delivered}\n`);
    const rest = await run(['list', '--limit', '2', '--before', ids.delivered, '--json']);
    const json = JSON.parse(rest.stdout) as { deliveries: { id: string }[]; next: string | null };
    expect(json.deliveries.map((d) => d.id)).to.deep.equal([ids.dead, ids.queued]);
    expect(json.next).to.equal(ids.queued);
    const none = await run(['list', '--route', 'nothing-here']);
    expect(none.stdout).to.equal('(no deliveries)\n');
  });

  it('shows every field but the payload, the business key as its HMAC only', async () => {
    const text = await run(['show', ids.dead]);
    expect(text.code).to.equal(EXIT.ok);
    for (const field of ['id:', 'state:', 'businessKeyHmac:', 'payloadHash:', 'payload:', 'lastError:', 'expiresAt:'])
      expect(text.stdout).to.include(field);
    expect(text.stdout).to.match(/payload:\s+held/);
    expect(text.stdout).to.match(/businessKeyHmac:\s+k-dead/);
    expect(text.stdout).to.not.include(CITIZEN);
    const json = JSON.parse((await run(['show', ids.dead, '--json'])).stdout) as Record<string, unknown>;
    expect(json).to.include({ id: ids.dead, state: 'dead', attempts: 1, lastStatus: 503, payload: 'held' });
    expect(json).to.not.have.property('sealed');
  });

  it('retries a dead delivery (due now) and refuses a delivered one, naming the id', async () => {
    const ok = await run(['retry', ids.dead]);
    expect(ok.code).to.equal(EXIT.ok);
    expect(ok.stdout).to.equal(`${ids.dead}: queued, due now\n`);
    const store = await openStore();
    const row = await store.get(ids.dead);
    await store.close();
    expect(row).to.include({ state: 'queued', nextAttemptAt: T0 + 60_000 });
    const refused = await run(['retry', ids.delivered]);
    expect(refused.code).to.equal(EXIT.refused);
    expect(refused.stderr).to.equal(
      `deliveries: delivery ${ids.delivered} is delivered: retry takes only queued or dead deliveries\n`,
    );
    const unknown = await run(['retry', 'no-such-id']);
    expect(unknown.code).to.equal(EXIT.unknown);
    expect(unknown.stderr).to.equal('deliveries: retry: no delivery no-such-id\n');
  });

  it('drops only with --yes or a "y" typed at a terminal; without a terminal it refuses and changes nothing', async () => {
    const piped = await run(['drop', ids.queued]);
    expect(piped.code).to.equal(EXIT.notConfirmed);
    expect(piped.stderr).to.include(`drop ${ids.queued} not confirmed (pass --yes)`);

    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const asking = run(['drop', ids.queued], tty);
    tty.end('n\n');
    expect((await asking).code).to.equal(EXIT.notConfirmed);

    const tty2 = Object.assign(new PassThrough(), { isTTY: true });
    const yes = run(['drop', ids.queued, '--json'], tty2);
    tty2.end('y\n');
    const done = await yes;
    expect(done.code).to.equal(EXIT.ok);
    expect(JSON.parse(done.stdout).delivery).to.include({ state: 'dropped', payload: 'erased' });
    expect(done.stderr).to.include(`drop delivery ${ids.queued} (queued`);

    const again = await run(['drop', ids.queued, '--yes']);
    expect(again.code).to.equal(EXIT.refused);
    expect(again.stderr).to.include(`delivery ${ids.queued} is dropped`);
    expect((await run(['drop', ids.dead, '-y'])).code).to.equal(EXIT.ok);
  });

  it('refuses bad usage with exit 2 before opening the store, never echoing an odd id', async () => {
    const before = opened.length;
    for (const args of [
      [],
      ['purge'],
      ['show'],
      ['list', '--state', 'lost'],
      ['list', '--limit', '501'],
      ['list', 'extra'],
      ['retry', 'a', 'b'],
      ['show', ids.dead, '--state', 'dead'],
      ['retry', ids.dead, '--yes'],
      ['list', '--bogus'],
      ['show', `x/${CITIZEN}`],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).to.equal(EXIT.usage);
      expect(r.stderr.split('\n')[0]).to.match(/^deliveries: /);
      expect(r.stderr).to.not.include(CITIZEN);
    }
    expect(opened.length).to.equal(before);
  });

  it('a store that cannot open or fails is exit 1 with one line, no stack', async () => {
    const out = sink();
    const err = sink();
    const code = await runDeliveries(
      ['list'],
      { stdout: out.stream, stderr: err.stream },
      {
        open: async () => {
          throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432\n    at stack line'), {
            code: 'ECONNREFUSED',
          });
        },
      },
    );
    expect(code).to.equal(EXIT.store);
    expect(err.text()).to.equal(
      'deliveries: cannot open the delivery store of config: connect ECONNREFUSED 10.0.0.5:5432\n',
    );

    const failing = await openStore();
    const broken = withOverrides(failing, { get: () => Promise.reject(new Error('disk I/O error')) });
    const err2 = sink();
    const code2 = await runDeliveries(
      ['show', ids.dead],
      { stdout: out.stream, stderr: err2.stream },
      { open: async () => broken },
    );
    expect(code2).to.equal(EXIT.store);
    expect(err2.text()).to.equal(`deliveries: show ${ids.dead}: the store failed: disk I/O error\n`);
  });
});

describe('deliveries output formatting and filters (delivery/operations.ts)', () => {
  it('parses and bounds the listing filters', () => {
    expect(parseListQuery({})).to.deep.equal({ filter: { limit: 50 } });
    expect(parseListQuery({ state: 'dead', route: 'r', upstream: 'u', limit: '500', before: 'abc' })).to.deep.equal({
      filter: { state: 'dead', routeId: 'r', upstreamId: 'u', before: 'abc', limit: 500 },
    });
    for (const limit of ['0', '501', '1.5', ' 5', '5e2', '-3', '9'.repeat(20)])
      expect(parseListQuery({ limit }), limit).to.have.property('error');
    expect(parseListQuery({ before: '../x' })).to.have.property('error');
  });

  it('formats a table and a detail view with every field', () => {
    const view = describeDelivery({
      ...newDelivery({ id: 'abc', operation: 'DongBoDVC' }),
      state: 'queued',
      attempts: 2,
      nextAttemptAt: T0 + 1000,
      leaseUntil: null,
      leaseOwner: null,
      updatedAt: T0,
      lastStatus: null,
      lastError: 'GW_UPSTREAM_TIMEOUT',
      deliveredAt: null,
    });
    expect(formatTable([view]).split('\n')[1]).to.match(
      /^abc\s+queued\s+molisa-dongbodvc\s+molisa\s+DongBoDVC\s+2\s+GW_UPSTREAM_TIMEOUT\s+2026-11-27 08:00:00\s+2026-11-27 08:00:01$/,
    );
    const detail = formatDetail(view);
    for (const key of Object.keys(view)) expect(detail).to.match(new RegExp(`^${key}:`, 'm'));
    expect(detail).to.match(/^deliveredAt:\s+-$/m);
  });
});
