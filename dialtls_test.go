package websocket

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDialTLSConfig checks that wss:// takes its server name from the URL,
// offers only HTTP/1.1 even to a server that prefers h2, uses the custom
// dialer, and leaves the caller's tls.Config alone.
func TestDialTLSConfig(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(Require(func(ws *Conn, r *http.Request) {}, nil))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake below
	srv.StartTLS()
	t.Cleanup(srv.Close)

	cfg := trustServer(srv)
	cfg.NextProtos = []string{"h2", "http/1.1"}
	var dialed []string
	opts := &Options{
		TLSConfig: cfg,
		// The test certificate is for example.com (and 127.0.0.1).
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialed = append(dialed, network+" "+addr)
			return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}
	ws, resp := dialOK(t, "wss://example.com/", opts)
	if got := resp.TLS.NegotiatedProtocol; got != "http/1.1" {
		t.Errorf("negotiated protocol %q, want http/1.1", got)
	}
	if want := []string{"tcp example.com:443"}; !slices.Equal(dialed, want) {
		t.Errorf("DialContext called with %q, want %q", dialed, want)
	}
	if cfg.ServerName != "" || !slices.Equal(cfg.NextProtos, []string{"h2", "http/1.1"}) {
		t.Errorf("Dial changed the caller's tls.Config: ServerName %q, NextProtos %q", cfg.ServerName, cfg.NextProtos)
	}
	ws.Close()

	// An explicit ServerName wins over the URL's host.
	cfg2 := trustServer(srv)
	cfg2.ServerName = "example.com"
	opts.TLSConfig = cfg2
	dialOK(t, "wss://localhost/", opts)

	// A certificate that does not match fails the handshake.
	opts.TLSConfig = trustServer(srv)
	_, _, err := Dial(context.Background(), "wss://not-in-the-cert.test/", opts)
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) {
		t.Errorf("Dial with a wrong host = %v, want a certificate verification error", err)
	}
}

// TestDialTLSErrorEscapesCertificate: a server's certificate chooses the
// names that a verification error lists; they reach the dial error
// escaped.
func TestDialTLSErrorEscapesCertificate(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hostile"},
		DNSNames:              []string{"evil\x1b[2J\x07\r.example"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	serverTLS := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv := startRawServer(t, func(c net.Conn) {
		tls.Server(c, serverTLS).Handshake() // fails when the client gives up
	})
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	opts := &Options{
		TLSConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.addr())
		},
	}
	_, _, err = Dial(context.Background(), "wss://other.example/", opts)
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) {
		t.Fatalf("Dial error %v, want a certificate verification error", err)
	}
	if bad := logUnsafe(err.Error()); bad != "" {
		t.Errorf("error %q holds %s", err, bad)
	}
	if want := `evil\x1b[2J\a\r.example`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the certificate's host as %s", err, want)
	}
}
