import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly instructions: Instruction[];
}

/** Parses a Dockerfile into instructions: comments dropped, `\` continuations joined, keywords upper-cased. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buffer = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (buffer === '' && (line === '' || line.startsWith('#'))) return;
    if (buffer !== '' && line.startsWith('#')) return; // comment lines inside a continuation
    if (buffer === '') start = i + 1;
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1).trim()} `;
      return;
    }
    buffer += line;
    const m = /^(\S+)\s*(.*)$/s.exec(buffer.trim())!;
    out.push({ keyword: m[1].toUpperCase(), args: m[2].trim(), line: start });
    buffer = '';
  });
  if (buffer !== '') throw new Error('Dockerfile ends inside a line continuation');
  return out;
}

/** Splits instructions into build stages, substituting global `ARG name=default` values in FROM. */
function stagesOf(instructions: Instruction[]): Stage[] {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [image, as, name] = ins.args.split(/\s+/);
      const from = image.replace(/\$\{?(\w+)\}?/g, (_m, n: string) => globalArgs.get(n) ?? '');
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`line ${ins.line}: only ARG may come before the first FROM`);
      const [n, v] = ins.args.split('=');
      globalArgs.set(n, v ?? '');
    } else stages[stages.length - 1].instructions.push(ins);
  }
  return stages;
}

/** JSON exec form (`["a","b"]`) to its argv; shell form to a single string. */
const execForm = (args: string): string[] => (args.startsWith('[') ? (JSON.parse(args) as string[]) : [args]);

