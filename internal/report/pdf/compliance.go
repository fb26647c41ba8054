package pdf

import "github.com/merlonsec/merlon/internal/scan"

// A control names the requirements of an audit framework that a weakness
// in one OWASP category bears on. Auditors ask "which of our controls does
// this finding touch?"; the answer is guidance for them, not an attestation:
// whether a framework applies, and how, is the auditor's call.
type control struct {
	PCI  string // PCI DSS v4.0 requirements
	SOC2 string // SOC 2 Trust Services Criteria (2017, revised 2022)
}

// compliance returns the controls for an OWASP API Security Top 10 (2023)
// category, and false for a category Merlon does not know. The table is
// documented in docs/reports.md; keep both in step.
//
// PCI DSS 6.2.4 (software engineering techniques prevent common attacks)
// covers every category, since each is a class of attack on bespoke
// software; the other requirements name the control the weakness defeats.
func compliance(c scan.Category) (control, bool) {
	switch c {
	case scan.API1BOLA:
		return control{"6.2.4; 7.2.1, 7.2.2 (access by need to know)", "CC6.1, CC6.3"}, true
	case scan.API2BrokenAuthentication:
		return control{"6.2.4; 8.2, 8.3 (identification and strong authentication)", "CC6.1, CC6.2"}, true
	case scan.API3PropertyAuthorization:
		return control{"6.2.4; 7.2.1 (least privilege); 3.2 (stored account data kept to a minimum)", "CC6.1"}, true
	case scan.API4ResourceConsumption:
		return control{"6.2.4; 6.4.1, 6.4.2 (public-facing web applications protected)", "CC6.6; A1.1 (when Availability is in scope)"}, true
	case scan.API5BFLA:
		return control{"6.2.4; 7.2.1, 7.2.2 (access by job function)", "CC6.1, CC6.3"}, true
	case scan.API6BusinessFlows:
		return control{"6.2.4; 6.4.1, 6.4.2 (public-facing web applications protected)", "CC6.6, CC7.2"}, true
	case scan.API7SSRF:
		return control{"6.2.4; 1.3.2 (outbound traffic restricted)", "CC6.6"}, true
	case scan.API8Misconfiguration:
		return control{"2.2 (secure configuration); 4.2.1 (strong cryptography in transit); 6.2.4", "CC6.6, CC6.7, CC7.1"}, true
	case scan.API9Inventory:
		return control{"6.3.2 (inventory of bespoke software); 12.5.1 (inventory of system components)", "CC7.1, CC8.1"}, true
	case scan.API10UnsafeConsumption:
		return control{"6.2.4; 6.3.2 (third-party components)", "CC9.2 (vendor risk)"}, true
	}
	return control{}, false
}
