import { expect } from 'chai';
import { findLeaks } from '../../helpers/written-registry.ts';

describe('leak check of everything the suite wrote', () => {
  it('finds a 12-digit ID and a registered secret in clear, and nothing in masked or longer digit runs', () => {
    const sources = [
      { label: 'clear', read: () => '{"path":"/c06/001099000001","key":"consumer-secret-value"}' },
      {
        label: 'masked',
        read: () =>
          '{"path":"/c06/[ID12]","ts":1751958000123,"hash":"a001099000001b","requestId":"5228fc0c-81f5-4c27-8f6e-727001099000"}',
      },
    ];
    const found = findLeaks(sources, new Set(['consumer-secret-value']));
    expect(found.map((f) => `${f.source}:${f.what}`)).to.deep.equal(['clear:ID number', 'clear:secret']);
    expect(found[0].excerpt).not.to.contain('001099000001');
  });
});