describe('deploy: Dockerfile', () => {
  const text = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const instructions = parseDockerfile(text);
  const stages = stagesOf(instructions);
  const final = stages[stages.length - 1];
  const finalOf = (keyword: string) => final.instructions.filter((i) => i.keyword === keyword);
  const envOf = (stage: Stage) => {
    const env = new Map<string, string>();
    for (const ins of stage.instructions.filter((i) => i.keyword === 'ENV'))
      for (const m of ins.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env.set(m[1], m[2].replace(/^"|"$/g, ''));
    return env;
  };

  it('parses: only known instructions, continuation lines joined', () => {
    const known = [
      'FROM',
      'ARG',
      'ENV',
      'WORKDIR',
      'COPY',
      'RUN',
      'USER',
      'VOLUME',
      'EXPOSE',
      'HEALTHCHECK',
      'ENTRYPOINT',
      'CMD',
    ];
    for (const ins of instructions) expect(known, `line ${ins.line}`).to.include(ins.keyword);
    expect(parseDockerfile('FROM a\nRUN x \\\n  # c\n  && y\n')).to.deep.equal([
      { keyword: 'FROM', args: 'a', line: 1 },
      { keyword: 'RUN', args: 'x && y', line: 2 },
    ]);
  });

  it('needs no BuildKit frontend: no `# syntax=` directive, no BuildKit-only flag or heredoc (only NODE_IMAGE is fetched)', () => {
    // A `# syntax=` line makes BuildKit pull a frontend image from Docker Hub, whatever NODE_IMAGE says.
    expect(text).to.not.match(/^\s*#\s*(syntax|check|escape)\s*=/im);
    for (const ins of instructions) {
      expect(ins.args, `line ${ins.line}`).to.not.match(/--(mount|link|chmod|parents|exclude|checksum|keep-git-dir)\b/);
      expect(ins.args, `line ${ins.line}: heredoc`).to.not.match(/<<-?\s*["']?[A-Z]+/);
    }
    expect(
      instructions.filter((i) => i.keyword === 'FROM').every((i) => /^\$\{NODE_IMAGE\}(\s|$)/.test(i.args)),
    ).to.equal(true);
  });

  it('is multi-stage, every stage on a Node 24 slim or alpine image', () => {
    expect(stages.length).to.be.at.least(2);
    for (const stage of stages)
      expect(stage.from).to.match(/^node:24(\.[\d.]+)?-(alpine|.*slim)(@sha256:[0-9a-f]{64})?$/);
    const names = stages.map((s) => s.name).filter(Boolean);
    expect(new Set(names).size).to.equal(names.length);
  });

  it('installs with npm ci from the lockfile; the final stage gets only production dependencies', () => {
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(
      runs.some((r) => /\bnpm install\b/.test(r)),
      'npm install is not reproducible',
    ).to.equal(false);
    const prodStage = stages.find((s) =>
      s.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(i.args)),
    );
    expect(prodStage, 'a stage runs npm ci --omit=dev').to.not.equal(undefined);
    expect(
      prodStage!.instructions.some((i) => i.keyword === 'COPY' && /package-lock\.json/.test(i.args)),
      'the lockfile is copied before npm ci',
    ).to.equal(true);
    const modules = finalOf('COPY').filter((i) => /node_modules/.test(i.args));
    expect(modules.length).to.equal(1);
    expect(modules[0].args).to.match(new RegExp(`^--from=${prodStage!.name} `));
    expect(finalOf('RUN').some((r) => /\bnpm (ci|install)\b/.test(r.args))).to.equal(false);
  });

  it('runs compiled JavaScript: npm run build in a build stage, dist copied, entrypoint is dist/src/cli/main.js', () => {
    expect(instructions.some((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args))).to.equal(true);
    expect(finalOf('COPY').some((i) => /^--from=\S+ \/app\/dist /.test(i.args))).to.equal(true);
    const entry = execForm(finalOf('ENTRYPOINT')[0].args);
    expect(entry).to.deep.equal(['node', '/app/dist/src/cli/main.js']);
    expect(execForm(finalOf('CMD')[0].args)).to.deep.equal(['start']);
    // The build config must emit dist/src/cli/main.js: outDir dist, rootDir the repository, sources in src.
    const build = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8'));
    const base = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
    const options = { ...base.compilerOptions, ...build.compilerOptions };
    expect([options.outDir, options.rootDir, options.noEmit, options.rewriteRelativeImportExtensions]).to.deep.equal([
      'dist',
      '.',
      false,
      true,
    ]);
    expect(build.include).to.deep.equal(['src']);
    expect(readFileSync(path.join(root, 'bin/lgsp-gateway.js'), 'utf8')).to.include('../dist/src/cli/main.js');
  });

  it('runs as a numeric non-root user in the final stage', () => {
    const users = finalOf('USER');
    expect(users.length).to.be.at.least(1);
    const user = users[users.length - 1].args;
    expect(user).to.match(/^\d+(:\d+)?$/, 'numeric, so Kubernetes runAsNonRoot can verify it');
    expect(user.split(':')[0]).to.not.equal('0');
    const userIndex = final.instructions.indexOf(users[users.length - 1]);
    expect(final.instructions.slice(userIndex).some((i) => i.keyword === 'RUN')).to.equal(false);
  });

  it('has a HEALTHCHECK on /healthz of the port it EXPOSEs; config at /etc/lgsp-gateway', () => {
    const env = envOf(final);
    const health = finalOf('HEALTHCHECK');
    expect(health.length).to.equal(1);
    expect(health[0].args).to.match(/--interval=\d+s/);
    expect(health[0].args).to.match(/CMD .*\/healthz/);
    expect(finalOf('EXPOSE').map((i) => i.args)).to.deep.equal([env.get('PORT')]);
    expect(env.get('LGSP_CONFIG_DIR')).to.equal('/etc/lgsp-gateway');
    expect(env.get('NODE_ENV')).to.equal('production');
  });

  it('declares one VOLUME: the SQLite delivery store directory of LGSP_DELIVERY_DB, made and owned by the runtime user', () => {
    // With --read-only (README "Image", config/ queues pushes in SQLite) the store must still be writable.
    const env = envOf(final);
    const dir = path.posix.dirname(env.get('LGSP_DELIVERY_DB')!);
    expect(finalOf('VOLUME').map((i) => execForm(i.args))).to.deep.equal([[dir]]);
    const run = finalOf('RUN')
      .map((i) => i.args)
      .join(' ');
    expect(run).to.include(dir);
    expect(run).to.match(/chown -R 1000:1000 \/var\/lib\/lgsp-gateway\b/);
    expect(dir.startsWith('/var/lib/lgsp-gateway/')).to.equal(true);
  });

  it('bakes in no secret: no secret-named ENV/ARG, no key, certificate or .env file copied', () => {
    const secretName = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|HMAC|PRIVATE|CREDENTIAL)/i;
    for (const ins of instructions.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')) {
      for (const m of ins.args.matchAll(/(\w+)(=|\s|$)/g))
        if (/^[A-Z_][A-Z0-9_]*$/.test(m[1])) expect(m[1], `line ${ins.line}`).to.not.match(secretName);
    }
    // The shipped route table (routes, mappings, catalogs: no secret in them) is the one part of config/ copied.
    const routeTable = /^config\/(routes|mappings|catalogs) \.\/config\/\1$/;
    for (const ins of instructions.filter((i) => i.keyword === 'COPY' && !routeTable.test(i.args)))
      expect(ins.args, `line ${ins.line}`).to.not.match(/\.env\b|\.pem\b|\.key\b|secrets?\b|\bconfig\b/);
    expect(text).to.not.match(/BEGIN [A-Z ]*PRIVATE KEY/);
  });

  it('.dockerignore keeps node_modules, git, env files, keys, secrets and local config out of the context', () => {
    const ignore = readFileSync(path.join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['**/node_modules', '.git', '.env', '.env.*', '**/*.pem', '**/*.key', '**/secrets', 'config'])
      expect(ignore).to.include(entry);
    // config/ stays out but for the shipped route table, which deploy/config-production/ reads from the image.
    expect(ignore.filter((l) => l.startsWith('!config'))).to.deep.equal([
      '!config/routes',
      '!config/mappings',
      '!config/catalogs',
    ]);
    // What the build reads must not be ignored.
    for (const needed of ['src', 'bin', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'])
      expect(ignore).to.not.include(needed);
  });

  it('carries every ${LGSP_PACKAGE_DIR}/… directory the shipped configs name (the production config mounted alone works)', () => {
    const copied = finalOf('COPY').map((i) => i.args.split(/\s+/).at(-1)!.replace(/^\.\//, ''));
    expect(final.instructions.find((i) => i.keyword === 'WORKDIR')?.args).to.equal('/app');
    for (const config of ['config/gateway.yaml', 'deploy/config-production/gateway.yaml']) {
      const named = [...readFileSync(path.join(root, config), 'utf8').matchAll(/\$\{LGSP_PACKAGE_DIR\}\/([\w/.-]+)/g)];
      expect(named.length, config).to.be.greaterThan(0);
      for (const [, dir] of named) expect(copied, `${config} names ${dir}`).to.include(dir);
    }
  });

  it('the compiled sources import only production dependencies (npm ci --omit=dev is enough at run time)', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    const prod = new Set(Object.keys(pkg.dependencies));
    const builtins = new Set(builtinModules);
    const found = new Map<string, string>();
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (name.endsWith('.ts')) {
          const source = readFileSync(full, 'utf8');
          // Value imports and re-exports (`import type` is erased), and dynamic imports.
          const re =
            /^\s*(?:import|export)\s+(?!type\s)(?:[^;]*?\sfrom\s+)?'([^'.][^']*)'|\bimport\(\s*'([^'.][^']*)'\s*\)/gm;
          for (const m of source.matchAll(re)) found.set(m[1] ?? m[2], path.relative(root, full));
        }
      }
    };
    walk(path.join(root, 'src'));
    expect(found.size).to.be.greaterThan(5);
    for (const [spec, file] of found) {
      if (spec.startsWith('node:') || builtins.has(spec)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      expect(prod.has(name), `${file} imports ${spec}, which is not in dependencies`).to.equal(true);
    }
  });
});
