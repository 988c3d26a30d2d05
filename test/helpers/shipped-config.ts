/** The shipped configuration directory (`config/`), as a release installs it. */
export const SHIPPED_CONFIG_DIR = new URL('../../config', import.meta.url).pathname;

/**
 * The environment the shipped config reads (its `${VAR}` references): every national upstream and its token
 * endpoint on the sandbox at `sandboxUrl`, the provincial systems on the sandbox's `/tinh`, the audit trail
 * in `auditDir` (and the delivery store below it).
 */
export function shippedConfigEnv(sandboxUrl: string, auditDir: string): Record<string, string> {
  // The delivery store (queue and ledger) of this run alone: a push of an earlier run is not a duplicate.
  const env: Record<string, string> = {
    LGSP_AUDIT_DIR: auditDir,
    LGSP_DELIVERY_DB: `${auditDir}/deliveries/deliveries.db`,
  };
  for (const id of ['ndxp', 'vdxp', 'vneid', 'hotich', 'molisa'])
    env[`UPSTREAM_${id.toUpperCase()}_URL`] = `${sandboxUrl}/${id}`;
  for (const id of ['ndxp', 'vdxp', 'hotich'])
    env[`UPSTREAM_${id.toUpperCase()}_TOKEN_URL`] = `${sandboxUrl}/${id}/token`;
  env.UPSTREAM_VNEID_TOKEN_URL = `${sandboxUrl}/ndxp/token`;
  env.UPSTREAM_MOLISA_TOKEN_URL = `${sandboxUrl}/molisa/api/v1/Service/GetToken`;
  env.UPSTREAM_VNEID_SSO_URL = env.UPSTREAM_VNEID_IDP_URL = `${sandboxUrl}/vneid`;
  env.UPSTREAM_MCDT_URL = `${sandboxUrl}/tinh/mcdt`;
  env.UPSTREAM_DVC_URL = `${sandboxUrl}/tinh/dvc`;
  return env;
}
