//go:build !amd64 || purego

package websocket

// useAVX2 is false: there is no assembly kernel on this platform, or the
// purego build tag asked for the portable code only.
const useAVX2 = false

// maskAsm exists so that code and tests can name it on every platform;
// without assembly it is maskGeneric.
func maskAsm(b []byte, key [4]byte, pos int) int {
	return maskGeneric(b, key, pos)
}
