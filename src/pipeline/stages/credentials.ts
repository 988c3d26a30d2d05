import type { Exchange } from '../exchange.ts';

/**
 * Injects the upstream's credentials into the outgoing call (platform token, access key, client secret):
 * without waiting when every credential is at hand (undefined), otherwise the promise of applying them
 * (a token fetched or refreshed; GW_TOKEN_ENDPOINT_FAILED when it cannot be).
 */
export function credentials(ex: Exchange): Promise<void> | undefined {
  const chain = ex.route.upstream.credentials;
  return chain.applyCached?.(ex.call) ? undefined : chain.apply(ex.call);
}

/**
 * The call sent again after the upstream refused its token: the credentials are invalidated (by the
 * respond stage) and applied afresh onto a copy of the headers, so the refused call keeps what it carried.
 */
export function replayCall(ex: Exchange): void {
  ex.call = { ...ex.call, headers: { ...ex.call.headers } };
}
