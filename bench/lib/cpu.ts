/** CPU time (user + system, µs) this process spends running `fn`. */
export function cpuMicros(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const d = process.cpuUsage(start);
  return d.user + d.system;
}
