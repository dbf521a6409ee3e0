//go:build !js

package websocket

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
)

// proxyAddr returns the address to dial for proxy, an HTTP or HTTPS proxy.
func (d *dialer) proxyAddr(proxy *neturl.URL) (string, error) {
	if proxy.Scheme != "" && proxy.Scheme != "http" && proxy.Scheme != "https" {
		return "", d.fail("proxy", errors.New("unsupported proxy scheme "+quoteText(proxy.Scheme, maxQuoteBytes)))
	}
	if proxy.Hostname() == "" {
		return "", d.fail("proxy", errors.New("proxy URL has no host"))
	}
	return hostPort(proxy.Hostname(), proxy.Port(), proxy.Scheme == "https"), nil
}

// tunnel opens a tunnel to addr through proxy on nc, with TLS to the proxy
// first when it is an HTTPS one, and returns the connection to use.
func (d *dialer) tunnel(nc net.Conn, proxy *neturl.URL, addr string) (net.Conn, error) {
	conn := nc
	if proxy.Scheme == "https" {
		tc := tls.Client(conn, d.tlsConfig(proxy.Hostname()))
		if err := tc.Handshake(); err != nil {
			return nil, d.fail("TLS with the proxy", err)
		}
		conn = tc
	}
	if err := d.connect(conn, proxy, addr); err != nil {
		return nil, err
	}
	return conn, nil
}

// connect opens a tunnel to addr through the proxy on conn, RFC 9110 §9.3.6.
func (d *dialer) connect(conn net.Conn, proxy *neturl.URL, addr string) error {
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &neturl.URL{Opaque: addr},
		Host:   addr,
		Header: http.Header{},
	}
	var b strings.Builder
	b.WriteString("CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n")
	// The proxy URL's user info wins over Options.Header, as in net/http.
	switch {
	case proxy.User != nil:
		password, _ := proxy.User.Password()
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(proxy.User.Username()+":"+password))
		b.WriteString(hdrProxyAuthorization + ": " + auth + "\r\n")
	case d.proxyAuth != "":
		b.WriteString(hdrProxyAuthorization + ": " + d.proxyAuth + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return d.fail("writing the CONNECT request to the proxy", err)
	}
	lr := &limitedReader{r: conn, n: maxResponseHeaderBytes}
	br := bufio.NewReaderSize(lr, 4096)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return d.readFailed(lr, "reading the proxy's response", " from "+proxyName(proxy), err)
	}
	if resp.StatusCode/100 != 2 {
		return &HandshakeError{resp.StatusCode, proxyName(proxy) + " refused the tunnel to " + addr}
	}
	if br.Buffered() > 0 {
		// The tunnel's first bytes are ours to send: a proxy that says
		// more is not one to trust with the connection.
		return &HandshakeError{resp.StatusCode, proxyName(proxy) + " sent data after its response"}
	}
	return nil
}

// proxyName names proxy in an error: by its host, without the user info
// its URL may have.
func proxyName(proxy *neturl.URL) string {
	return string(appendEscaped([]byte("proxy "), proxy.Host, maxQuoteBytes))
}
