import { ConfigPathError } from '../config/config-error.ts';
import type { RouteConfig } from '../config/types.ts';
import { GatewayError } from '../errors/gateway-error.ts';

/**
 * A route's `apiVersions:` compiled: the API version named by a path parameter must serve the value of a
 * body field. Seed 003 ("Các API phần mềm ĐKQL hộ tịch điện tử cung cấp"): the civil-status software
 * serves each module under some of its three API versions only (1.0 the classic modules, 2.0 linked
 * marriage + marital status, 3.0 LTKS/LTKT and, "ready", KS, KT, LTKH); a dossier sent under another
 * version is lost upstream, so it is refused before it leaves, naming both.
 */
export type ApiVersionGuard = (params: Readonly<Record<string, string>>, body: unknown) => GatewayError | undefined;

type ApiVersionsConfig = NonNullable<RouteConfig['apiVersions']>;

/** Compiles the guard (its refusal returned, not thrown); the parameter must be one of the route path's `:params`. */
export function compileApiVersionGuard(
  config: ApiVersionsConfig,
  paramNames: readonly string[],
  path: readonly (string | number)[],
): ApiVersionGuard {
  const { param, field } = config;
  if (!paramNames.includes(param)) {
    throw new ConfigPathError(
      [...path, 'param'],
      'param',
      `"${param}" is not a parameter of the route's path (${paramNames.map((p) => `:${p}`).join(', ') || 'none'})`,
    );
  }
  const serves = new Map(Object.entries(config.serves).map(([version, values]) => [version, new Set(values)]));
  // For the error: the versions that do serve a value, in the order the config lists them.
  const versionsOf = (value: string) =>
    [...serves].filter(([, values]) => values.has(value)).map(([version]) => version);
  return (params, body) => {
    const version = params[param];
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
    const value = (body as Record<string, unknown>)[field];
    // A missing or non-text field is the schema's to report, with its pointer.
    if (typeof value !== 'string' || serves.get(version)?.has(value)) return undefined;
    const allowed = versionsOf(value).join(', ') || 'không phiên bản nào';
    // The caller's text goes back in the answer: only as much as names it.
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return new GatewayError('GW_API_VERSION_MISMATCH', { field, value: shown, version, allowed });
  };
}
