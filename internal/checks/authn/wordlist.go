package authn

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
)

// builtinSecrets are HMAC keys seen in tutorials, framework defaults,
// placeholders left in configuration and keys people type when in a
// hurry. It is short on purpose: it runs on every scan, and a longer list
// belongs in --jwt-wordlist.
var builtinSecrets = []string{
	"secret", "Secret", "SECRET", "secret1", "secret123", "secrets", "secretkey", "secret-key", "secret_key",
	"secretKey", "SECRET_KEY", "mysecret", "my-secret", "my_secret", "mysecretkey", "my-secret-key",
	"my_secret_key", "supersecret", "super-secret", "super_secret", "supersecretkey", "topsecret", "top-secret",
	"s3cr3t", "s3cret", "shhhhh", "jwt", "JWT", "jwtsecret", "jwt-secret", "jwt_secret", "jwtSecret",
	"JWT_SECRET", "jwtkey", "jwt-key", "jwt_key", "jwt_secret_key", "jwt-secret-key", "jwtsecretkey",
	"your-256-bit-secret", "your-384-bit-secret", "your-512-bit-secret", "your_jwt_secret", "your-jwt-secret",
	"yoursecret", "your-secret", "your_secret", "your-secret-key", "your_secret_key", "changeme", "change-me",
	"change_me", "changeit", "changethis", "change-this", "replaceme", "replace-me", "replace_me",
	"password", "Password", "password1", "password123", "passw0rd", "pass", "123456", "12345678",
	"1234567890", "qwerty", "abc123", "letmein", "welcome", "admin", "administrator", "root", "test",
	"testing", "test123", "dev", "development", "prod", "production", "default", "key", "mykey",
	"private", "privatekey", "private-key", "private_key", "token", "tokensecret", "token-secret",
	"token_secret", "access", "accesstoken", "access_token_secret", "refresh", "auth", "authsecret",
	"auth-secret", "auth_secret", "app", "appsecret", "app-secret", "app_secret", "api", "apikey",
	"api-key", "api_key", "apisecret", "api-secret", "api_secret", "keyboard cat", "keyboardcat",
	"hello", "helloworld", "hello-world", "example", "sample", "demo", "notasecret", "insecure",
	"unsafe", "node", "express", "flask", "django", "spring", "rails", "laravel",
}

// maxWordlist bounds a user wordlist, so a wrong file (a disk image) does
// not stall the scan.
const maxWordlist = 5_000_000

// ReadWordlist reads candidate JWT secrets, one a line, for
// --jwt-wordlist. Only the line ending (\n or \r\n) is stripped, since a
// secret may start or end with spaces; empty lines are skipped.
func ReadWordlist(r io.Reader) ([]string, error) {
	var words []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		w := strings.TrimSuffix(sc.Text(), "\r")
		if w == "" {
			continue
		}
		if len(words) >= maxWordlist {
			return nil, fmt.Errorf("wordlist has more than %d entries", maxWordlist)
		}
		words = append(words, w)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read wordlist: %w", err)
	}
	return words, nil
}

// WithWordlist returns a copy of checks in which the checks that guess
// JWT secrets also try words (read with ReadWordlist). Other checks are
// left as they are.
func WithWordlist(checks []scan.Check, words []string) []scan.Check {
	out := make([]scan.Check, len(checks))
	for i, c := range checks {
		switch c := c.(type) {
		case JWTWeakSecret:
			c.Wordlist = words
			out[i] = c
		case JWTExpiredAccepted:
			c.Wordlist = words
			out[i] = c
		default:
			out[i] = c
		}
	}
	return out
}
