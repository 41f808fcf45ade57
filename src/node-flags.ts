/**
 * The Node.js flags berth's daemon runs with: package.json's `start`, the image's ENTRYPOINT and its `berth` wrapper,
 * and bench/throughput's planes (node-flags.test.ts keeps them in step). Cluster workers inherit them (execArgv).
 *
 * `--single-threaded-gc`: V8 collects garbage on the main thread only (no parallel scavenge, no concurrent marking).
 * berth's heap is small (~8 MB live under load; young-generation scavenges of ~0.5 ms every ~45 ms at 20k req/s) and
 * its work is one event loop, so helper threads have little to share and, when berth has one core (the bench's
 * "one core for the proxy", a cpuset, a small VM), they only take turns with the loop. Measured in bench/throughput's
 * conditions, interleaved rounds: +12% and +9% req/s for the Node plane, p99 6.1 -> 4.2 ms and 6.0 -> 5.5 ms; with two
 * cores available no difference beyond noise (22.9k vs 22.3k req/s).
 *
 * `--min-semi-space-size=16`: the young generation (where every request's short-lived objects go) keeps its full
 * size, 16 MB a semi-space, Node 20's default maximum. Without it V8 starts it at 1 MB and shrinks it back to that
 * whenever its allocation rate looks low, which is every time traffic resumes after a few seconds of quiet: berth then
 * scavenges every ~9 ms instead of every ~50 ms and takes ~2 s to grow back (measured with --trace-gc after 25 s
 * idle: 206 scavenges in a 4 s run instead of 65), promoting in-flight requests' objects on the way. Measured in
 * bench/throughput's conditions, interleaved rounds after 1 s of warm-up each: p99 1.69x -> 1.42x nginx's (better
 * in 6 of 8 rounds) and 2.04x -> 1.66x in a faster VM phase; 8 MB did no better than the default (1.72x). Cost: up
 * to 16 MB more RSS while the young generation is in use (85 -> 97 MB under load here).
 */
export const NODE_FLAGS: readonly string[] = ['--single-threaded-gc', '--min-semi-space-size=16'];
