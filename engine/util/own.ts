/**
 * Looks a key that came off the wire (a JSON-RPC method, a URL segment) up in a table written as
 * an object literal. Plain `table[key]` would also find what every object inherits:
 * `"constructor"`, `"toString"`, `"__proto__"` would name a built-in function instead of nothing.
 */
export const ownEntry = <T>(table: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);
