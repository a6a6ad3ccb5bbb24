/**
 * Zipf-like rank: index i is chosen with weight 1/(i+1)^s, so the first few items get most of the
 * picks and the long tail gets a little each — what popularity looks like on a real catalog.
 */
export class ZipfPicker {
  private readonly cumulative: Float64Array;
  constructor(n: number, s = 1.1) {
    if (n < 1) throw new RangeError('ZipfPicker needs at least one item');
    this.cumulative = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) this.cumulative[i] = sum += 1 / Math.pow(i + 1, s);
    for (let i = 0; i < n; i++) this.cumulative[i]! /= sum;
  }
  /** Index in [0, n) for a uniform u in [0, 1). */
  index(u: number): number {
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
