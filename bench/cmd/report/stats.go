package main

import (
	"math"
	"slices"
)

// median returns the median of xs (the mean of the middle two for an even
// count), or NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// medianCI returns a distribution-free confidence interval of the median
// at level conf: the order statistics x(k) and x(n+1-k) of the sorted
// sample with the largest k whose coverage, 1 - 2*P(Binomial(n, 1/2) < k),
// is still at least conf. This is the interval benchstat reports. With
// too few samples (fewer than 6 at 95%) there is no such k and the
// interval is infinite.
func medianCI(xs []float64, conf float64) (lo, hi float64) {
	n := len(xs)
	s := slices.Sorted(slices.Values(xs))
	k := 0
	for j := 1; j <= n/2; j++ {
		if 1-2*binomCDF(n, j-1) >= conf {
			k = j
		} else {
			break
		}
	}
	if k == 0 {
		return math.Inf(-1), math.Inf(1)
	}
	return s[k-1], s[n-k]
}

// binomCDF returns P(X <= x) for X ~ Binomial(n, 1/2).
func binomCDF(n, x int) float64 {
	sum, c := 0.0, 1.0 // c = C(n, i)
	for i := 0; i <= x && i <= n; i++ {
		sum += c
		c = c * float64(n-i) / float64(i+1)
	}
	return sum / math.Pow(2, float64(n))
}

// pctRange returns the larger distance from the median m to either end of
// [lo, hi], as a fraction of m: what benchstat prints as "± x%".
func pctRange(m, lo, hi float64) float64 {
	return math.Max(hi/m-1, 1-lo/m)
}

// geomean returns the geometric mean of xs, or NaN for none.
func geomean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, x := range xs {
		sum += math.Log(x)
	}
	return math.Exp(sum / float64(len(xs)))
}
