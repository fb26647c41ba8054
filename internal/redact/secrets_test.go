package redact

import (
	"reflect"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	stripe := "sk_live_" + strings.Repeat("4eC39HqLyjWDarjtT1zdp7dc", 1)
	github := "ghp_" + strings.Repeat("a1B2c3D4e5", 3) + "F6g7H8"
	slack := "xoxb-1234567890-abcdefghij"
	tests := []struct {
		name string
		in   string
		want []string // kind:text
	}{
		{"stripe in json", `{"key":"` + stripe + `"}`, []string{KindStripe + ":" + stripe}},
		{"github and slack", "a " + github + " b " + slack, []string{KindGitHub + ":" + github, KindSlack + ":" + slack}},
		{"aws and jwt", testAWS + " " + testJWT, []string{KindAWSKey + ":" + testAWS, KindJWT + ":" + testJWT}},
		{"test-mode stripe key is not live", `sk_test_4eC39HqLyjWDarjtT1zdp7dc`, nil},
		{"prefix inside a word", `mask_live_4eC39HqLyjWDarjtT1zdp7dc`, nil},
		{"short github-like word", `ghp_short`, nil},
		{"plain text", `no secrets here`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, x := range Secrets(tt.in) {
				got = append(got, x.Kind+":"+x.Text(tt.in))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Secrets(%q) = %q, want %q", tt.in, got, tt.want)
			}
			red := String(tt.in)
			if len(tt.want) > 0 && len(Secrets(red)) != 0 {
				t.Errorf("String(%q) = %q, still holds secrets", tt.in, red)
			}
			if String(red) != red {
				t.Errorf("String is not idempotent on %q", red)
			}
		})
	}
}
