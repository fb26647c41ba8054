package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// HashPassword returns the bcrypt hash of password to keep in
// User.PasswordHash. bcrypt is slow on purpose, so a stolen database does
// not give passwords away cheaply.
func HashPassword(password string) (string, error) {
	if password == "" {
		return "", fmt.Errorf("hash password: %w", ErrInvalid)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether password matches a hash from HashPassword.
func CheckPassword(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// NewToken returns a random secret for a session cookie or an API token:
// 32 bytes from crypto/rand, URL-safe base64 without padding, behind a
// "mln_" prefix so a leaked token is easy to recognise and grep for.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	return "mln_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the hex SHA-256 of a token, the only form sessions and
// API tokens are stored in. Tokens carry 256 random bits, so a fast hash is
// enough: there is nothing to guess, only a database leak to make useless.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
