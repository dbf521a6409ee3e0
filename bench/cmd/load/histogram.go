package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram counts durations in log-linear buckets: 16 per power of two,
// so a bucket's lower bound is within 6.25% of any value in it. A fixed
// array of counters lets 100,000 goroutines add at once without a lock or
// a slice of samples.
type histogram struct {
	counts [numBuckets]atomic.Uint64
}

const (
	subBits    = 4
	subBuckets = 1 << subBits
	numBuckets = (64 - subBits + 1) * subBuckets
)

// bucketOf maps nanoseconds to a bucket; values under 16 ns get their own.
func bucketOf(ns int64) int {
	if ns < subBuckets {
		return int(max(ns, 0))
	}
	e := bits.Len64(uint64(ns)) - 1 // ≥ subBits
	m := int(ns>>(e-subBits)) & (subBuckets - 1)
	return (e-subBits+1)*subBuckets + m
}

// bucketLow is the smallest value in bucket b.
func bucketLow(b int) int64 {
	if b < subBuckets {
		return int64(b)
	}
	e := b/subBuckets + subBits - 1
	m := int64(b % subBuckets)
	return (subBuckets + m) << (e - subBits)
}

func (h *histogram) add(d time.Duration) { h.counts[bucketOf(int64(d))].Add(1) }

// snapshot returns the non-empty buckets, for JSON.
func (h *histogram) snapshot() map[int]uint64 {
	out := map[int]uint64{}
	for b := range h.counts {
		if n := h.counts[b].Load(); n > 0 {
			out[b] = n
		}
	}
	return out
}

// merged is the sum of several snapshots.
type merged [numBuckets]uint64

func (m *merged) add(s map[int]uint64) {
	for b, n := range s {
		if b >= 0 && b < numBuckets {
			m[b] += n
		}
	}
}

// quantile returns the lower bound of the bucket holding quantile q, or 0
// for no samples.
func (m *merged) quantile(q float64) time.Duration {
	var total uint64
	for _, n := range m {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total-1)) + 1 // 1-based
	var seen uint64
	for b, n := range m {
		seen += n
		if seen >= rank {
			return time.Duration(bucketLow(b))
		}
	}
	return time.Duration(bucketLow(numBuckets - 1))
}
