package inject

import (
	"net/http"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/scan"
)

func TestCreatedKey(t *testing.T) {
	t.Parallel()
	res := &property.Resource{Param: "username"}
	tests := []struct {
		name, answer, sent, location string
		want                         string
	}{
		{"key field of the answer", `{"status":"created","username":"merlon-1\";echo"}`, `{"username":"other"}`, "", `merlon-1";echo`},
		{"id in a data wrapper", `{"data":{"id":42}}`, `{}`, "", "42"},
		{"key field of the body sent", `{"status":"created"}`, `{"username":"merlon-2"}`, "", "merlon-2"},
		{"location header", `created`, `{}`, "/users/merlon%203", "merlon 3"},
		{"nowhere", `{"ok":true}`, `{"email":"a@example.com"}`, "", ""},
		{"an operator object is no key", `{"username":{"$ne":"x"}}`, `{"username":{"$ne":"x"}}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex := &scan.Exchange{Response: scan.RecordedResponse{Status: 201, Raw: []byte(tt.answer), Header: http.Header{}}}
			if tt.location != "" {
				ex.Response.Header.Set("Location", tt.location)
			}
			if got := createdKey(res, []byte(tt.sent), ex); got != tt.want {
				t.Errorf("createdKey(%s, %s, Location %q) = %q, want %q", tt.answer, tt.sent, tt.location, got, tt.want)
			}
		})
	}
}
