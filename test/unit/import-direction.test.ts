import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

/**
 * The folders of src/ are concepts (docs/architecture.md, "Folders"); imports between them run one way.
 * These tests read every relative import of every .ts file under src/ (type imports included: a type
 * is a dependency too) and check the folder graph.
 */

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

interface Import {
  /** The importing file, relative to src/ (`pipeline/stages/send.ts`). */
  readonly file: string;
  /** The imported file, relative to src/. */
  readonly target: string;
  readonly typeOnly: boolean;
}

const folderOf = (file: string): string => file.split('/')[0];

/** Every relative import (static `import`/`export … from`, and `import('…')`) of every .ts file below `dir`. */
function importsOf(dir = ''): Import[] {
  const out: Import[] = [];
  for (const entry of readdirSync(path.join(src, dir), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const full = path.join(entry.parentPath, entry.name);
    const text = readFileSync(full, 'utf8');
    const specs = [
      ...[...text.matchAll(/^(import|export)(\s+type)?[^'";]*?from\s+'(\.[^']+)'/gm)].map((m) => ({
        spec: m[3],
        typeOnly: m[2] !== undefined,
      })),
      ...[...text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)].map((m) => ({ spec: m[1], typeOnly: false })),
    ];
    for (const { spec, typeOnly } of specs) {
      const file = path.relative(src, full).split(path.sep).join('/');
      const target = path
        .relative(src, path.resolve(path.dirname(full), spec))
        .split(path.sep)
        .join('/');
      out.push({ file, target, typeOnly });
    }
  }
  return out;
}

/** folder → the folders it imports, each with one import that shows it. */
function folderGraph(imports: readonly Import[]): Map<string, Map<string, Import>> {
  const graph = new Map<string, Map<string, Import>>();
  for (const i of imports) {
    const from = folderOf(i.file);
    const to = folderOf(i.target);
    if (!graph.has(from)) graph.set(from, new Map());
    if (from !== to && !graph.get(from)!.has(to)) graph.get(from)!.set(to, i);
  }
  return graph;
}

/** Every cycle's folders in the graph, as `a → b → … → a` with the import that makes each step. */
function cycles(graph: Map<string, Map<string, Import>>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (state.get(next) === 'open') {
        const loop = [...stack.slice(stack.indexOf(next)), next];
        found.push(
          loop
            .slice(0, -1)
            .map((f, k) => `${graph.get(f)!.get(loop[k + 1])!.file} → ${graph.get(f)!.get(loop[k + 1])!.target}`)
            .join(', '),
        );
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

/** The wiring: the only folders that build the gateway out of the others (cli/ runs app/). */
const WIRING = new Set(['app', 'cli']);

/** Entry points (index.ts) imported from outside the wiring, each with the reason it is allowed. */
const ENTRY_POINT_EXCEPTIONS: Record<string, string> = {
  'runtime/runtime.ts → errors/dialects/index.ts':
    'the route build resolves each route’s dialect by name (default problem+json) in the dialect registry',
};

describe('import direction: folders by concept, imports one way (docs/architecture.md, Folders)', () => {
  const all = importsOf();

  it('the scan sees the imports of every folder', () => {
    expect(all.length, 'imports seen').to.be.greaterThan(300);
    const folders = new Set(all.map((i) => folderOf(i.file)));
    for (const f of ['app', 'auth', 'cli', 'config', 'errors', 'observability', 'pipeline', 'policy', 'runtime'])
      expect(folders, f).to.include(f);
    expect(
      all.some((i) => i.typeOnly),
      'type imports are seen',
    ).to.equal(true);
  });

  it('the cycle check finds a cycle when there is one (self-test on a made-up graph)', () => {
    const fake = (file: string, target: string): Import => ({ file, target, typeOnly: true });
    const graph = folderGraph([fake('a/x.ts', 'b/y.ts'), fake('b/y.ts', 'c/z.ts'), fake('c/z.ts', 'a/w.ts')]);
    expect(cycles(graph)).to.deep.equal(['a/x.ts → b/y.ts, b/y.ts → c/z.ts, c/z.ts → a/w.ts']);
    expect(cycles(folderGraph([fake('a/x.ts', 'b/y.ts'), fake('a/x.ts', 'a/w.ts')]))).to.deep.equal([]);
  });

  it('no folder of src/ imports another that imports it back, directly or around a longer loop', () => {
    expect(cycles(folderGraph(all))).to.deep.equal([]);
  });

  it('nothing imports the wiring (app/, cli/) except the wiring itself, and app/ never imports cli/', () => {
    const wrong = all.filter(
      (i) =>
        WIRING.has(folderOf(i.target)) &&
        folderOf(i.file) !== folderOf(i.target) &&
        !(folderOf(i.file) === 'cli' && folderOf(i.target) === 'app'),
    );
    expect(wrong.map((i) => `${i.file} → ${i.target}`)).to.deep.equal([]);
  });

  it("only the wiring imports another folder's entry point (index.ts), save the exceptions listed with their reason", () => {
    const wrong = all
      .filter((i) => i.target.endsWith('/index.ts') && folderOf(i.file) !== folderOf(i.target))
      .filter((i) => !WIRING.has(folderOf(i.file)))
      .map((i) => `${i.file} → ${i.target}`);
    expect(wrong).to.deep.equal(Object.keys(ENTRY_POINT_EXCEPTIONS));
  });

  it('nothing in src/runtime imports src/pipeline: the plan does not know the stages that run it', () => {
    expect(all.filter((i) => i.file.startsWith('runtime/') && folderOf(i.target) === 'pipeline')).to.deep.equal([]);
  });

  it('the stages import no runtime code, only its types (the plan is data)', () => {
    const wrong = all.filter(
      (i) =>
        i.file.startsWith('pipeline/') &&
        folderOf(i.target) === 'runtime' &&
        !i.typeOnly &&
        i.file !== 'pipeline/gateway-handler.ts', // the runner: releaseRetired on the last request
    );
    expect(wrong.map((i) => `${i.file} → ${i.target}`)).to.deep.equal([]);
  });
});
