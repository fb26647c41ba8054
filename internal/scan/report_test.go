package scan

import "testing"

func TestByReadingOrder(t *testing.T) {
	in := []Finding{
		{Title: "low", Severity: Low, Confidence: Confirmed},
		{Title: "high possible", Severity: High, Confidence: Possible},
		{Title: "high confirmed", Severity: High, Confidence: Confirmed},
		{Title: "high possible 2", Severity: High, Confidence: Possible},
	}
	got := ByReadingOrder(in)
	want := []string{"high confirmed", "high possible", "high possible 2", "low"}
	for i, f := range got {
		if f.Title != want[i] {
			t.Fatalf("ByReadingOrder()[%d] = %q, want %q", i, f.Title, want[i])
		}
	}
	if in[0].Title != "low" {
		t.Errorf("ByReadingOrder changed its input")
	}
}

func TestStackString(t *testing.T) {
	tests := []struct {
		s    Stack
		want string
	}{
		{Stack{}, ""},
		{Stack{Framework: "flask", Datastore: "dynamodb", Server: "Werkzeug/2.2.2"}, "flask, dynamodb, server Werkzeug/2.2.2"},
		{Stack{Datastore: "postgresql"}, "postgresql"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.s, got, tt.want)
		}
	}
}
