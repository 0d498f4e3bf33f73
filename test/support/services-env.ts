/** The real services' addresses (deploy/local/services.sh env); a missing one fails the test, never skips it. */
export function serviceEnv(name: "DATABASE_URL" | "KAFKA_BROKERS"): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === "") {
    throw new Error(`${name} is not set; integration tests need the real services: bash deploy/local/services.sh up && eval "$(bash deploy/local/services.sh env)"`);
  }
  return value.trim();
}
