import { rmSync } from 'node:fs';

const storeDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of storeDirs) rmSync(dir, { recursive: true, force: true });
});

/** The shipped configuration directory (`config/`), as a release installs it. */
export const SHIPPED_CONFIG_DIR = new URL('../../config', import.meta.url).pathname;

/**
 * The environment the shipped config reads (its `${VAR}` references): every national upstream and its token
 * endpoint on the sandbox at `sandboxUrl`, the provincial systems on the sandbox's `/tinh`, the audit trail
 * in `auditDir`, the delivery store beside it (`<auditDir>.deliveries/`: tests read the audit directory's
 * files, and the store is no audit file), removed when the test process exits.
 */
export function shippedConfigEnv(sandboxUrl: string, auditDir: string): Record<string, string> {
  // The delivery store (queue and ledger) of this run alone: a push of an earlier run is not a duplicate.
  const env: Record<string, string> = {
    LGSP_AUDIT_DIR: auditDir,
    LGSP_DELIVERY_DB: `${auditDir}.deliveries/deliveries.db`,
  };
  storeDirs.add(`${auditDir}.deliveries`);
  for (const id of ['ndxp', 'vdxp', 'vneid', 'hotich', 'molisa'])
    env[`UPSTREAM_${id.toUpperCase()}_URL`] = `${sandboxUrl}/${id}`;
  for (const id of ['ndxp', 'vdxp', 'hotich'])
    env[`UPSTREAM_${id.toUpperCase()}_TOKEN_URL`] = `${sandboxUrl}/${id}/token`;
  env.UPSTREAM_VNEID_TOKEN_URL = `${sandboxUrl}/ndxp/token`;
  // MOLISA through VDXP (seed 004), as the shipped config chains it: VDXP token, then AccessKey.
  env.UPSTREAM_MOLISA_URL = `${sandboxUrl}/vdxp/molisa`;
  env.UPSTREAM_MOLISA_TOKEN_URL = `${sandboxUrl}/vdxp/molisa/api/v1/Service/GetToken`;
  env.UPSTREAM_DVCLT_URL = `${sandboxUrl}/vdxp/dvclt`;
  env.UPSTREAM_VNEID_SSO_URL = env.UPSTREAM_VNEID_IDP_URL = `${sandboxUrl}/vneid`;
  env.UPSTREAM_VNEID_JWKS_URL = `${sandboxUrl}/vneid/.well-known/jwks.json`;
  env.UPSTREAM_MCDT_URL = `${sandboxUrl}/tinh/mcdt`;
  env.UPSTREAM_DVC_URL = `${sandboxUrl}/tinh/dvc`;
  env.UPSTREAM_CSDLCN_URL = `${sandboxUrl}/tinh/csdlcn`;
  return env;
}
