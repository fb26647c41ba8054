package inject

import (
	"encoding/json"
	"testing"

	"github.com/merlonsec/merlon/internal/fingerprint"
	"github.com/merlonsec/merlon/internal/scan"
)

// TestSignaturesFingerprint keeps the two lists in step: every error the
// SQL check takes as proof also makes fingerprinting name the same
// datastore, so the remediation a scan picks fits the proof, whether the
// message comes as text or inside a JSON string.
func TestSignaturesFingerprint(t *testing.T) {
	for _, s := range signatures {
		if db, _ := dbError(s.sample); db != s.db {
			t.Errorf("dbError(%q) = %q, want %q", s.sample, db, s.db)
		}
		j, _ := json.Marshal(map[string]string{"error": s.sample})
		for _, body := range []string{s.sample, string(j)} {
			var d fingerprint.Detector
			d.Observe(&scan.Exchange{Response: scan.RecordedResponse{Status: 500, Body: body}})
			if got := d.Stack().Datastore; got != s.db {
				t.Errorf("fingerprint of %s = %q, want %q", body, got, s.db)
			}
		}
	}
}

func TestNoSignatureInTypeErrors(t *testing.T) {
	// Parameterised queries fail on these too: they prove nothing.
	for _, body := range []string{
		`invalid input syntax for type integer: "1'"`,
		`sqlite3.IntegrityError: UNIQUE constraint failed: items.name`,
		`Conversion failed when converting the varchar value '1'' to data type int.`,
	} {
		if db, m := dbError(body); db != "" {
			t.Errorf("dbError(%q) = %q (%q), want no signature", body, db, m)
		}
	}
}
