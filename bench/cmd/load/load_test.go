package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain runs the worker roles when the coordinator under test starts
// this test binary as one.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(cli(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// tiny is a run of a fraction of a second over two servers and two clients.
func tiny() config {
	return config{
		conns: 40, msgs: 5, minSize: 16, maxSize: 4096, dist: "log", seed: 7,
		sample: time.Second, servers: 2, clients: 2, perProc: 100, inflight: 8, dialers: 4,
		timeout: time.Minute, settle: 10 * time.Second,
	}
}

func TestRunEchoesEveryMessage(t *testing.T) {
	res, err := coordinate(context.Background(), tiny(), io.Discard)
	if err != nil {
		t.Fatalf("run failed: %v (%q)", err, failures(res))
	}
	if res.held != 40 || res.msgs != 40*5 || res.errors != 0 || res.mismatches != 0 {
		t.Errorf("held %d, echoed %d, errors %d, mismatches %d; want 40, 200, 0, 0", res.held, res.msgs, res.errors, res.mismatches)
	}
	if res.up.goroutines-res.base.goroutines != 40 {
		t.Errorf("servers had %d goroutines with 40 conns up, %d before", res.up.goroutines, res.base.goroutines)
	}
	if res.end.goroutines > res.base.goroutines {
		t.Errorf("servers had %d goroutines after the clients left, %d before", res.end.goroutines, res.base.goroutines)
	}
	if res.base.rssKiB <= 0 || res.up.rssKiB <= 0 {
		t.Errorf("server RSS %d KiB before, %d KiB up: not read", res.base.rssKiB, res.up.rssKiB)
	}
	if p50, p99 := res.latency.quantile(0.5), res.latency.quantile(0.99); p50 <= 0 || p99 < p50 {
		t.Errorf("p50 %s, p99 %s", p50, p99)
	}
}

// A server that corrupts echoes must make the run fail: the check is real.
func TestRunCatchesCorruptEcho(t *testing.T) {
	cfg := tiny()
	cfg.corruptEach = 17
	res, err := coordinate(context.Background(), cfg, io.Discard)
	if err == nil {
		t.Fatal("run with corrupted echoes passed")
	}
	if res == nil || res.mismatches == 0 || !strings.Contains(strings.Join(res.failures, "\n"), "echo differs at byte") {
		t.Errorf("failures %q, mismatches %d; want the differing byte reported", failures(res), res.mismatches)
	}
}

// A server whose handlers do not all return must make the run fail.
func TestRunCatchesLeak(t *testing.T) {
	cfg := tiny()
	cfg.leakEach, cfg.settle = 10, 300*time.Millisecond
	res, err := coordinate(context.Background(), cfg, io.Discard)
	if err == nil {
		t.Fatal("run with leaking handlers passed")
	}
	if res == nil || res.end.goroutines != res.base.goroutines+4 || !strings.Contains(strings.Join(res.failures, "\n"), "a leak") {
		t.Errorf("failures %q, %d goroutines after, %d before; want the 4 leaked reported", failures(res), res.end.goroutines, res.base.goroutines)
	}
}

// A soak sends until its duration passes and samples the servers.
func TestRunForDuration(t *testing.T) {
	cfg := tiny()
	cfg.msgs, cfg.duration, cfg.rate, cfg.sample = 0, 300*time.Millisecond, 400, 100*time.Millisecond
	res, err := coordinate(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatalf("run failed: %v (%q)", err, failures(res))
	}
	if res.msgs == 0 || res.elapsed < cfg.duration {
		t.Errorf("%d messages in %s, want some over at least %s", res.msgs, res.elapsed, cfg.duration)
	}
	if len(res.samples) < 2 {
		t.Errorf("%d samples, want the start and the end at least", len(res.samples))
	}
	for _, s := range res.samples {
		if s.stats.goroutines != res.up.goroutines {
			t.Errorf("at %s servers had %d goroutines, %d with the conns up", s.at, s.stats.goroutines, res.up.goroutines)
		}
	}
}

func TestRefusesOverfullProcesses(t *testing.T) {
	cfg := tiny()
	cfg.perProc = 10 // 40 conns over 2 servers is 20 each
	if _, err := coordinate(context.Background(), cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "per-proc") {
		t.Errorf("err = %v, want the -per-proc limit named", err)
	}
}

func TestHistogramBuckets(t *testing.T) {
	for _, ns := range []int64{0, 1, 15, 16, 17, 31, 32, 1000, 999_999, 1 << 40} {
		b := bucketOf(ns)
		lo := bucketLow(b)
		if lo > ns || (ns >= 16 && float64(ns-lo) > float64(ns)/16) {
			t.Errorf("%d ns in bucket %d from %d: not within 1/16", ns, b, lo)
		}
		if b+1 < numBuckets && bucketLow(b+1) <= ns {
			t.Errorf("%d ns in bucket %d, but bucket %d starts at %d", ns, b, b+1, bucketLow(b+1))
		}
	}
	var m merged
	m.add(map[int]uint64{bucketOf(1000): 99, bucketOf(1_000_000): 1})
	if q := m.quantile(0.5); q != time.Duration(bucketLow(bucketOf(1000))) {
		t.Errorf("p50 = %s", q)
	}
	if q := m.quantile(1); q != time.Duration(bucketLow(bucketOf(1_000_000))) {
		t.Errorf("p100 = %s", q)
	}
}

func failures(r *result) []string {
	if r == nil {
		return nil
	}
	return r.failures
}
