import { randomBytes } from 'node:crypto';
import type { Clock } from '../config/types.ts';
import type { Static } from 'typebox';
import { Type } from '../plugin/schema-type.ts';
import { definePlugin } from '../plugin/plugin.ts';

/**
 * MOLISA compatibility token. A legacy MOLISA client still calls `GetToken` with its old
 * `{username, password}` before every sync (seed 004 Appendix 1 §1) and sends the answer in `AccessKey`.
 * Behind the gateway that call must not reach MOLISA: the real account belongs to the gateway, which
 * injects the real AccessKey on the following calls whatever the client sends. So the gateway answers
 * GetToken itself, in MOLISA's own shape, with an opaque token that carries no authority: the caller is
 * authenticated by the gateway's consumer authentication on the route, not by this username/password.
 */
const MolisaCompatTokenSchema = Type.Object(
  {
    /** When set, the answer also carries `expires_in` (seconds), an extension MOLISA clients ignore. */
    lifetimeSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type MolisaCompatTokenOptions = Static<typeof MolisaCompatTokenSchema>;

export interface MolisaCompatAnswer {
  status: number;
  body: unknown;
}

/** Builds the GetToken handler: a pure function from the parsed JSON body to a status and a MOLISA body. */
export function createMolisaCompatTokenResponder(
  options: MolisaCompatTokenOptions,
  deps: { clock: Clock },
): (body: unknown) => MolisaCompatAnswer {
  return (body) => {
    const problem = describeProblem(body);
    if (problem) {
      // MOLISA answers `{ error_code, message }`, 0 meaning success (seed 004 §IV.2): an error is non-zero.
      return { status: 400, body: { error_code: 400, message: problem } };
    }
    const answer: Record<string, unknown> = {
      error_code: 0,
      message: 'Thành công',
      token: `compat-${randomBytes(24).toString('base64url')}`,
    };
    if (options.lifetimeSeconds !== undefined) {
      answer.expires_in = options.lifetimeSeconds;
      answer.expires_at = new Date(deps.clock.now() + options.lifetimeSeconds * 1000).toISOString();
    }
    return { status: 200, body: answer };
  };
}

function describeProblem(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return 'Dữ liệu gửi lên phải là đối tượng JSON {"username", "password"}';
  }
  const { username, password } = body as Record<string, unknown>;
  const missing = [
    typeof username === 'string' && username.trim() !== '' ? undefined : 'username',
    typeof password === 'string' && password !== '' ? undefined : 'password',
  ].filter((f) => f !== undefined);
  return missing.length > 0 ? `Thiếu hoặc sai kiểu trường: ${missing.join(', ')}` : undefined;
}

/** The route-answer plug-in `molisa-compat-token` (`answer: { type: molisa-compat-token, lifetimeSeconds }`). */
export const molisaCompatToken = definePlugin(MolisaCompatTokenSchema, createMolisaCompatTokenResponder);
