package exposure

import "testing"

func TestLeaksIn(t *testing.T) {
	tests := []struct {
		name, key, value string
		want             string // class of the first leak, "" for none
	}{
		{"ssn under ssn key", "ssn", "219-09-9999", classSSN},
		{"ssn that cannot be issued", "ssn", "666-12-3456", ""},
		{"nine digits without context", "reference", "219099999", ""},
		{"card under card key", "card_number", "4539 5787 6362 1486", classCard},
		{"luhn-valid id", "order_id", "4111111111111111", ""},
		{"luhn-valid visa without key context", "value", "4111111111111111", classCard},
		{"luhn-invalid card", "card", "4111111111111112", ""},
		{"phone under phone key", "mobile", "+1 (555) 010-9999", classContact},
		{"digits under other key", "zip", "5550109999", ""},
		{"md5 under password key", "password", "5f4dcc3b5aa765d61d8327deb882cf99", classHash},
		{"md5 as etag", "etag", "5f4dcc3b5aa765d61d8327deb882cf99", ""},
		{"argon2", "h", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", classHash},
		{"jwt under token key", "access_token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln", ""},
		{"jwt elsewhere", "note", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln", classSecret},
		{"private ip", "host", "10.1.2.3", classIP},
		{"version string", "version", "10.1.2.3", ""},
		{"public ip", "host", "8.8.8.8", ""},
	}
	for _, tt := range tests {
		got := ""
		if ls := leaksIn(tt.key, tt.key, tt.value); len(ls) > 0 {
			got = ls[0].class
		}
		if got != tt.want {
			t.Errorf("%s: leaksIn(%q, %q) = %q, want %q", tt.name, tt.key, tt.value, got, tt.want)
		}
	}
}

func TestMask(t *testing.T) {
	if got, want := mask("Stripe live key", "sk_live_abcdefgh1234"), "[Stripe live key …1234]"; got != want {
		t.Errorf("mask = %q, want %q", got, want)
	}
	if got, want := mask("private key", "-----BEGIN PRIVATE KEY-----\nabc"), "[private key]"; got != want {
		t.Errorf("mask = %q, want %q", got, want)
	}
}
