//go:build !amd64 || purego

package mask

// xorKey is Bytes with the key as a little-endian uint32. There is no
// assembly kernel on this platform, or the purego build tag asked for the
// portable code only.
func xorKey(b []byte, key uint32, pos int) int {
	return maskGeneric(b, key, pos)
}
