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

describe('leak check: encodings (issue 14.7)', () => {
  const secret = 'tok+en/s3cr3t "value"';
  const encodings: Record<string, string> = {
    'percent-encoded digits': '{"path":"/c06/%30%30%31%30%39%39%30%30%30%30%30%31"}',
    'mixed, double-encoded digits': '{"path":"/c06/0010%399000%2530%301"}',
    'JSON-escaped digits': '{"note":"\\u00300109900000\\u0031"}',
    'URL-encoded secret': `{"reason":"body=client_secret%3D${encodeURIComponent(secret)}"}`,
    'form-encoded secret': `{"reason":"${encodeURIComponent(secret).replace(/%20/g, '+')}"}`,
    'JSON-escaped secret': `{"echo":${JSON.stringify(`x${secret}y`)}}`,
    'base64 secret (Basic credentials)': `{"h":"Basic ${Buffer.from(`user:${secret}`).toString('base64')}"}`,
    'base64url secret': `{"h":"${Buffer.from(`ab${secret}`).toString('base64url')}"}`,
  };
  for (const [name, text] of Object.entries(encodings)) {
    it(`finds a ${name}`, () => {
      const found = findLeaks([{ label: name, read: () => text }], new Set([secret]));
      expect(found, text).to.have.length.greaterThan(0);
    });
  }

  it('in audit files, counts a 12-digit run glued to letters (a hex hash), which logs may hold', () => {
    const text = '{"hash":"a001099000001b"}';
    expect(findLeaks([{ label: 'audit trail/.audit-rotation.json', read: () => text }], new Set())).to.have.length(1);
    expect(findLeaks([{ label: 'log of gateway', read: () => text }], new Set())).to.have.length(0);
  });
});
