import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/* eslint-disable @typescript-eslint/no-explicit-any -- the compose file is free-form YAML */
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as Record<
  string,
  any
>;
const { gateway, sandbox, redis } = compose.services;
const configOf = (service: Record<string, any>) =>
  service.volumes.find((v: Record<string, any>) => v.target === service.environment.LGSP_CONFIG_DIR);
const gatewayYaml = parse(readFileSync(path.join(root, 'deploy/compose/config/gateway.yaml'), 'utf8'));
const seconds = (duration: string) => Number(/^(\d+)s$/.exec(duration)![1]);

describe('deploy: docker-compose.yml', () => {
  it('gateway, sandbox and redis services; the gateway waits for both to be healthy', () => {
    expect(Object.keys(compose.services).sort()).to.deep.equal(['gateway', 'redis', 'sandbox']);
    expect(gateway.depends_on).to.deep.equal({
      redis: { condition: 'service_healthy' },
      sandbox: { condition: 'service_healthy' },
    });
    expect(redis.healthcheck.test).to.include('ping');
  });

  it('mounts each config as a read-only DIRECTORY bind at LGSP_CONFIG_DIR (so saved edits reach the watcher)', () => {
    for (const service of [gateway, sandbox]) {
      const mount = configOf(service);
      expect(mount, 'a mount at LGSP_CONFIG_DIR').to.not.equal(undefined);
      expect(mount).to.deep.include({ type: 'bind', read_only: true });
      expect(statSync(path.join(root, mount.source)).isDirectory(), mount.source).to.equal(true);
    }
    expect(gateway.environment.LGSP_CONFIG_DIR).to.equal('/etc/lgsp-gateway');
  });

  it('the gateway runs as production with a read-only root filesystem; only the sandbox service is not production', () => {
    expect(gateway.environment.NODE_ENV).to.equal('production');
    expect(gateway.read_only).to.equal(true);
    expect(gateway.cap_drop).to.deep.equal(['ALL']);
    expect(sandbox.environment.NODE_ENV).to.not.equal('production');
    const sandboxYaml = parse(readFileSync(path.join(root, configOf(sandbox).source, 'gateway.yaml'), 'utf8'));
    expect(sandboxYaml.sandbox).to.deep.include({ enabled: true, host: '0.0.0.0' });
    expect(sandboxYaml.environment).to.not.equal('production');
    expect(gatewayYaml.sandbox?.enabled ?? false).to.equal(false);
    // Upstreams reach the sandbox service on its configured port by default.
    expect(gateway.environment.UPSTREAM_NDXP_URL).to.include(`http://sandbox:${sandboxYaml.sandbox.port}/`);
  });

  it('rate limits in the redis service; secrets only as files declared under secrets:', () => {
    expect(gatewayYaml.rateLimits.store).to.equal('redis');
    expect(gateway.environment.LGSP_REDIS_URL).to.equal('redis://redis:6379');
    const declared = Object.keys(compose.secrets);
    expect(gateway.secrets.sort()).to.deep.equal([...declared].sort());
    for (const [name, value] of Object.entries(gateway.environment as Record<string, string>)) {
      if (name.endsWith('_FILE')) expect(declared, name).to.include(path.basename(value));
      if (/HMAC|SIGNING/.test(name)) expect(name).to.match(/_FILE$/);
    }
    for (const secret of Object.values(compose.secrets) as { file: string }[])
      expect(secret.file).to.match(/^\.\/deploy\/compose\/secrets\//);
    // The secrets directory is git-ignored except for its .gitignore.
    expect(readFileSync(path.join(root, 'deploy/compose/secrets/.gitignore'), 'utf8')).to.match(/^\*$/m);
  });

  it('stop_grace_period is above shutdown.graceMs; the port is published on loopback by default', () => {
    expect(seconds(gateway.stop_grace_period) * 1000).to.be.greaterThan(gatewayYaml.shutdown.graceMs);
    expect(gateway.ports[0]).to.match(/^\$\{LGSP_PUBLISH:-127\.0\.0\.1:8080\}:8080$/);
  });

  it('builds the image once: only the gateway has build:, the sandbox runs the same image; no image needs Docker Hub', () => {
    expect(gateway.build).to.deep.include({ context: '.' });
    expect(sandbox.build, 'a second build of the same image').to.equal(undefined);
    expect(redis.build).to.equal(undefined);
    expect(sandbox.image).to.equal(gateway.image);
    // The Node base and the Redis image can be pointed elsewhere (a mirror; CI's images made with debootstrap).
    expect(gateway.build.args.NODE_IMAGE).to.equal('${NODE_IMAGE:-node:24-alpine}');
    expect(redis.image).to.match(/^\$\{LGSP_REDIS_IMAGE:-redis:[\w.-]+\}$/);
  });
});

describe('deploy: compose delivery store (SQLite volume; deploy/compose/postgres.yml)', () => {
  const override = parse(readFileSync(path.join(root, 'deploy/compose/postgres.yml'), 'utf8')) as Record<string, any>;
  const initSecrets = readFileSync(path.join(root, 'deploy/compose/init-secrets.sh'), 'utf8');

  it('by default the gateway keeps its SQLite store on the `deliveries` volume, at the path its config names', () => {
    const store = gatewayYaml.delivery.store;
    expect(store.kind).to.equal('${LGSP_DELIVERY_STORE:-sqlite}');
    expect(gateway.environment.LGSP_DELIVERY_STORE).to.equal('sqlite');
    const mount = gateway.volumes.find((v: Record<string, any>) => v.target === path.posix.dirname(store.path));
    expect(mount).to.deep.include({ type: 'volume', source: 'deliveries' });
    expect(compose.volumes).to.have.property('deliveries');
  });

  it('the PostgreSQL override adds the database, makes the gateway wait for it and switch, the URL as a secret file', () => {
    // Not a profile of docker-compose.yml: podman-compose 1.0.3 (Debian bookworm, CI) ignores profiles.
    expect(Object.keys(override.services).sort()).to.deep.equal(['gateway', 'postgres']);
    expect(override.services.gateway.depends_on).to.deep.equal({ postgres: { condition: 'service_healthy' } });
    expect(override.services.gateway.environment).to.deep.equal({ LGSP_DELIVERY_STORE: 'postgres' });
    expect(gatewayYaml.delivery.store.url).to.deep.equal({ env: 'LGSP_DELIVERY_DATABASE_URL' });
    expect(gateway.environment.LGSP_DELIVERY_DATABASE_URL_FILE).to.equal('/run/secrets/delivery_database_url');
    expect(gateway.environment).to.not.have.property('LGSP_DELIVERY_DATABASE_URL');
    const postgres = override.services.postgres;
    expect(postgres.image).to.match(/^\$\{LGSP_POSTGRES_IMAGE:-postgres:[\w.-]+\}$/);
    expect(postgres.environment.POSTGRES_PASSWORD_FILE).to.equal('/run/secrets/postgres_password');
    expect(postgres.environment).to.not.have.property('POSTGRES_PASSWORD');
    expect(postgres.healthcheck.test).to.include('pg_isready');
    expect(postgres.ports, 'the database is not published on the host').to.equal(undefined);
    // Paths of a second -f file are relative to the first one's directory (the repository root).
    expect(override.secrets.postgres_password.file).to.match(/^\.\/deploy\/compose\/secrets\//);
    // init-secrets.sh makes the password and a URL carrying the same password, for the `postgres` host.
    expect(initSecrets).to.include('postgres_password');
    expect(initSecrets).to.match(/postgres:\/\/lgsp:%s@postgres:5432\/lgsp/);
  });
});
