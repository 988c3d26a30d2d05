import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createAuditTrail } from '../../../src/observability/audit.ts';
import { AUDIT_ENTRY, makeConfig, memoryLogger, sink } from '../consumers/helpers.ts';

/**
 * Rolling updates stop replicas under load: a request aborted by its client during the SIGTERM drain
 * finishes after the audit trail was closed. Recording it must not crash the process ("write after end").
 */
describe('deploy: audit trail after shutdown', () => {
  for (const output of ['stdout', 'file'] as const) {
    it(`a record after close() is dropped with a warning, not an unhandled error (${output})`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-audit-'));
      const out = sink();
      const logger = memoryLogger();
      const audit = createAuditTrail(makeConfig({ audit: { enabled: true, output, dir, hmacKey: 'k'.repeat(40) } }), {
        logger,
        stdout: out,
      });
      audit.record(AUDIT_ENTRY);
      await audit.close();
      const errors: Error[] = [];
      process.on('uncaughtException', (e) => errors.push(e));
      try {
        audit.record({ ...AUDIT_ENTRY, requestId: 'r2' });
        await new Promise((r) => setImmediate(r));
      } finally {
        process.removeAllListeners('uncaughtException');
      }
      expect(errors).to.deep.equal([]);
      expect(logger.lines.join('')).to.include('audit record after shutdown dropped').and.include('r2');
      if (output === 'stdout') expect(out.text()).to.include('"r1"').and.not.include('"r2"');
      rmSync(dir, { recursive: true, force: true });
    });
  }
});
