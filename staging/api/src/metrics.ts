// Prometheus text exposition: request counts by route and status, and a latency histogram by route.
// Geometric buckets from 1 ms to 10 s, each at most 10 % wider than the one below, so a p99 read from the
// histogram (histogram_quantile interpolates inside one bucket) is within 10 % of the p99 of the requests.
export const bucketGrowth = 1.09;
export const buckets: readonly number[] = (() => {
  const out: number[] = [];
  for (let le = 0.001; le < 10; le *= bucketGrowth) out.push(Number(le.toPrecision(4)));
  return [...out, 10];
})();

export class Metrics {
  private counts = new Map<string, number>();
  private histograms = new Map<string, { buckets: number[]; sum: number; count: number }>();

  observe(route: string, status: number, seconds: number) {
    const key = `${route}\u0000${status}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    let h = this.histograms.get(route);
    if (!h) {
      h = { buckets: buckets.map(() => 0), sum: 0, count: 0 };
      this.histograms.set(route, h);
    }
    buckets.forEach((le, i) => {
      if (seconds <= le) h.buckets[i]! += 1;
    });
    h.sum += seconds;
    h.count += 1;
  }

  render(): string {
    const lines = ['# HELP http_requests_total Requests by route and status.', '# TYPE http_requests_total counter'];
    for (const [key, n] of this.counts) {
      const [route, status] = key.split('\u0000');
      lines.push(`http_requests_total{route="${route}",status="${status}"} ${n}`);
    }
    lines.push('# HELP http_request_duration_seconds Request latency by route.');
    lines.push('# TYPE http_request_duration_seconds histogram');
    for (const [route, h] of this.histograms) {
      buckets.forEach((le, i) =>
        lines.push(`http_request_duration_seconds_bucket{route="${route}",le="${le}"} ${h.buckets[i]}`),
      );
      lines.push(`http_request_duration_seconds_bucket{route="${route}",le="+Inf"} ${h.count}`);
      lines.push(`http_request_duration_seconds_sum{route="${route}"} ${h.sum}`);
      lines.push(`http_request_duration_seconds_count{route="${route}"} ${h.count}`);
    }
    return lines.join('\n') + '\n';
  }
}
