//go:build !js

package websocket

import (
	"crypto/tls"
	"net"
)

// startTLS speaks TLS to the server on conn, for wss://, with the server
// name of Options.TLSConfig or else the URL's host.
func (d *dialer) startTLS(conn net.Conn) (*tls.Conn, error) {
	serverName := d.u.Hostname()
	if d.o.TLSConfig != nil && d.o.TLSConfig.ServerName != "" {
		serverName = d.o.TLSConfig.ServerName
	}
	tc := tls.Client(conn, d.tlsConfig(serverName))
	if err := tc.Handshake(); err != nil {
		return nil, d.fail("TLS", err)
	}
	return tc, nil
}

// tlsConfig returns the TLS configuration for serverName: a copy of
// Options.TLSConfig that negotiates HTTP/1.1, the only protocol an upgrade
// works on (RFC 8441 is for HTTP/2).
func (d *dialer) tlsConfig(serverName string) *tls.Config {
	cfg := &tls.Config{}
	if d.o.TLSConfig != nil {
		cfg = d.o.TLSConfig.Clone()
	}
	cfg.ServerName = serverName
	cfg.NextProtos = []string{"http/1.1"}
	return cfg
}
