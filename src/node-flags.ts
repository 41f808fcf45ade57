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
 */
export const NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];
