/**
 * The PostgreSQL store's address in words, apart from the store itself: open-store.ts names the store in
 * logs and `/admin/status` without loading the `postgres` client, which only a `kind: postgres` store
 * needs (the package holds ~11 MB resident once loaded; the shipped config uses SQLite).
 * `host:port/database` of a URL, for messages: no user, no password, no parameters.
 */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}${u.port ? `:${u.port}` : ''}${u.pathname || ''}`;
  } catch {
    return '(an unreadable URL)';
  }
}
