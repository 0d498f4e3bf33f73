/**
 * DNS-rebinding protection: a web page on another origin must not be able to reach a gateway
 * that listens on loopback by pointing a host name of its own at 127.0.0.1. Host and Origin
 * are checked against allowlists; on loopback the default is the loopback names, elsewhere
 * Host is open and Origin must be listed.
 */
import type { ServerConfig } from "../config/types.js";

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]", "::1"];

export interface HostCheck {
  allows(host: string | undefined, origin: string | undefined): string | undefined;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function compileHostCheck(server: ServerConfig): HostCheck {
  const loopback = isLoopback(server.host);
  // On loopback the listener's own address is allowed too (127.0.0.2 is loopback as well).
  const hosts = server.allowedHosts ?? (loopback ? [...LOOPBACK_NAMES, server.host] : undefined);
  const hostSet = hosts === undefined ? undefined : new Set(hosts.map((h) => h.toLowerCase()));
  const origins = server.allowedOrigins;
  const anyOrigin = origins?.includes("*") ?? false;
  const originSet = new Set((origins ?? []).map((o) => o.toLowerCase()));

  const originAllowed = (origin: string): boolean => {
    if (anyOrigin || originSet.has(origin.toLowerCase())) return true;
    if (origins !== undefined || !loopback) return false;
    try {
      const url = new URL(origin);
      return (url.protocol === "http:" || url.protocol === "https:") && (LOOPBACK_NAMES.includes(url.hostname) || url.hostname === server.host);
    } catch {
      return false;
    }
  };

  return {
    allows(host, origin) {
      if (hostSet !== undefined) {
        if (host === undefined) return "the Host header is missing";
        if (!hostSet.has(stripPort(host).toLowerCase())) return `Host "${host}" is not allowed`;
      }
      if (origin !== undefined && !originAllowed(origin)) return `Origin "${origin}" is not allowed`;
      return undefined;
    },
  };
}

function stripPort(host: string): string {
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(":");
  return colon < 0 ? host : host.slice(0, colon);
}
