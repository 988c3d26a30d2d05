import { expect } from 'chai';
import { compileRouteDelivery } from '../../../src/delivery/route-delivery.ts';

/**
 * Penetration test of the ledger (issue 17): a push's `operationField` value is stored in clear and shown
 * on `/admin/deliveries` and by `deliveries show`, whose rows must hold no citizen identifier. A caller
 * that writes an ID number there gets the route's own operation name recorded instead.
 */
describe('delivery operationField: never an ID number in the ledger (penetration test)', () => {
  const delivery = compileRouteDelivery(
    {
      mode: 'queued',
      operationField: 'module',
      retry: { initialMs: 1000, maxMs: 60000, maxAttempts: 10, maxAgeMs: 86400000 },
    } as never,
    'hotich-push',
    'hotich',
  );

  it('reads a module code', () => {
    expect(delivery.operationOf!({ module: 'LTKT' })).to.equal('LTKT');
    expect(delivery.operationOf!([{ module: 'KS' }])).to.equal('KS');
  });

  it('refuses a 12-digit (or 9-digit) run, so the ledger falls back to the route’s operation', () => {
    for (const module of ['001099012345', 'KS-001099012345', '123456789'])
      expect(delivery.operationOf!({ module }), module).to.equal(undefined);
  });
});
