import type { Static } from 'typebox';
import { Type } from '../../plugin/schema-type.ts';
import { SecretRefSchema } from '../../config/consumers-schema.ts';
import { GatewayError } from '../../errors/gateway-error.ts';
import { definePlugin } from '../../plugin/plugin.ts';
import { basicCredentials, removeHeader, secretSource, setHeader } from '../common.ts';
import { resolveSecret } from '../../config/secrets.ts';
import type { CredentialStrategy, StrategyDeps } from '../types.ts';

/**
 * OAuth2/OIDC client authentication added on behalf of an app: the VNeID token endpoint
 * (`…/protocol/openid-connect/token`, seed 001 part A §6) needs the client secret C06 hands out over a
 * private channel; routed through the gateway, the app exchanges its code without ever holding it.
 */

/**
 * OAuth parameters the gateway decides: a caller may not send them in the query string, where a server
 * that merges query and form parameters (servlet getParameter, Spring) would read them first.
 */
const GATEWAY_OWNED_PARAMETERS = [
  'grant_type',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
];

const ClientSecretSchema = Type.Object(
  {
    clientId: SecretRefSchema,
    clientSecret: SecretRefSchema,
    /**
     * `body` (default): client_id/client_secret form fields (client_secret_post); `basic`: HTTP Basic with
     * id and secret form-urlencoded first (client_secret_basic, RFC 6749 §2.3.1); `basic-raw`: Basic as is.
     */
    clientAuth: Type.Enum(['body', 'basic', 'basic-raw'], { default: 'body' }),
    /**
     * The `grant_type` values the secret is added to: a citizen (or the session a citizen opened) is behind
     * every token. `client_credentials` here would let any app allowed on the route mint tokens as the
     * province's registered client (issue 13.4).
     */
    grantTypes: Type.Array(Type.String({ pattern: '^[A-Za-z0-9._:~/-]+$' }), {
      minItems: 1,
      uniqueItems: true,
      default: ['authorization_code', 'refresh_token'],
    }),
    /** Form field names. */
    fields: Type.Object(
      {
        clientId: Type.String({ minLength: 1, default: 'client_id' }),
        clientSecret: Type.String({ minLength: 1, default: 'client_secret' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type ClientSecretOptions = Static<typeof ClientSecretSchema>;

export const clientSecret = definePlugin(ClientSecretSchema, (options, deps: StrategyDeps): CredentialStrategy => {
  const source = secretSource(deps);
  const clientId = resolveSecret(options.clientId, 'clientId', [...deps.path, 'clientId'], source);
  const secret = resolveSecret(options.clientSecret, 'clientSecret', [...deps.path, 'clientSecret'], source);
  const idField = options.fields.clientId;
  const secretField = options.fields.clientSecret;
  const describe = () => ({
    strategy: 'client-secret',
    secrets: { clientId: 'set' as const, clientSecret: 'set' as const },
  });
  const grantTypes = new Set(options.grantTypes);
  const ownedFields = new Set([...GATEWAY_OWNED_PARAMETERS, idField, secretField]);
  const basic =
    options.clientAuth === 'basic' || options.clientAuth === 'basic-raw'
      ? `Basic ${basicCredentials(clientId, secret, options.clientAuth === 'basic' ? 'form' : 'raw', deps.path)}`
      : undefined;

  const sent = Object.freeze(basic ? [secret, basic] : [secret]);
  return {
    // The form is read in every mode: the grant type is checked before the secret is added.
    bodyNeed: 'form',
    isTokenRejected: () => false,
    invalidate: () => {},
    describe,
    secretValues: () => sent,
    async apply(call) {
      const form = call.form;
      if (!form) {
        throw new GatewayError('GW_BAD_REQUEST', {
          reason: 'điểm cấp token chỉ nhận dữ liệu dạng application/x-www-form-urlencoded',
        });
      }
      // Refused before anything is added: the secret is never sent for a grant the province did not allow.
      const grants = form.getAll('grant_type');
      const grant = grants.length === 1 ? grants[0] : undefined;
      if (grant === undefined || !grantTypes.has(grant)) {
        throw new GatewayError('GW_GRANT_NOT_ALLOWED', {
          grant: grants.length > 1 ? '(nhiều giá trị)' : grant === undefined ? '(không có)' : shown(grant),
          allowed: [...grantTypes].join(', '),
        });
      }
      const queried = queryParameterNames(call.query).find((name) => ownedFields.has(name));
      if (queried !== undefined) {
        throw new GatewayError('GW_BAD_REQUEST', {
          reason: `tham số ${queried} không được gửi trên chuỗi truy vấn của điểm cấp token`,
        });
      }
      // RFC 6749 §2.3: one client authentication method per request, and it is the gateway's.
      form.delete('client_assertion');
      form.delete('client_assertion_type');
      if (basic) {
        // client_secret_basic: the app's own client fields must not travel beside the gateway's header.
        form.delete(idField);
        form.delete(secretField);
        setHeader(call.headers, 'authorization', basic);
        return;
      }
      // Overwrite whatever the app sent: the gateway's registered client is the one C06 knows.
      removeHeader(call.headers, 'authorization');
      form.set(idField, clientId);
      form.set(secretField, secret);
    },
  };
});

/** The grant type as quoted back: short and printable, so an error never carries a caller's payload. */
function shown(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 64 ? `${printable.slice(0, 64)}…` : printable;
}

/** Lower-cased, decoded names of the parameters of a `?query` (or of none). */
function queryParameterNames(query: string | undefined): string[] {
  if (!query || query.length < 2) return [];
  return [...new URLSearchParams(query.slice(1)).keys()].map((name) => name.trim().toLowerCase());
}
