//go:build race

package autobahn

// raceEnabled: under the race detector compress/flate runs about ten times
// slower, so sections 12 and 13 send one message per case, against one echo
// style per side (see compressionCount and compressionStyles).
const raceEnabled = true
