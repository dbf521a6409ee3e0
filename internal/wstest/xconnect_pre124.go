//go:build !go1.24

package wstest

// netHTTPHasXConnect: before Go 1.24 net/http has no extended CONNECT
// (RFC 8441): its HTTP/2 client refuses a ":protocol" header.
const netHTTPHasXConnect = false
