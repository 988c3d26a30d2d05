import { readFileSync } from 'node:fs';
import type https from 'node:https';
import { ConfigPathError } from '../config/config-error.ts';
import type { TlsClientConfig } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';

type Path = readonly (string | number)[];

/**
 * TLS options toward an upstream (and its token endpoint): private CA bundle of the national platform,
 * client certificate and key for mutual TLS, SNI name. Files are read once, at config load; a missing or
 * unreadable file is a config error at its path. Certificate checks stay on unless
 * `rejectUnauthorized: false` is written explicitly, which is logged loudly (domain.md §3: fail closed).
 */
export function buildTlsOptions(tls: TlsClientConfig | undefined, path: Path, logger: Logger): https.AgentOptions {
  if (!tls) return {};
  const options: https.AgentOptions = {};
  if (tls.ca !== undefined) options.ca = readPem(tls.ca, [...path, 'ca'], 'CERTIFICATE');
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const missing = tls.cert === undefined ? 'cert' : 'key';
    throw new ConfigPathError([...path, missing], 'required', 'mutual TLS needs both cert and key');
  }
  if (tls.cert !== undefined) options.cert = readPem(tls.cert, [...path, 'cert'], 'CERTIFICATE');
  if (tls.key !== undefined) options.key = readPem(tls.key, [...path, 'key'], 'PRIVATE KEY');
  if (tls.servername !== undefined) options.servername = tls.servername;
  if (tls.rejectUnauthorized === false) {
    options.rejectUnauthorized = false;
    logger.warn('TLS certificate verification is OFF toward an upstream: anyone on the path can read its traffic', {
      event: 'config.tls_verification_disabled',
      path: path.join('.'),
    });
  }
  return options;
}

function readPem(file: string, path: Path, kind: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new ConfigPathError(path, 'file', `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  // "-----BEGIN CERTIFICATE-----", "-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----", ...
  const marker = kind === 'PRIVATE KEY' ? /-----BEGIN [A-Z ]*PRIVATE KEY-----/ : /-----BEGIN CERTIFICATE-----/;
  if (!marker.test(pem.toString('latin1'))) {
    throw new ConfigPathError(path, 'file', `${file} holds no PEM ${kind.toLowerCase()}`);
  }
  return pem;
}
