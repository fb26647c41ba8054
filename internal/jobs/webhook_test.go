package jobs

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestSignKnownValue(t *testing.T) {
	// Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec
	const want = "v1=8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032"
	if got := Sign("whsec", 1700000000, []byte(`{"a":1}`)); got != want {
		t.Fatalf("Sign(whsec, 1700000000, {\"a\":1}) = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte(`{"event":"grade.drop"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := Sign("whsec", now.Unix(), body)
	tests := []struct {
		name, secret, ts, sig string
		body                  []byte
		now                   time.Time
		want                  error
	}{
		{"valid", "whsec", ts, good, body, now, nil},
		{"valid within tolerance", "whsec", ts, good, body, now.Add(4 * time.Minute), nil},
		{"rotated secrets", "whsec", ts, Sign("old", now.Unix(), body) + ", " + good, body, now, nil},
		{"wrong secret", "other", ts, good, body, now, ErrSignatureMismatch},
		{"body changed", "whsec", ts, good, []byte(`{"event":"none"}`), now, ErrSignatureMismatch},
		{"timestamp changed", "whsec", strconv.FormatInt(now.Unix()+1, 10), good, body, now, ErrSignatureMismatch},
		{"replayed later", "whsec", ts, good, body, now.Add(6 * time.Minute), ErrSignatureStale},
		{"from the future", "whsec", ts, good, body, now.Add(-6 * time.Minute), ErrSignatureStale},
		{"no signature", "whsec", ts, "", body, now, ErrSignatureMissing},
		{"unknown scheme", "whsec", ts, "v0=" + good[3:], body, now, ErrSignatureMissing},
		{"not hex", "whsec", ts, "v1=zz", body, now, ErrSignatureMissing},
		{"bad timestamp", "whsec", "yesterday", good, body, now, ErrSignatureMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.ts, tt.body, tt.sig, tt.now, 5*time.Minute)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify(%s) = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
}

func TestDefaultWebhookBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration
	}{{1, 10 * time.Second}, {2, 20 * time.Second}, {4, 80 * time.Second}, {20, time.Hour}}
	for _, tt := range tests {
		if got := DefaultWebhookBackoff(tt.attempt); got != tt.want {
			t.Errorf("DefaultWebhookBackoff(%d) = %s, want %s", tt.attempt, got, tt.want)
		}
	}
}
