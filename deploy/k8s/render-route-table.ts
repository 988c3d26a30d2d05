// Renders deploy/k8s/route-table.yaml from the repository's config/: three ConfigMaps holding the route
// files, the mapping blocks and the catalogs, mounted as directories named by paths.routes,
// paths.mappings and paths.catalogs (a ConfigMap is flat, so each directory is its own ConfigMap).
// Run after editing config/routes, config/mappings or config/catalogs:
//   node deploy/k8s/render-route-table.ts > deploy/k8s/route-table.yaml
// test/unit/deploy/k8s.test.ts fails when the committed file differs from what this prints.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The three ConfigMaps as one multi-document YAML text. */
export function renderRouteTable(): string {
  const parts = [
    ['lgsp-gateway-routes', 'config/routes', 'the route table (paths.routes)'],
    ['lgsp-gateway-mappings', 'config/mappings', 'mapping blocks that routes `use:` (paths.mappings)'],
    ['lgsp-gateway-catalogs', 'config/catalogs', 'code lists (paths.catalogs)'],
  ] as const;
  const docs = parts.map(([name, dir, what]) => {
    const data: Record<string, string> = {};
    for (const file of readdirSync(path.join(root, dir)).sort()) {
      if (/\.ya?ml$/.test(file)) data[file] = readFileSync(path.join(root, dir, file), 'utf8');
    }
    return `# ${what}: generated from ${dir}/ by deploy/k8s/render-route-table.ts — edit there, not here\n${stringify(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, labels: { 'app.kubernetes.io/name': 'lgsp-gateway' } },
        data,
      },
      { lineWidth: 0 },
    )}`;
  });
  return docs.join('---\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.stdout.write(renderRouteTable());
}
