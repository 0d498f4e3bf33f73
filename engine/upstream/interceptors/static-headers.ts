/**
 * Adds a connection's configured headers to every upstream request. Caller-supplied headers
 * never override them: a header the operator pinned (an auth header, a tenant header) is the one
 * the upstream sees. Credential injection from the vault composes the same way.
 */
import type { Dispatcher } from "undici";

export function staticHeaders(headers: Readonly<Record<string, string>>): Dispatcher.DispatcherComposeInterceptor {
  const pinned = Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v] as const);
  return (dispatch) => (opts, handler) => {
    if (pinned.length === 0) return dispatch(opts, handler);
    const merged: Record<string, string> = {};
    for (const [k, v] of Object.entries((opts.headers ?? {}) as Record<string, string>)) merged[k.toLowerCase()] = v;
    for (const [k, v] of pinned) merged[k] = v;
    return dispatch({ ...opts, headers: merged }, handler);
  };
}
