package coverage

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"time"
)

// TransportVulnerable sets a session cookie with no attributes, sends
// Strict-Transport-Security with a five-minute max-age, and serves an
// HTML page that loads a script over plain HTTP. Serve it over TLS with
// TransportVulnerableTLS.
func TransportVulnerable() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			notFound(w, r)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session_id", Value: "s3ss10n", Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Strict-Transport-Security", "max-age=300") // five minutes: too short to protect
		w.Write([]byte(`<!doctype html><html><head><title>console</title><script src="http://cdn.example.com/app.js"></script></head><body></body></html>`))
	})
	return mux
}

// TransportClean is TransportVulnerable fixed: the cookie is Secure,
// HttpOnly and SameSite=Lax and every script comes over HTTPS. It also
// sets a harmless theme cookie with no attributes, which must not be
// reported.
func TransportClean() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			notFound(w, r)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session_id", Value: "s3ss10n", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark", Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		w.Write([]byte(`<!doctype html><html><head><title>console</title><script src="https://cdn.example.com/app.js"></script><a href="http://example.com/about">about</a><img src="http://example.com/logo.png"></head><body></body></html>`))
	})
	return mux
}

// PlainVulnerable is what the vulnerable twin serves on its plain HTTP
// port (80 beside the TLS one): the API itself, in clear text, with no
// redirect to HTTPS.
func PlainVulnerable() http.Handler { return TransportVulnerable() }

// PlainRedirect is what the clean twin serves on its plain HTTP port: a
// 301 to the same path and query on httpsBase (https://127.0.0.1:<port>),
// and nothing else.
func PlainRedirect(httpsBase string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.TrimSuffix(httpsBase, "/")+r.URL.RequestURI(), http.StatusMovedPermanently)
	})
}

func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// TransportVulnerableTLS is a server TLS config with every weakness
// transport.tls and transport.certificate look for: TLS 1.0 and 1.1
// accepted, an insecure CBC-SHA256 suite accepted, and a self-signed
// certificate for another host name that expires in five days.
func TransportVulnerableTLS() (*tls.Config, error) {
	key, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "merlon-testbed.invalid"},
		DNSNames:     []string{"merlon-testbed.invalid"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(5 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS10,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		},
	}, nil //nolint:gosec // deliberately weak: a vulnerable testbed
}

// TransportCleanTLS returns a server TLS config (TLS 1.2 and later, Go's
// default suites, a certificate for 127.0.0.1 and localhost valid for a
// year) and the PEM of the throwaway CA that signed it, which a test gives
// Merlon through SSL_CERT_FILE.
func TransportCleanTLS() (cfg *tls.Config, caPEM []byte, err error) {
	caKey, err := newKey()
	if err != nil {
		return nil, nil, fmt.Errorf("generate ca key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "Merlon testbed CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("create ca certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, fmt.Errorf("parse ca certificate: %w", err)
	}
	key, err := newKey()
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "127.0.0.1"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(300 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	cfg = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der, caDER}, PrivateKey: key}},
	}
	return cfg, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}
