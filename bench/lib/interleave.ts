/**
 * A before/after micro-benchmark's rounds: `warmUps` unmeasured pairs, then `rounds` pairs of measurements
 * whose order alternates each round (so a shared machine's load falls on both alike), printed as the
 * medians, the minimums and the median and range of the per-round ratios after/before. Each measure
 * returns µs per call; how it times (CPU or wall clock, which inputs, what work between calls) is its own.
 */
export function interleaved(
  name: string,
  measure: { readonly before: () => number; readonly after: () => number },
  options: { readonly rounds: number; readonly warmUps?: number; readonly digits?: number },
): void {
  for (let i = 0; i < (options.warmUps ?? 3); i++) {
    measure.before();
    measure.after();
  }
  const b: number[] = [];
  const a: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < options.rounds; i++) {
    let tb: number;
    let ta: number;
    if (i % 2 === 0) {
      tb = measure.before();
      ta = measure.after();
    } else {
      ta = measure.after();
      tb = measure.before();
    }
    b.push(tb);
    a.push(ta);
    r.push(ta / tb);
  }
  const d = options.digits ?? 3;
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  const min = (xs: number[]) => Math.min(...xs).toFixed(d);
  console.log(
    `${name}: before ${median(b).toFixed(d)} µs (min ${min(b)}), after ${median(a).toFixed(d)} µs (min ${min(a)}), ` +
      `after/before ${median(r).toFixed(2)} (rounds ${Math.min(...r).toFixed(2)}-${Math.max(...r).toFixed(2)})`,
  );
}
