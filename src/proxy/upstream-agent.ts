import http from 'node:http';
import https from 'node:https';

/** One keep-alive agent per upstream, so sockets to each national platform are pooled and bounded. */
export function createUpstreamAgent(url: URL, options: { maxSockets: number; tls?: https.AgentOptions }): http.Agent {
  const common = {
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxSockets: options.maxSockets,
    maxFreeSockets: Math.min(options.maxSockets, 64),
    // LIFO reuses the most recently used socket, the one least likely to have been closed by the upstream.
    scheduling: 'lifo' as const,
  };
  return url.protocol === 'https:' ? new https.Agent({ ...common, ...options.tls }) : new http.Agent(common);
}
