import type { Clock } from '../../../src/config/types.ts';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../../src/sandbox/index.ts';

/** Parsed JSON answers, read loosely in assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  t = Date.UTC(2025, 0, 15, 2, 0, 0);
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Running {
  url: string;
  sandbox: Sandbox;
  clock: FakeClock;
  close(): Promise<void>;
}

/** Starts a sandbox on 127.0.0.1:0 with a fake clock. */
export async function start(options: SandboxOptions = {}): Promise<Running> {
  const clock = new FakeClock();
  const s = await startSandbox({ clock, ...options, port: 0, host: '127.0.0.1' });
  return { ...s, clock };
}

export const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** POSTs JSON; returns status and parsed body. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

/** POSTs a form; returns status and parsed body. */
export async function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** Gets a platform token (`ndxp`, `vdxp`, `hotich`) with the sandbox's demo credentials. */
export async function platformToken(run: Running, platform: 'ndxp' | 'vdxp' | 'hotich'): Promise<string> {
  const { consumerKey, consumerSecret } = run.sandbox.credentials[platform];
  const res = await postForm(
    `${run.url}/${platform}/token`,
    { grant_type: 'client_credentials' },
    { authorization: basic(consumerKey, consumerSecret) },
  );
  if (res.status !== 200) throw new Error(`token ${platform}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}
