import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

/** Every relative import of every .ts file below `dir`, as [file, target folder under src]. */
function importsOf(dir: string): [string, string][] {
  const out: [string, string][] = [];
  for (const entry of readdirSync(path.join(src, dir), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    for (const m of readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)'/gm)) {
      const target = path.relative(src, path.resolve(path.dirname(file), m[1]));
      out.push([path.relative(src, file), target.split(path.sep)[0]]);
    }
  }
  return out;
}

describe('pipeline and runtime: the plan does not know the stages that run it', () => {
  it('nothing in src/runtime imports src/pipeline', () => {
    expect(importsOf('runtime').length, 'the scan sees the imports').to.be.greaterThan(20);
    expect(importsOf('runtime').filter(([, folder]) => folder === 'pipeline')).to.deep.equal([]);
  });

  it('the stages import no runtime code, only its types (the plan is data)', () => {
    for (const [file] of importsOf('pipeline').filter(([, folder]) => folder === 'runtime')) {
      const text = readFileSync(path.join(src, file), 'utf8');
      for (const line of text.split('\n').filter((l) => l.includes('/runtime/') && l.startsWith('import'))) {
        if (file === 'pipeline/gateway-handler.ts') continue; // the wiring: releaseRetired on the last request
        expect(line, file).to.match(/^import type /);
      }
    }
  });
});
