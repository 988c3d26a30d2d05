import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { request } from '../../helpers/http.ts';
import { startGateway } from '../../helpers/gateway.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const k8s = path.join(root, 'deploy/k8s');

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are free-form YAML */
type Manifest = Record<string, any>;

const manifestFiles = readdirSync(k8s).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const manifests: (Manifest & { file: string })[] = manifestFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(path.join(k8s, file), 'utf8')).map((doc) => {
    expect(doc.errors, file).to.deep.equal([]);
    return { ...(doc.toJS() as Manifest), file };
  }),
);
const kustomization = parse(readFileSync(path.join(k8s, 'kustomization.yaml'), 'utf8')) as Manifest;
const one = (kind: string, name = 'lgsp-gateway') => {
  const found = manifests.filter((m) => m.kind === kind && m.metadata?.name === name);
  expect(found, `${kind}/${name}`).to.have.length(1);
  return found[0];
};
const deployment = one('Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers.find((c: Manifest) => c.name === 'gateway');
const env = new Map<string, string>(container.env.map((e: Manifest) => [e.name, e.value]));
const configMap = one('ConfigMap', 'lgsp-gateway-config');
const gatewayYaml = parse(configMap.data['gateway.yaml']) as Manifest;
const labels = deployment.spec.template.metadata.labels;
const selects = (selector: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v) && Object.keys(selector).length > 0;
const volumeFor = (mountPath: string) => {
  const mount = container.volumeMounts.find((m: Manifest) => m.mountPath === mountPath);
  return mount && { mount, volume: pod.volumes.find((v: Manifest) => v.name === mount.name) };
};

describe('deploy: Kubernetes manifests', () => {
  it('every file parses; every object has apiVersion, kind, name; kustomization lists exactly the files', () => {
    for (const m of manifests) {
      expect(m.apiVersion, m.file).to.be.a('string');
      expect(m.kind, m.file).to.be.a('string');
      expect(m.metadata?.name, m.file).to.be.a('string');
    }
    expect([...kustomization.resources].sort()).to.deep.equal([...manifestFiles].sort());
    expect(kustomization.images.map((i: Manifest) => i.name)).to.include(container.image);
  });

  it('a Deployment of several replicas, rolling without losing capacity', () => {
    expect(deployment.spec.replicas).to.be.at.least(2);
    expect(deployment.spec.strategy).to.deep.include({ type: 'RollingUpdate' });
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).to.equal(0);
    expect(selects(deployment.spec.selector.matchLabels)).to.equal(true);
  });

  it('probes: readiness on /readyz, liveness on /healthz, on the named container port', () => {
    expect(container.readinessProbe.httpGet.path).to.equal('/readyz');
    expect(container.livenessProbe.httpGet.path).to.equal('/healthz');
    const ports = container.ports.map((p: Manifest) => p.name);
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe])
      expect(ports).to.include(probe.httpGet.port);
    expect(String(container.ports[0].containerPort)).to.equal(env.get('PORT'));
  });

  it('the probe paths exist in the gateway: /readyz and /healthz answer 200 (without credentials)', async () => {
    const gw = await startGateway({ 'gateway.yaml': 'version: 1\n' });
    try {
      for (const probe of [container.readinessProbe, container.livenessProbe]) {
        const res = await request(`${gw.url}${probe.httpGet.path}`);
        expect(res.status, probe.httpGet.path).to.equal(200);
      }
    } finally {
      await gw.close();
    }
  });

  it('the route-table ConfigMap is mounted as a directory (no subPath) at LGSP_CONFIG_DIR, flat *.yaml keys', () => {
    const found = volumeFor(env.get('LGSP_CONFIG_DIR')!);
    expect(found, 'a mount at LGSP_CONFIG_DIR').to.not.equal(undefined);
    expect(found!.mount.subPath).to.equal(undefined);
    expect(found!.mount.readOnly).to.equal(true);
    expect(found!.volume.configMap.name).to.equal(configMap.metadata.name);
    for (const key of Object.keys(configMap.data)) expect(key).to.match(/^[a-z0-9-]+\.yaml$/);
    // A generated (hash-suffixed) ConfigMap would restart pods on every edit instead of hot reloading.
    expect((kustomization.configMapGenerator ?? []).map((g: Manifest) => g.name)).to.not.include(
      configMap.metadata.name,
    );
  });

  it('credentials come from a Secret mounted as files and read through *_FILE variables, never as values', () => {
    const generated = kustomization.secretGenerator.find((g: Manifest) => g.name === 'lgsp-gateway-secrets');
    const keys = generated.files.map((f: string) => path.basename(f));
    const secretMount = container.volumeMounts.find(
      (m: Manifest) => pod.volumes.find((v: Manifest) => v.name === m.name)?.secret?.secretName === generated.name,
    );
    expect(secretMount.readOnly).to.equal(true);
    const fileVars = [...env].filter(([name]) => name.endsWith('_FILE'));
    for (const [name, value] of fileVars) {
      expect(path.dirname(value), name).to.equal(secretMount.mountPath);
      expect(keys, name).to.include(path.basename(value));
    }
    expect(fileVars.map(([, v]) => path.basename(v)).sort()).to.deep.equal([...keys].sort());
    for (const e of container.env as Manifest[])
      if (/SECRET|PASSWORD|USERNAME|HMAC|SIGNING|CONSUMER_KEY|REDIS_URL/.test(e.name))
        expect(e.name, 'secret-like variables are *_FILE').to.match(/_FILE$/);
  });

  it('the ConfigMap is a valid gateway config with the Deployment environment (lgsp-gateway validate)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-k8s-'));
    try {
      const config = path.join(dir, 'etc');
      const secrets = path.join(dir, 'secrets');
      for (const d of [config, secrets]) spawnSync('mkdir', ['-p', d]);
      for (const [name, text] of Object.entries(configMap.data as Record<string, string>))
        writeFileSync(path.join(config, name), text);
      // The route-table ConfigMaps go where the Deployment mounts them, redirected into the temp dir.
      const redirected: Record<string, string> = {};
      for (const key of ['routes', 'mappings', 'catalogs']) {
        const mountPath = gatewayYaml.paths[key] as string;
        const found = volumeFor(mountPath);
        expect(found, `a mount at paths.${key} (${mountPath})`).to.not.equal(undefined);
        const cm = one('ConfigMap', found!.volume.configMap.name);
        const target = path.join(dir, key);
        spawnSync('mkdir', ['-p', target]);
        for (const [name, text] of Object.entries(cm.data as Record<string, string>))
          writeFileSync(path.join(target, name), text);
        redirected[mountPath] = target;
      }
      const gatewayFile = path.join(config, 'gateway.yaml');
      let text = readFileSync(gatewayFile, 'utf8');
      // The image ships the schemas at paths.schemas; here they are the repository's.
      redirected[gatewayYaml.paths.schemas as string] = path.join(root, 'schemas');
      for (const [from, to] of Object.entries(redirected)) text = text.replace(from, to);
      writeFileSync(gatewayFile, text);
      const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      });
      const values: Record<string, string> = {
        'audit-hmac-key': 'k8s-test-audit-hmac-key-0123456789abcdef\n',
        'token-signing-key.pem': String(pem),
        'redis-url': 'redis://127.0.0.1:1\n',
      };
      const childEnv: Record<string, string> = { PATH: process.env.PATH ?? '' };
      for (const [name, value] of env) {
        if (name.endsWith('_FILE')) {
          const file = path.join(secrets, path.basename(value));
          writeFileSync(file, values[path.basename(value)] ?? 'test-secret-value\n');
          childEnv[name] = file;
        } else childEnv[name] = value;
      }
      const run = spawnSync(process.execPath, [path.join(root, 'src/cli/main.ts'), 'validate', config], {
        env: childEnv,
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).to.equal(0);
      // The same route table as the shipped sandbox config (config/): every route, every upstream.
      expect(run.stdout).to.match(/valid \(29 routes, 11 upstreams/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('route-table.yaml is what deploy/k8s/render-route-table.ts makes from config/ (no drift)', async () => {
    const { renderRouteTable } = await import('../../../deploy/k8s/render-route-table.ts');
    expect(readFileSync(path.join(k8s, 'route-table.yaml'), 'utf8')).to.equal(renderRouteTable());
  });

  it('rate limits in Redis; token signing keys from the Secret (shared by replicas); audit to stdout', () => {
    expect(gatewayYaml.rateLimits.store).to.equal('redis');
    expect(gatewayYaml.rateLimits.redis.url).to.equal('${LGSP_REDIS_URL}');
    expect(env.get('LGSP_REDIS_URL_FILE')).to.be.a('string');
    expect(gatewayYaml.auth.tokens.signingKeys[0].privateKey).to.equal('${LGSP_TOKEN_SIGNING_KEY}');
    if (gatewayYaml.audit.output !== 'stdout') {
      const found = volumeFor(gatewayYaml.audit.dir);
      expect(
        found?.volume.emptyDir ?? found?.volume.persistentVolumeClaim,
        'audit dir on a writable volume',
      ).to.not.equal(undefined);
    }
    expect(gatewayYaml.environment).to.equal('production');
    expect(gatewayYaml.sandbox?.enabled ?? false).to.equal(false);
  });

  it('securityContext: non-root (the image user), read-only root filesystem, no privilege escalation', () => {
    const dockerUser = /^USER (\d+)/m.exec(readFileSync(path.join(root, 'Dockerfile'), 'utf8'))![1];
    expect(pod.securityContext).to.deep.include({ runAsNonRoot: true, runAsUser: Number(dockerUser) });
    expect(pod.automountServiceAccountToken).to.equal(false);
    expect(container.securityContext).to.deep.include({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(container.securityContext.capabilities.drop).to.deep.equal(['ALL']);
    for (const m of manifests.filter((x) => x.kind === 'Deployment'))
      expect(m.spec.template.spec.securityContext.runAsNonRoot, m.metadata.name).to.equal(true);
  });

  it('terminationGracePeriodSeconds covers the preStop pause plus shutdown.graceMs', () => {
    const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
    const pauseMs = preStop[0] === 'sleep' ? Number(preStop[1]) * 1000 : 0;
    expect(pod.terminationGracePeriodSeconds * 1000).to.be.greaterThan(gatewayYaml.shutdown.graceMs + pauseMs);
  });

  it('resources are requested (the HPA scales on CPU), with a memory limit', () => {
    expect(container.resources.requests.cpu).to.match(/^\d+m$/);
    expect(container.resources.requests.memory).to.match(/^\d+Mi$/);
    expect(parseInt(container.resources.limits.memory)).to.be.greaterThan(
      parseInt(container.resources.requests.memory),
    );
  });

  it('a PodDisruptionBudget and a CPU HorizontalPodAutoscaler on the Deployment; a Service on the named port', () => {
    const pdb = one('PodDisruptionBudget');
    expect(selects(pdb.spec.selector.matchLabels)).to.equal(true);
    const hpa = one('HorizontalPodAutoscaler');
    expect(hpa.apiVersion).to.equal('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).to.deep.include({ kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.metrics[0].resource.name).to.equal('cpu');
    expect(hpa.spec.minReplicas).to.be.at.least(2);
    expect(pdb.spec.maxUnavailable).to.be.below(hpa.spec.minReplicas);
    const service = one('Service');
    expect(selects(service.spec.selector)).to.equal(true);
    expect(container.ports.map((p: Manifest) => p.name)).to.include(service.spec.ports[0].targetPort);
  });
});
