import { Writable } from 'node:stream';
import { expect } from 'chai';
import { formatReconciliation, reconciliationLines, runReport } from '../../../src/cli/report.ts';
import { newDelivery } from '../../helpers/deliveries.ts';
import { onEachStore } from '../../helpers/delivery-stores.ts';

const OCT = Date.UTC(2026, 9, 15);
const NOV = Date.UTC(2026, 10, 3);

function sink() {
  let text = '';
  return {
    stream: new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        done();
      },
    }),
    text: () => text,
  };
}

onEachStore(
  'lgsp-gateway report reconciliation: pushes never accepted, per upstream and month (issue 17)',
  (openStore) => {
    beforeEach(async () => {
      const store = await openStore();
      const record = (over: Parameters<typeof newDelivery>[0], state: 'delivered' | 'failed') =>
        store.record(newDelivery({ orderKey: null, mode: 'direct', ...over }), {
          at: (over?.createdAt ?? 0) + 1,
          status: state === 'delivered' ? 200 : 500,
          error: null,
          state,
        });
      // MOLISA, October: 2 failed direct pushes, 1 accepted. November: one queued, one dead, one dropped.
      await record({ createdAt: OCT }, 'failed');
      await record({ createdAt: OCT + 1 }, 'failed');
      await record({ createdAt: OCT + 2 }, 'delivered');
      await store.enqueue(newDelivery({ orderKey: null, createdAt: NOV }));
      const dead = newDelivery({ orderKey: null, createdAt: NOV + 1 });
      await store.enqueue(dead);
      await store.claimDue(NOV + 2, { owner: 'w', leaseMs: 1000, limit: 1 });
      const claimed = (await store.list({ state: 'in_flight', limit: 5 }))[0];
      await store.bury(claimed.id, 'w', { at: NOV + 3, status: 400, error: 'error_code 400' });
      const dropped = newDelivery({ orderKey: null, createdAt: NOV + 4 });
      await store.enqueue(dropped);
      await store.drop(dropped.id, NOV + 5);
      // Civil status, November: everything accepted: no line.
      await record({ createdAt: NOV, upstreamId: 'hotich' }, 'delivered');
      await store.close();
    });

    const run = async (args: string[]) => {
      const out = sink();
      const err = sink();
      const code = await runReport(
        ['reconciliation', ...args],
        { stdout: out.stream, stderr: err.stream },
        {},
        async (d) => {
          expect(d).to.equal('/etc/lgsp');
          return openStore();
        },
      );
      return { code, stdout: out.text(), stderr: err.text() };
    };

    it('prints one line per upstream and month with a count per state and a total; accepted pushes do not count', async () => {
      const r = await run(['--config', '/etc/lgsp']);
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0].split(/\s+/)).to.deep.equal([
        'UPSTREAM',
        'MONTH',
        'QUEUED',
        'IN_FLIGHT',
        'DEAD',
        'DROPPED',
        'FAILED',
        'TOTAL',
      ]);
      expect(lines[1].split(/\s+/)).to.deep.equal(['molisa', '2026-10', '0', '0', '0', '0', '2', '2']);
      expect(lines[2].split(/\s+/)).to.deep.equal(['molisa', '2026-11', '1', '0', '1', '1', '0', '3']);
      expect(lines[3].split(/\s+/)).to.deep.equal(['(total)', '1', '0', '1', '1', '2', '5']);
      expect(r.stdout).to.not.include('hotich');
    });

    it('--since keeps months from then on; --format json gives the same lines', async () => {
      const r = await run(['--config', '/etc/lgsp', '--since', '2026-11', '--format', 'json']);
      expect(r.code, r.stderr).to.equal(0);
      const json = JSON.parse(r.stdout) as { since: string; lines: unknown[] };
      expect(json.since).to.equal('2026-11');
      expect(json.lines).to.deep.equal([
        {
          upstream: 'molisa',
          month: '2026-11',
          counts: { queued: 1, in_flight: 0, dead: 1, dropped: 1, failed: 0 },
          total: 3,
        },
      ]);
    });

    it('refuses a bad --since or --format with exit 2, and a store that cannot open with exit 1', async () => {
      for (const args of [['--since', '2026-13'], ['--since', '2026-11-01'], ['--format', 'csv'], ['--bogus']])
        expect((await run(args)).code, args.join(' ')).to.equal(2);
      const err = sink();
      const code = await runReport(['reconciliation'], { stdout: sink().stream, stderr: err.stream }, {}, async () => {
        throw new Error('no delivery store configured\nstack');
      });
      expect(code).to.equal(1);
      expect(err.text()).to.equal(
        'report reconciliation: cannot open the delivery store of config: no delivery store configured\n',
      );
    });

    it('says so when every push was accepted', () => {
      expect(formatReconciliation(reconciliationLines([]))).to.equal('(every push was accepted)\n');
      expect(reconciliationLines([{ upstreamId: 'x', month: '2026-01', state: 'delivered', count: 4 }])).to.deep.equal(
        [],
      );
    });
  },
);
