/** A `limits`, `prices` or `tokenCaps` entry that cannot compile; `path` is relative to the tenant. */
export class LimitConfigError extends Error {
  override readonly name = "LimitConfigError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Runs a compile step, naming `path` in whatever it throws. */
export function at<T>(path: string, compile: () => T): T {
  try {
    return compile();
  } catch (err) {
    if (err instanceof LimitConfigError) throw err;
    throw new LimitConfigError(path, (err as Error).message);
  }
}
