import type { SecretRef } from '../../config/types.ts';
import { GatewayError } from '../../errors/gateway-error.ts';
import type { Plugin } from '../../plugin/plugin.ts';
import { secretSource, setHeader } from '../common.ts';
import { resolveSecret, secretRefSchema } from '../secrets.ts';
import type { CredentialStrategy, StrategyDeps } from '../types.ts';

/**
 * OAuth2/OIDC client authentication added on behalf of an app: the VNeID token endpoint
 * (`…/protocol/openid-connect/token`, seed 001 part A §6) needs the client secret C06 hands out over a
 * private channel; routed through the gateway, the app exchanges its code without ever holding it.
 */
export interface ClientSecretOptions {
  clientId: SecretRef;
  clientSecret: SecretRef;
  /** `body` (default): client_id/client_secret form fields (client_secret_post); `basic`: HTTP Basic. */
  clientAuth?: 'body' | 'basic';
  /** Form field names. Defaults `client_id`, `client_secret`. */
  fields?: { clientId?: string; clientSecret?: string };
}

export const clientSecret: Plugin<ClientSecretOptions, StrategyDeps, CredentialStrategy> = {
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['clientId', 'clientSecret'],
    properties: {
      clientId: secretRefSchema,
      clientSecret: secretRefSchema,
      clientAuth: { enum: ['body', 'basic'] },
      fields: {
        type: 'object',
        additionalProperties: false,
        properties: { clientId: { type: 'string', minLength: 1 }, clientSecret: { type: 'string', minLength: 1 } },
      },
    },
  },

  create(options, deps) {
    const source = secretSource(deps);
    const clientId = resolveSecret(options.clientId, 'clientId', [...deps.path, 'clientId'], source);
    const secret = resolveSecret(options.clientSecret, 'clientSecret', [...deps.path, 'clientSecret'], source);
    const idField = options.fields?.clientId ?? 'client_id';
    const secretField = options.fields?.clientSecret ?? 'client_secret';
    const describe = () => ({
      strategy: 'client-secret',
      secrets: { clientId: 'set' as const, clientSecret: 'set' as const },
    });
    const common = { isTokenRejected: () => false, invalidate: () => {}, describe };

    if (options.clientAuth === 'basic') {
      // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
      const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
      return {
        ...common,
        async apply(call) {
          setHeader(call.headers, 'authorization', `Basic ${basic}`);
        },
      };
    }
    return {
      ...common,
      bodyNeed: 'form',
      async apply(call) {
        if (!call.form) {
          throw new GatewayError('GW_BAD_REQUEST', {
            reason: 'điểm cấp token chỉ nhận dữ liệu dạng application/x-www-form-urlencoded',
          });
        }
        // Overwrite whatever the app sent: the gateway's registered client is the one C06 knows.
        call.form.set(idField, clientId);
        call.form.set(secretField, secret);
      },
    };
  },
};
