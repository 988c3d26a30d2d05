import { genKey } from '../auth/api-keys.ts';

/**
 * `lgsp-gateway gen-key [--json]`: prints a new key (give it to the consumer over a private channel)
 * and its SHA-256 (put that in the config). The key is printed once and stored nowhere.
 */
export async function runGenKey(
  args: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
): Promise<number> {
  const unknown = args.filter((a) => a !== '--json');
  if (unknown.length > 0) {
    io.stderr.write(`gen-key: unknown argument ${unknown[0]}\nusage: lgsp-gateway gen-key [--json]\n`);
    return 2;
  }
  const { key, sha256 } = genKey();
  if (args.includes('--json')) {
    io.stdout.write(`${JSON.stringify({ key, sha256 })}\n`);
  } else {
    io.stdout.write(
      `key:    ${key}\nsha256: ${sha256}\n\n` +
        `# give the key to the consumer (private channel); put only the hash in the config:\n` +
        `#   apiKeys:\n#     - sha256: ${sha256}\n#       label: ${new Date().toISOString().slice(0, 10)}\n`,
    );
  }
  return 0;
}
