import { expect } from 'chai';
import { xmlBodyRefusal } from '../../../src/pipeline/xml-body.ts';

/**
 * Penetration test of XML bodies (issue 16.4): the gateway refuses a DTD by looking for `<!DOCTYPE` in the
 * bytes as UTF-8, so the national side's parser must read the bytes as UTF-8 too. An XML declaration that
 * names another encoding makes a parser that honours it read other characters than the gateway checked:
 * under UTF-7, `+ADw-!DOCTYPE` is `<!DOCTYPE` (XXE, entity expansion) though no `<!DOCTYPE` is in the bytes;
 * under ISO-8859-1 every Vietnamese letter changes. Only UTF-8 (or no encoding) may be declared.
 */
describe('XML bodies: the encoding declaration must be UTF-8 (penetration test)', () => {
  const check = (body: string) => xmlBodyRefusal({ 'content-type': 'text/xml; charset=utf-8' }, Buffer.from(body));

  it('refuses a UTF-7 declaration hiding a DOCTYPE from the byte check', () => {
    const hidden =
      '<?xml version="1.0" encoding="UTF-7"?>+ADwAIQ-DOCTYPE a +AFs-+ADwAIQ-ENTITY x SYSTEM +ACI-file:///etc/passwd+ACI-+AD4-+AF0-+AD4-<a>&x;</a>';
    expect(check(hidden)).to.have.property('kind', 'content');
  });

  it('refuses any other encoding than UTF-8, in either quote and any case', () => {
    for (const decl of [
      '<?xml version="1.0" encoding="ISO-8859-1"?>',
      "<?xml version='1.0' encoding='utf-16'?>",
      '<?xml version="1.0"\n  encoding = "IBM037" ?>',
      `<?xml version="1.0"${' '.repeat(4096)}encoding="UTF-7"?>`,
    ])
      expect(check(`${decl}<a/>`), decl).to.have.property('kind', 'content');
  });

  it('accepts UTF-8 declared, or no encoding declared', () => {
    for (const decl of [
      '<?xml version="1.0" encoding="UTF-8"?>',
      "<?xml version='1.0' encoding='utf-8' standalone='yes'?>",
      '<?xml version="1.0"?>',
      '',
    ])
      expect(check(`${decl}<a>Nguyễn</a>`), decl).to.equal(undefined);
  });
});
